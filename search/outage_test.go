package search_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/embedded"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
	"github.com/hearth-community/hearth/search"
)

// dbDocuments is what the index should hold: every kind scanned from PostgreSQL.
func dbDocuments(t *testing.T, e *testenv.AppEnv) map[string]search.Document {
	t.Helper()
	out := map[string]search.Document{}
	for _, k := range search.ForumKinds(e.DB) {
		for after := int64(0); ; {
			docs, next, err := k.Scan(context.Background(), after, 100)
			if err != nil {
				t.Fatal(err)
			}
			if next == 0 {
				break
			}
			for _, d := range docs {
				out[d.ID] = d
			}
			after = next
		}
	}
	return out
}

// TestIndexConvergesAfterMeilisearchOutage stops a private Meilisearch in the middle
// of a stream of forum writes and starts it again on the same data. Every write must
// succeed while it is down, and once it is back the index must converge to exactly
// the documents the database holds.
func TestIndexConvergesAfterMeilisearchOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := embedded.FindMeili(); err != nil {
		// The tests run in search/; the pinned build lives in the repository's tools/.
		if bin, _ := filepath.Abs(filepath.Join("..", embedded.MeiliNPMPath)); fileExists(bin) {
			os.Setenv("HEARTH_MEILI_BIN", bin)
		}
	}
	ms, err := embedded.StartMeili(ctx, dir, testenv.Logger(t))
	if err != nil {
		t.Fatalf("start Meilisearch: %v", err)
	}
	t.Cleanup(func() { _ = ms.Stop() })
	// The app talks to Meilisearch through a proxy, because a restarted server gets a
	// new port; while it is down the proxy answers 502, like an unreachable server.
	var target atomic.Pointer[url.URL]
	setTarget := func(raw string) { u, _ := url.Parse(raw); target.Store(u) }
	setTarget(ms.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target.Load()) },
		ErrorLog: log.New(io.Discard, "", 0)})
	t.Cleanup(proxy.Close)

	e := testenv.NewApp(t, func(d *app.Deps) { d.Search = search.NewClient(proxy.URL, ms.Key, "") })
	if err := demo.Seed(ctx, e.Auth, e.Forums, e.Partners, io.Discard); err != nil {
		t.Fatal(err)
	}
	ix := e.SearchIndexer
	ix.BaseBackoff, ix.MaxBackoff = 20*time.Millisecond, 300*time.Millisecond
	w := outbox.NewWorker(e.DB, "", ix.Handlers(), outbox.Options{Logger: testenv.Logger(t),
		PollInterval: 50 * time.Millisecond, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, MaxAttempts: 1000})
	bg, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = w.Run(bg) }()
	go ix.Run(bg)

	ids := map[string]int64{}
	for _, h := range []string{"alice", "bob", "moderator"} {
		var id int64
		e.DB.Raw("SELECT id FROM users WHERE email = ?", h+"@demo.hearth.local").Scan(&id)
		ids[h] = id
	}
	var cats struct{ Questions, Staff int64 }
	e.DB.Raw("SELECT (SELECT id FROM forum_categories WHERE slug = 'questions') AS questions, (SELECT id FROM forum_categories WHERE slug = 'staff') AS staff").Scan(&cats)
	alice, bob := forum.Actor{ID: ids["alice"], Role: "member"}, forum.Actor{ID: ids["bob"], Role: "member"}
	mod := forum.Actor{ID: ids["moderator"], Role: "moderator"}
	yes := true

	var threads []*forum.Thread
	var replies []*forum.Post
	for i := range 45 {
		switch i {
		case 12:
			if err := ms.Stop(); err != nil {
				t.Fatal(err)
			}
		case 33:
			ms2, err := embedded.StartMeili(ctx, dir, testenv.Logger(t))
			if err != nil {
				t.Fatalf("restart Meilisearch: %v", err)
			}
			t.Cleanup(func() { _ = ms2.Stop() })
			setTarget(ms2.URL)
		}
		var err error
		switch {
		case i%3 == 0:
			var th *forum.Thread
			th, _, err = e.Forum.CreateThread(ctx, alice, forum.NewThread{CategoryID: cats.Questions, Kind: forum.KindQuestion,
				Title: fmt.Sprintf("Outage thread number %d", i), Body: fmt.Sprintf("Body of outage thread %d.", i), Tags: []string{"outage"}}, "")
			threads = append(threads, th)
		case i%3 == 1:
			var p *forum.Post
			p, _, err = e.Forum.Reply(ctx, bob, threads[len(threads)-1].ID, forum.NewReply{Body: fmt.Sprintf("Reply %d.", i)}, "")
			replies = append(replies, p)
		case i%9 == 2:
			_, err = e.Forum.ModeratePost(ctx, mod, replies[len(replies)-1].ID, forum.PostChange{Hidden: &yes})
		case i%9 == 5:
			_, err = e.Forum.ModerateThread(ctx, mod, threads[len(threads)-2].ID, forum.ThreadChange{CategoryID: &cats.Staff})
		default:
			var first int64
			th := threads[len(threads)-1]
			e.DB.Raw("SELECT id FROM forum_posts WHERE thread_id = ? AND number = 1", th.ID).Scan(&first)
			title := fmt.Sprintf("Outage thread %d, edited at step %d", th.ID, i)
			_, err = e.Forum.EditPost(ctx, alice, first, forum.PostEdit{Body: fmt.Sprintf("Edited at step %d.", i), Title: &title})
		}
		if err != nil {
			t.Fatalf("write %d failed (Meilisearch down: %v): %v", i, i >= 12 && i < 33, err)
		}
		time.Sleep(40 * time.Millisecond)
	}

	want := dbDocuments(t, e)
	if len(want) < 25 {
		t.Fatalf("only %d documents expected", len(want))
	}
	deadline := time.Now().Add(90 * time.Second)
	var got map[string]search.Document
	for time.Now().Before(deadline) {
		var pending int64
		e.DB.Raw(`SELECT count(*) FROM outbox WHERE topic LIKE 'search.%' AND processed_at IS NULL`).Scan(&pending)
		if pending == 0 && ix.Flush(ctx) == nil {
			got = indexDocs(t, e.Search, e.Search.Index(search.Index))
			if reflect.DeepEqual(got, want) {
				if counter(t, e.Registry, "hearth_search_send_errors_total", "") == 0 {
					t.Fatal("no write to Meilisearch failed: the outage was not exercised")
				}
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for id, d := range want {
		if !reflect.DeepEqual(got[id], d) {
			t.Errorf("%s: index %+v\n           database %+v", id, got[id], d)
		}
	}
	t.Fatalf("index (%d documents) never converged to the database (%d)", len(got), len(want))
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

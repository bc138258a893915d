package search_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
	"github.com/hearth-community/hearth/search"
)

// senv is a full application on its own database and index prefix, seeded with the
// demo accounts and categories (no demo threads), with the search outbox handlers
// on a worker the test drives. Accounts are named by their e-mail's local part.
type senv struct {
	*testenv.AppEnv
	ix   *search.Indexer
	w    *outbox.Worker
	ids  map[string]int64
	role map[string]string
	tok  map[string]string
	cats map[string]int64
	// csrfCookie and csrfToken are one browser's double-submit pair for forms.
	csrfCookie *http.Cookie
	csrfToken  string
}

func newEnv(t testing.TB) *senv {
	t.Helper()
	e := &senv{AppEnv: testenv.NewApp(t)}
	cleanupIndexes(t, e.Search)
	e.seed(t)
	e.ix = search.NewIndexer(e.DB, search.NewMeiliBackend(e.Search), search.ForumKinds(e.DB), testenv.Logger(t), nil)
	// Like hearth serve's search lane: each claimed batch together, row by row on failure.
	e.w = outbox.NewWorker(e.DB, "", e.ix.Handlers(), outbox.Options{Logger: testenv.Logger(t),
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Together: e.ix.HandleBatch})
	return e
}

// seed adds the demo accounts and categories and learns their ids.
func (e *senv) seed(t testing.TB) {
	t.Helper()
	e.ids, e.role, e.tok, e.cats = map[string]int64{}, map[string]string{}, map[string]string{}, map[string]int64{}
	if err := demo.Seed(context.Background(), e.Auth, e.Forums, e.Partners, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, l := range demo.Logins {
		name, _, _ := strings.Cut(l.Email, "@")
		var id int64
		e.DB.Raw("SELECT id FROM users WHERE email = ?", l.Email).Scan(&id)
		e.ids[name], e.role[name] = id, string(l.Role)
	}
	var cats []struct {
		ID   int64
		Slug string
	}
	e.DB.Raw("SELECT id, slug FROM forum_categories").Scan(&cats)
	for _, c := range cats {
		e.cats[c.Slug] = c.ID
	}
}

// cleanupIndexes deletes the test's indexes from the shared Meilisearch at the end.
func cleanupIndexes(t testing.TB, c *search.Client) {
	t.Cleanup(func() {
		res, err := c.Meili.ListIndexes(&meilisearch.IndexesQuery{Limit: 1000})
		if err != nil {
			return
		}
		for _, ix := range res.Results {
			if strings.HasPrefix(ix.UID, c.Prefix) {
				_, _ = c.Meili.DeleteIndex(ix.UID)
			}
		}
	})
}

// login returns a bearer token for a demo account.
func (e *senv) login(t testing.TB, who string) string {
	t.Helper()
	if who == "" {
		return ""
	}
	if tok, ok := e.tok[who]; ok {
		return tok
	}
	e.tok[who], _ = e.Login(t, who+"@demo.hearth.local", demo.Password)
	return e.tok[who]
}

func (e *senv) actor(who string) forum.Actor {
	return forum.Actor{ID: e.ids[who], Role: e.role[who]}
}

// settle runs the search outbox rows and waits until Meilisearch applied them.
func (e *senv) settle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		n, err := e.w.ProcessBatch(ctx)
		if err != nil {
			t.Fatalf("outbox: %v", err)
		}
		if n == 0 {
			break
		}
	}
	if err := e.ix.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	var failed []string
	e.DB.Raw(`SELECT topic || ': ' || last_error FROM outbox WHERE topic LIKE 'search.%' AND processed_at IS NULL`).Scan(&failed)
	if len(failed) > 0 {
		t.Fatalf("search outbox rows not processed: %v", failed)
	}
}

func (e *senv) thread(t testing.TB, who, cat, title, body string, tags ...string) *forum.Thread {
	t.Helper()
	th, _, err := e.Forum.CreateThread(context.Background(), e.actor(who),
		forum.NewThread{CategoryID: e.cats[cat], Kind: forum.KindQuestion, Title: title, Body: body, Tags: tags}, "")
	if err != nil {
		t.Fatalf("create thread %q: %v", title, err)
	}
	return th
}

func (e *senv) reply(t testing.TB, who string, thread int64, body string) *forum.Post {
	t.Helper()
	p, _, err := e.Forum.Reply(context.Background(), e.actor(who), thread, forum.NewReply{Body: body}, "")
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	return p
}

// docs returns every document in the live index, by id.
func (e *senv) docs(t testing.TB) map[string]search.Document {
	t.Helper()
	return indexDocs(t, e.Search, e.Search.Index(search.Index))
}

func indexDocs(t testing.TB, c *search.Client, index string) map[string]search.Document {
	t.Helper()
	var res meilisearch.DocumentsResult
	if err := c.Meili.Index(index).GetDocuments(&meilisearch.DocumentsQuery{Limit: 10000}, &res); err != nil {
		t.Fatalf("get documents: %v", err)
	}
	out := map[string]search.Document{}
	for _, h := range res.Results {
		var d search.Document
		if err := h.DecodeInto(&d); err != nil {
			t.Fatal(err)
		}
		out[d.ID] = d
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// api searches through the HTTP API as who.
func (e *senv) api(t testing.TB, who, path string) *testenv.Response {
	t.Helper()
	r := e.API(t, http.MethodGet, path, nil, e.login(t, who))
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s as %q: %d %s", path, who, r.Status, r.Body)
	}
	return r
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// cookies are who's browser session: a CSRF cookie and token from a real page, and
// for members the session's access cookie.
func (e *senv) cookies(t testing.TB, who string) []*http.Cookie {
	t.Helper()
	if e.csrfCookie == nil {
		r := e.Page(t, "/login")
		m := csrfField.FindSubmatch(r.Body)
		if m == nil || r.Cookies["hearth_csrf"] == nil {
			t.Fatal("/login: no CSRF token in page or cookie")
		}
		e.csrfCookie, e.csrfToken = r.Cookies["hearth_csrf"], string(m[1])
	}
	cs := []*http.Cookie{e.csrfCookie}
	if who != "" {
		cs = append(cs, &http.Cookie{Name: auth.AccessCookie, Value: e.login(t, who)})
	}
	return cs
}

// form posts a web form with its CSRF token as who.
func (e *senv) form(t testing.TB, who, path string, v url.Values) *testenv.Response {
	t.Helper()
	cs := e.cookies(t, who)
	v.Set("_csrf", e.csrfToken)
	return e.Form(t, path, v, cs...)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func testenvEscape(s string) string { return url.QueryEscape(s) }

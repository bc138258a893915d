package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
	"github.com/hearth-community/hearth/search"
)

// newFallbackEnv is the application as HEARTH_SEARCH=postgres builds it: no
// Meilisearch client at all.
func newFallbackEnv(t *testing.T) *senv {
	t.Helper()
	e := &senv{AppEnv: testenv.NewApp(t, func(d *app.Deps) { d.Search = nil })}
	e.seed(t)
	e.ix = e.SearchIndexer
	e.w = outbox.NewWorker(e.DB, "", e.ix.Handlers(), outbox.Options{Logger: testenv.Logger(t),
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	return e
}

// TestPostgresFallback serves the same API from PostgreSQL full-text search: the
// same visibility, filters and facets, Chinese by bigrams, and a note that quality
// is lower.
func TestPostgresFallback(t *testing.T) {
	t.Parallel()
	e := newFallbackEnv(t)
	zhs := e.thread(t, "wang", "questions", "请问客户关系管理系统怎么导出数据", "我们公司正在使用客户关系管理系统来跟踪销售线索。", "crm")
	zht := e.thread(t, "li", "questions", "請問客戶關係管理系統怎麼匯出資料", "我們公司正在使用客戶關係管理系統來追蹤銷售線索。")
	en := e.thread(t, "alice", "questions", "Exporting from the customer relationship manager", "We track every relationship & <b>sales</b> lead in it.", "crm")
	rep := e.reply(t, "bob", en.ID, "Use the relationship export button.")
	staff := e.thread(t, "moderator", "staff", "Relationship plans for next year", "Internal relationship roadmap.")
	e.settle(t)
	S, T, E := search.DocID("thread", zhs.ID), search.DocID("thread", zht.ID), search.DocID("thread", en.ID)
	R, X := search.DocID("post", rep.ID), search.DocID("thread", staff.ID)

	cases := []struct {
		who, query string
		want       []string
	}{
		{"", "q=" + testenvEscape("关系"), []string{S}},
		{"", "q=" + testenvEscape("關係"), []string{T}},
		{"", "q=" + testenvEscape("管理系统"), []string{S}},
		{"", "q=relationship", []string{E, R}},
		{"", "q=relationships+export", []string{E, R}}, // English stemming: exporting, export
		{"moderator", "q=relationship", []string{E, R, X}},
		{"admin", "q=relationship&kind=thread", []string{E, X}},
		{"", "tag=crm&sort=newest", []string{E, S, R}}, // replies carry their thread's tags
		{"", "q=relationship&author=bob", []string{R}},
	}
	for _, c := range cases {
		r := e.search(t, c.who, c.query)
		got, want := r.ids(), slices.Clone(c.want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || r.Engine != "postgres" || !r.Degraded || r.Total != int64(len(want)) {
			t.Errorf("%s as %q: %v (total %d, %s), want %v", c.query, c.who, got, r.Total, r.Engine, want)
		}
	}
	r := e.search(t, "", "q=relationship")
	if len(r.Facets["kind"]) != 2 || len(r.Facets["category"]) != 1 {
		t.Errorf("facets: %+v", r.Facets)
	}
	for _, h := range r.Hits {
		if h.ID == E && (!strings.Contains(h.TitleHTML, "<mark>relationship</mark>") || strings.Contains(h.SnippetHTML, "<b>")) {
			t.Errorf("highlights: %q / %q", h.TitleHTML, h.SnippetHTML)
		}
	}
	if ids := hitIDs(t, e.api(t, "", "/api/v1/search/suggest?q=exporting+from+the+cust").Body); !slices.Equal(ids, []string{E}) {
		t.Errorf("suggest (prefix): %v", ids)
	}
	if ids := hitIDs(t, e.api(t, "", "/api/v1/search/similar?title=relationship+manager+crash").Body); !slices.Equal(ids, []string{E}) {
		t.Errorf("similar: %v", ids)
	}
	page := string(e.Page(t, "/search?q=relationship").Body)
	if !strings.Contains(page, `id="search-degraded"`) {
		t.Error("the search page does not say the fallback is lower quality")
	}
	// Hiding removes the row; the GIN index is off the pending-list trap.
	yes := true
	if _, err := e.Forum.ModerateThread(context.Background(), e.actor("moderator"), en.ID, forum.ThreadChange{Hidden: &yes}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if ids := e.search(t, "", "q=relationship").ids(); len(ids) != 0 {
		t.Errorf("hidden thread still found: %v", ids)
	}
	var opts string
	e.DB.Raw(`SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'search_documents_tsv'`).Scan(&opts)
	if opts != "fastupdate=off" {
		t.Errorf("GIN index options %q, want fastupdate=off", opts)
	}
}

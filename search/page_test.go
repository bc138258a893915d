package search_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSearchPageWorksWithoutScript renders the page as a plain GET form would, in
// English and Chinese, with facet links and pagination that are ordinary links; the
// header carries the search box and the script only enhances it.
func TestSearchPageWorksWithoutScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 3 {
		th := e.thread(t, "alice", "questions", "Walrus adapter question "+string(rune('A'+i)), "The walrus adapter.", "walrus")
		e.reply(t, "bob", th.ID, "Walrus answer.")
	}
	e.settle(t)

	home := string(e.Page(t, "/").Body)
	for _, want := range []string{`action="/search"`, `name="q"`, `data-suggest="/search/suggest"`, `<script src="/static/js/search.js" defer></script>`} {
		if !strings.Contains(home, want) {
			t.Errorf("header lacks %s", want)
		}
	}
	if r := e.Page(t, "/static/js/search.js"); r.Status != 200 || !strings.Contains(string(r.Body), "data-similar") {
		t.Errorf("script: %d", r.Status)
	}
	if c := string(e.Page(t, "/new", e.cookies(t, "alice")...).Body); !strings.Contains(c, `data-similar="/search/similar"`) || !strings.Contains(c, `data-for="f-title"`) {
		t.Error("compose page has no similar-threads box")
	}

	empty := e.Page(t, "/search")
	if empty.Status != 200 || strings.Contains(string(empty.Body), `id="search-count"`) {
		t.Errorf("empty search page: %d", empty.Status)
	}
	p := string(e.Page(t, "/search?q=walrus&per_page=2").Body)
	for _, want := range []string{`id="search-count">6 results`, `<mark>Walrus</mark>`, `rel="next"`,
		`href="/search?kind=post&amp;per_page=2&amp;q=walrus"`, `href="/search?per_page=2&amp;q=walrus&amp;tag=walrus"`} {
		if !strings.Contains(p, want) {
			t.Errorf("results page lacks %s", want)
		}
	}
	// A facet link narrows the results and marks itself active.
	p = string(e.Page(t, "/search?q=walrus&kind=thread").Body)
	if !strings.Contains(p, `id="search-count">3 results`) || !strings.Contains(p, `aria-current="true"`) {
		t.Error("kind facet did not narrow to threads")
	}
	req := httptest.NewRequest(http.MethodGet, "/search?q=walrus", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "zh-CN")
	zh := string(e.Do(t, req).Body)
	if !strings.Contains(zh, "共 6 条结果") || !strings.Contains(zh, "筛选") {
		t.Error("search page not in Chinese")
	}
	if r := e.Page(t, "/search?q=walrus&sort=sideways"); r.Status != 422 || !strings.Contains(string(r.Body), "form-error") {
		t.Errorf("bad sort on the page: %d", r.Status)
	}
}

package search_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/search"
)

type apiResults struct {
	Total int64 `json:"total"`
	Page  int   `json:"page"`
	Pages int   `json:"pages"`
	Hits  []struct {
		ID          string `json:"id"`
		Kind        string `json:"kind"`
		Title       string `json:"title"`
		TitleHTML   string `json:"title_html"`
		SnippetHTML string `json:"snippet_html"`
		Author      string `json:"author"`
		Solved      bool   `json:"solved"`
		Score       int    `json:"score"`
	} `json:"hits"`
	Facets map[string][]struct {
		Value string `json:"value"`
		Label string `json:"label"`
		Count int64  `json:"count"`
	} `json:"facets"`
	Engine   string `json:"engine"`
	Degraded bool   `json:"degraded"`
}

func (e *senv) search(t *testing.T, who, query string) apiResults {
	t.Helper()
	var r apiResults
	if err := json.Unmarshal(e.api(t, who, "/api/v1/search?"+query).Body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r apiResults) ids() []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

// setThread changes thread columns behind the forum's back (dates, scores) and
// enqueues its re-indexing, as a migration or an import would.
func (e *senv) setThread(t *testing.T, id int64, cols map[string]any) {
	t.Helper()
	err := db.InTx(context.Background(), e.DB, func(ctx context.Context) error {
		if err := db.Conn(ctx, e.DB).Table("forum_threads").Where("id = ?", id).Updates(cols).Error; err != nil {
			return err
		}
		return search.Enqueue(ctx, e.DB, search.TopicThread, "thread_id", id)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// corpus is three threads about capacitors (one solved, one old, one popular) and
// replies, by different authors, in two categories.
func corpus(t *testing.T, e *senv) (solved, old, popular *forum.Thread) {
	t.Helper()
	ctx := context.Background()
	solved = e.thread(t, "alice", "questions", "Capacitor bulges after charging", "The capacitor on my charger bulges.", "charger")
	answer := e.reply(t, "bob", solved.ID, "Replace the capacitor, it is a known defect.")
	if _, err := e.Forum.Accept(ctx, e.actor("alice"), solved.ID, answer.ID); err != nil {
		t.Fatal(err)
	}
	old = e.thread(t, "bob", "questions", "Old capacitor question from 2020", "Capacitor values for the 2019 model?", "legacy")
	popular = e.thread(t, "wang", "ideas", "Idea: a bigger capacitor for the dock", "A bigger capacitor would help the dock.", "dock")
	e.reply(t, "li", popular.ID, "Yes, and a capacitor indicator light.")
	e.settle(t)
	e.setThread(t, solved.ID, map[string]any{"created_at": "2025-01-01T00:00:00Z"})
	e.setThread(t, old.ID, map[string]any{"created_at": "2020-03-01T00:00:00Z"})
	e.setThread(t, popular.ID, map[string]any{"score": 42, "created_at": "2025-06-01T00:00:00Z"})
	e.settle(t)
	return solved, old, popular
}

// TestQueryFiltersFacetsSortPages exercises the API's query language end to end.
func TestQueryFiltersFacetsSortPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	solved, old, popular := corpus(t, e)
	tid := func(th *forum.Thread) string { return search.DocID("thread", th.ID) }

	// Without a facets parameter the API counts every group but tags.
	if r := e.search(t, "", "q=capacitor"); r.Total != 5 || len(r.Facets["tags"]) != 0 || len(r.Facets["kind"]) != 2 ||
		len(r.Facets["status"]) != 2 || len(r.Facets["category"]) == 0 {
		t.Errorf("q=capacitor, default facets: %+v", r)
	}
	all := e.search(t, "", "q=capacitor&facets=kind,category,tags,status")
	if all.Total != 5 || all.Engine != "meilisearch" || all.Degraded {
		t.Fatalf("q=capacitor: %+v", all)
	}
	facet := func(name string) map[string]int64 {
		m := map[string]int64{}
		for _, f := range all.Facets[name] {
			m[f.Value] = f.Count
		}
		return m
	}
	if k := facet("kind"); k["thread"] != 3 || k["post"] != 2 {
		t.Errorf("kind facet: %v", k)
	}
	if s := facet("status"); s["solved"] != 2 || s["unsolved"] != 3 {
		t.Errorf("status facet: %v", s)
	}
	if tg := facet("tags"); tg["charger"] != 2 || tg["dock"] != 2 || tg["legacy"] != 1 {
		t.Errorf("tags facet: %v", tg)
	}
	for _, f := range all.Facets["category"] {
		if f.Label == "" {
			t.Errorf("category facet without label: %+v", f)
		}
	}
	// A category search has Meilisearch count no categories: the facet holds the one
	// category with the number of matches, as counted without the filter; the other
	// groups are counted as ever.
	ideas := e.search(t, "", "q=capacitor&category=ideas")
	if c := ideas.Facets["category"]; ideas.Total != 2 || len(c) != 1 || c[0].Value != itoa(e.cats["ideas"]) ||
		c[0].Count != facet("category")[itoa(e.cats["ideas"])] || c[0].Label == "" || len(ideas.Facets["kind"]) != 2 {
		t.Errorf("category=ideas facets: %+v", ideas)
	}
	if r := e.search(t, "", "q=capacitor&category=ideas&kind=thread&facets=category"); len(r.Facets["category"]) != 1 ||
		r.Facets["category"][0].Count != 1 || len(r.Facets["kind"]) != 0 {
		t.Errorf("category=ideas&kind=thread&facets=category: %+v", r.Facets)
	}
	// Clients choose the facet groups they show, or none.
	if r := e.search(t, "", "q=capacitor&facets=none"); r.Total != 5 || len(r.Facets["kind"])+len(r.Facets["tags"])+
		len(r.Facets["category"])+len(r.Facets["status"]) != 0 {
		t.Errorf("facets=none: %+v", r.Facets)
	}
	if r := e.search(t, "", "q=capacitor&facets=tags,status"); len(r.Facets["tags"]) != 3 || len(r.Facets["status"]) != 2 ||
		len(r.Facets["kind"]) != 0 || len(r.Facets["category"]) != 0 {
		t.Errorf("facets=tags,status: %+v", r.Facets)
	}
	// Typos are tolerated.
	if r := e.search(t, "", "q=capacitr+bulgs"); len(r.Hits) == 0 || r.Hits[0].ID != tid(solved) {
		t.Errorf("typo query: %v", r.ids())
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"q=capacitor&kind=thread&sort=newest", []string{tid(popular), tid(solved), tid(old)}},
		{"q=capacitor&kind=thread&sort=votes", []string{tid(popular), tid(solved), tid(old)}}, // 42, 1 (accepted), 0
		{"q=capacitor&status=solved&kind=thread", []string{tid(solved)}},
		{"q=capacitor&solved=true&kind=thread", []string{tid(solved)}},
		{"q=capacitor&tag=legacy", []string{tid(old)}},
		{"q=capacitor&author=wang", []string{tid(popular)}},
		{"q=capacitor&category=ideas&kind=thread", []string{tid(popular)}},
		{"q=capacitor&kind=thread&to=2020-12-31", []string{tid(old)}},
		{"kind=thread&from=2021-01-01&sort=newest", []string{tid(popular), tid(solved)}},
	}
	for _, c := range cases {
		got := e.search(t, "", c.query).ids()
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	// Pagination: two pages of two and a third of one, no hit twice.
	seen := map[string]bool{}
	for p := 1; p <= 3; p++ {
		r := e.search(t, "", "q=capacitor&per_page=2&page="+string(rune('0'+p)))
		if r.Pages != 3 || r.Page != p || len(r.Hits) != min(2, 5-2*(p-1)) {
			t.Fatalf("page %d: %+v", p, r)
		}
		for _, id := range r.ids() {
			if seen[id] {
				t.Fatalf("page %d repeats %s", p, id)
			}
			seen[id] = true
		}
	}
	for _, bad := range []string{"sort=best", "kind=idea", "status=closed", "per_page=500", "from=yesterday",
		"from=2024-02-01&to=2024-01-01", "solved=maybe", "page=0", "facets=authors", "q=" + strings.Repeat("x", 201)} {
		r := e.API(t, "GET", "/api/v1/search?"+bad, nil, "")
		if r.Status != 422 || len(r.Fields(t)) == 0 {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
}

// TestHighlightsAreEscaped puts markup in titles and bodies: the only markup in the
// results must be our <mark> elements.
func TestHighlightsAreEscaped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.thread(t, "alice", "questions", `<script>alert("x")</script> wombat & <b>bold</b>`,
		"The `<img src=x onerror=alert(1)>` wombat tag <iframe src=//evil></iframe> and \uE000fake\uE001 marks.")
	e.settle(t)
	r := e.search(t, "", "q=wombat")
	if len(r.Hits) != 1 {
		t.Fatalf("hits: %+v", r)
	}
	h := r.Hits[0]
	for _, s := range []string{h.TitleHTML, h.SnippetHTML} {
		rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
		if strings.ContainsAny(rest, "<>") || !strings.Contains(s, "<mark>wombat</mark>") {
			t.Errorf("unsafe or unmarked highlight: %q", s)
		}
	}
	if !strings.Contains(h.TitleHTML, "&lt;script&gt;") || strings.Contains(h.SnippetHTML, "<mark>fake") {
		t.Errorf("escaping: %q / %q", h.TitleHTML, h.SnippetHTML)
	}
	page := string(e.Page(t, "/search?q=wombat").Body)
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") ||
		!strings.Contains(page, "<mark>wombat</mark>") {
		t.Errorf("search page is not escaped:\n%s", page)
	}
}

// TestSuggestAndSimilar: titles as one types, and similar threads with solved
// questions first.
func TestSuggestAndSimilar(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	unsolved := e.thread(t, "bob", "questions", "Headset microphone crackles on calls", "It crackles.")
	solved := e.thread(t, "alice", "questions", "Microphone crackles in the headset", "Crackling mic.")
	ans := e.reply(t, "bob", solved.ID, "Update the firmware.")
	if _, err := e.Forum.Accept(context.Background(), e.actor("alice"), solved.ID, ans.ID); err != nil {
		t.Fatal(err)
	}
	e.thread(t, "wang", "questions", "Battery drains overnight", "Battery question.")
	e.settle(t)
	var sug struct {
		Hits []struct {
			Title, URL string
			TitleHTML  string `json:"title_html"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(e.api(t, "", "/api/v1/search/suggest?q=headset+micro").Body, &sug); err != nil {
		t.Fatal(err)
	}
	if len(sug.Hits) != 2 || !strings.HasPrefix(sug.Hits[0].URL, "/t/") || !strings.Contains(sug.Hits[0].TitleHTML, "<mark>") {
		t.Fatalf("suggest: %+v", sug)
	}
	var sim struct {
		Hits []struct {
			URL    string
			Solved bool
		} `json:"hits"`
	}
	if err := json.Unmarshal(e.api(t, "", "/api/v1/search/similar?title=My+headset+microphone+crackles").Body, &sim); err != nil {
		t.Fatal(err)
	}
	if len(sim.Hits) != 2 || !sim.Hits[0].Solved || sim.Hits[0].URL == sim.Hits[1].URL ||
		!strings.Contains(sim.Hits[0].URL, "/t/"+itoa(solved.ID)+"/") || !strings.Contains(sim.Hits[1].URL, "/t/"+itoa(unsolved.ID)+"/") {
		t.Fatalf("similar, solved first: %+v", sim)
	}
	// The page script's cookie-session twins answer the same.
	if r := e.Page(t, "/search/suggest?q=battery"); r.Status != 200 || !strings.Contains(string(r.Body), "Battery drains") {
		t.Fatalf("/search/suggest: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, "", "/api/v1/search/suggest?q="); !strings.Contains(string(r.Body), `"hits":[]`) {
		t.Fatalf("empty suggest: %s", r.Body)
	}
}

// TestSearchBeforeAnythingIsIndexed: a fresh install answers with no hits, not an error.
func TestSearchBeforeAnythingIsIndexed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/api/v1/search?q=anything", "/api/v1/search/suggest?q=any", "/api/v1/search/similar?title=anything+at+all"} {
		if r := e.api(t, "", path); !strings.Contains(string(r.Body), `"hits":[]`) {
			t.Errorf("%s: %s", path, r.Body)
		}
	}
}

package search_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/search"
)

// TestStaffManageSynonyms: staff edit synonym groups through the API and the page;
// they are stored in PostgreSQL and pushed to Meilisearch by the outbox, where they
// change what a search finds. Others are refused.
func TestStaffManageSynonyms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.thread(t, "alice", "questions", "My earbuds disconnect", "The earbuds lose the connection.")
	e.settle(t)
	if r := e.search(t, "", "q=earphones"); len(r.Hits) != 0 {
		t.Fatalf("earphones found before any synonym: %v", r.ids())
	}
	for who, status := range map[string]int{"": 401, "alice": 403, "partner": 403} {
		if r := e.API(t, http.MethodPost, "/api/v1/search/synonyms", map[string]any{"terms": []string{"a1", "b1"}}, e.login(t, who)); r.Status != status {
			t.Errorf("create as %q: %d", who, r.Status)
		}
	}
	tok := e.login(t, "marketer")
	r := e.API(t, http.MethodPost, "/api/v1/search/synonyms", map[string]any{"terms": []string{"Earbuds", "earphones", "耳机", "earbuds"}}, tok)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := int64(r.JSON(t)["id"].(float64))
	if terms := r.JSON(t)["terms"].([]any); len(terms) != 3 || terms[0] != "earbuds" {
		t.Fatalf("terms not normalized: %v", terms)
	}
	e.settle(t)
	if r := e.search(t, "", "q=earphones"); len(r.Hits) != 1 || r.Hits[0].ID != search.DocID("thread", th.ID) {
		t.Fatalf("earphones with the synonym group: %v", r.ids())
	}
	syn, err := e.Search.Meili.Index(e.Search.Index(search.Index)).GetSynonyms()
	if err != nil || len((*syn)["耳机"]) != 2 {
		t.Fatalf("synonyms in Meilisearch: %v %v", syn, err)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/search/synonyms", map[string]any{"terms": []string{"alone"}}, tok); r.Status != 422 || r.Fields(t)["terms"] == "" {
		t.Errorf("a one-term group: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodPut, "/api/v1/search/synonyms/"+itoa(id), map[string]any{"terms": []string{"earbuds", "headphones"}}, tok); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodGet, "/api/v1/search/synonyms", nil, tok); !strings.Contains(string(r.Body), "headphones") {
		t.Fatalf("list: %s", r.Body)
	}
	e.settle(t)
	if r := e.search(t, "", "q=earphones"); len(r.Hits) != 0 {
		t.Fatalf("earphones after the group changed: %v", r.ids())
	}
	if r := e.API(t, http.MethodDelete, "/api/v1/search/synonyms/"+itoa(id), nil, tok); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := e.API(t, http.MethodDelete, "/api/v1/search/synonyms/"+itoa(id), nil, tok); r.Status != 404 {
		t.Fatalf("delete again: %d", r.Status)
	}

	// The staff page: listed, created by form, refused to members.
	if p := e.Page(t, "/admin/search/synonyms", e.cookies(t, "alice")...); p.Status != 403 {
		t.Errorf("page as a member: %d", p.Status)
	}
	f := e.form(t, "moderator", "/admin/search/synonyms", url.Values{"terms": {"crm, 客户关系管理"}})
	if f.Status != 303 {
		t.Fatalf("form create: %d %s", f.Status, f.Body)
	}
	p := e.Page(t, "/admin/search/synonyms", e.cookies(t, "moderator")...)
	if p.Status != 200 || !strings.Contains(string(p.Body), "crm, 客户关系管理") {
		t.Fatalf("page: %d", p.Status)
	}
	if f := e.form(t, "moderator", "/admin/search/synonyms", url.Values{"terms": {"solo"}}); f.Status != 422 || !strings.Contains(string(f.Body), "two to twenty") {
		t.Errorf("form with one term: %d", f.Status)
	}
	e.settle(t)
	syn, _ = e.Search.Meili.Index(e.Search.Index(search.Index)).GetSynonyms()
	if len(*syn) != 2 || (*syn)["crm"][0] != "客户关系管理" {
		t.Fatalf("synonyms after the form: %v", *syn)
	}
}

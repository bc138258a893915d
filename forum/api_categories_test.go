package forum_test

import (
	"fmt"
	"net/http"
	"testing"
)

type categoryJSON struct {
	ID        int64    `json:"id"`
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	ReadRoles []string `json:"read_roles"`
	PostRoles []string `json:"post_roles"`
}

func categorySlugs(t *testing.T, e *fenv, who string) map[string]bool {
	t.Helper()
	r := must(t, e.call(t, http.MethodGet, "/api/v1/categories", nil, who), http.StatusOK, "categories as "+who)
	out := map[string]bool{}
	for _, c := range decode[struct {
		Categories []categoryJSON `json:"categories"`
	}](t, r).Categories {
		out[c.Slug] = true
	}
	return out
}

func TestCategoriesListByRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		who   string
		staff bool
	}{{"", false}, {"alice", false}, {"partner", false}, {"moderator", true}, {"marketer", true}, {"admin", true}} {
		got := categorySlugs(t, e, tc.who)
		if !got["questions"] || !got["announcements"] || !got["ideas"] || !got["offers"] {
			t.Errorf("%q: public categories missing: %v", tc.who, got)
		}
		if got["staff"] != tc.staff {
			t.Errorf("%q sees the staff category: %v, want %v", tc.who, got["staff"], tc.staff)
		}
	}
}

func TestCreateCategoryAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid := map[string]any{"slug": "events", "name": "Events", "read_roles": []string{"everyone"}, "post_roles": []string{"member"}}
	if r := e.call(t, http.MethodPost, "/api/v1/categories", valid, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("visitor: %d", r.Status)
	}
	for _, who := range []string{"moderator", "marketer", "alice", "partner"} {
		mustErr(t, e.call(t, http.MethodPost, "/api/v1/categories", valid, who), http.StatusForbidden, "", "create as "+who)
	}
	if categorySlugs(t, e, "admin")["events"] {
		t.Fatal("a refused request created the category")
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"slug with capitals and space", map[string]any{"slug": "Bad Slug!", "name": "Bad"}, "slug"},
		{"one-letter slug", map[string]any{"slug": "x", "name": "Bad"}, "slug"},
		{"slug starting with a hyphen", map[string]any{"slug": "-abc", "name": "Bad"}, "slug"},
		{"empty name", map[string]any{"slug": "fine-slug", "name": " "}, "name"},
		{"unknown read role", map[string]any{"slug": "fine-slug", "name": "Fine", "read_roles": []string{"robots"}}, "read_roles"},
		{"unknown post role", map[string]any{"slug": "fine-slug", "name": "Fine", "post_roles": []string{"everyone"}}, "post_roles"},
	} {
		mustErr(t, e.call(t, http.MethodPost, "/api/v1/categories", tc.body, "admin"), http.StatusUnprocessableEntity, tc.field, tc.name)
	}
	r := must(t, e.call(t, http.MethodPost, "/api/v1/categories", valid, "admin"), http.StatusCreated, "admin creates")
	c := decode[categoryJSON](t, r)
	if c.ID == 0 || c.Slug != "events" || c.Name != "Events" || len(c.PostRoles) != 1 || c.PostRoles[0] != "member" {
		t.Fatalf("created: %+v", c)
	}
	if !categorySlugs(t, e, "")["events"] {
		t.Fatal("new public category not listed for visitors")
	}
	dup := map[string]any{"slug": "questions", "name": "Again", "post_roles": []string{"member"}}
	mustErr(t, e.call(t, http.MethodPost, "/api/v1/categories", dup, "admin"), http.StatusConflict, "slug", "duplicate slug")
	// members may now start threads there
	e.cats["events"] = c.ID
	e.newThread(t, "alice", "events", "discussion", "Meet-up in Berlin next week", "Who is coming?")
}

// A category nobody but admins posts in (post_roles left out) is valid input.
func TestCreateCategoryWithoutPostRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.call(t, http.MethodPost, "/api/v1/categories", map[string]any{"slug": "changelog", "name": "Changelog"}, "admin")
	must(t, r, http.StatusCreated, "create category without post_roles")
	if !categorySlugs(t, e, "")["changelog"] {
		t.Fatal("category without post_roles not listed")
	}
}

func TestUpdateCategoryAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := fmt.Sprintf("/api/v1/categories/%d", e.cats["ideas"])
	change := map[string]any{"slug": "ideas", "name": "Ideas Board", "read_roles": []string{"everyone"},
		"post_roles": []string{"member", "moderator"}, "position": 7}
	if r := e.call(t, http.MethodPatch, path, change, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("visitor: %d", r.Status)
	}
	for _, who := range []string{"moderator", "marketer", "alice", "partner"} {
		mustErr(t, e.call(t, http.MethodPatch, path, change, who), http.StatusForbidden, "", "update as "+who)
	}
	bad := map[string]any{"slug": "Not OK", "name": "Ideas"}
	mustErr(t, e.call(t, http.MethodPatch, path, bad, "admin"), http.StatusUnprocessableEntity, "slug", "bad slug")
	dup := map[string]any{"slug": "questions", "name": "Ideas", "post_roles": []string{"member"}}
	mustErr(t, e.call(t, http.MethodPatch, path, dup, "admin"), http.StatusConflict, "slug", "duplicate slug")
	mustErr(t, e.call(t, http.MethodPatch, "/api/v1/categories/999999", change, "admin"), http.StatusNotFound, "", "unknown id")

	r := must(t, e.call(t, http.MethodPatch, path, change, "admin"), http.StatusOK, "admin updates")
	if c := decode[categoryJSON](t, r); c.Name != "Ideas Board" || len(c.PostRoles) != 2 {
		t.Fatalf("updated: %+v", c)
	}
	// the change is in force: partners may no longer start threads in ideas
	th := map[string]any{"category_id": e.cats["ideas"], "title": "Partner idea for you", "body": "x"}
	mustErr(t, e.call(t, http.MethodPost, "/api/v1/threads", th, "partner"), http.StatusForbidden, "category_id", "partner in ideas after update")
	// and making a category staff-only hides it from members
	staffOnly := map[string]any{"slug": "ideas", "name": "Ideas Board", "read_roles": []string{"moderator"}, "post_roles": []string{"moderator"}}
	must(t, e.call(t, http.MethodPatch, path, staffOnly, "admin"), http.StatusOK, "restrict ideas")
	if categorySlugs(t, e, "alice")["ideas"] || !categorySlugs(t, e, "moderator")["ideas"] {
		t.Fatal("read_roles change not applied to the category list")
	}
}

// PATCH changes what it is sent: renaming the staff room must not open it to everyone
// (read_roles is optional in CategoryInput).
func TestUpdateCategoryKeepsOmittedRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := fmt.Sprintf("/api/v1/categories/%d", e.cats["staff"])
	rename := map[string]any{"slug": "staff", "name": "Staff Lounge", "post_roles": []string{"moderator", "marketer", "admin"}}
	must(t, e.call(t, http.MethodPatch, path, rename, "admin"), http.StatusOK, "rename the staff room")
	if categorySlugs(t, e, "")["staff"] || categorySlugs(t, e, "alice")["staff"] {
		t.Fatal("renaming the staff room (read_roles omitted) made it readable by visitors and members")
	}
}

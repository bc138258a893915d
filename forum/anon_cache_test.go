package forum_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/testenv"
)

// Visitors' thread lists are served from a cache (forum/anon_cache.go). Every write
// must show on the very next visitor request, on this instance and on a second one
// sharing the database; members, languages and CSRF tokens must never mix.
func TestAnonymousListCacheFollowsWrites(t *testing.T) {
	e := newEnv(t)
	other := testenv.NewApp(t, testenv.WithDB(e.DB)) // a second `hearth serve` on the same database
	apps := map[string]*testenv.AppEnv{"instance 1": e.AppEnv, "instance 2": other}
	lists := []string{"/", "/latest", "/c/questions", "/api/v1/threads?mode=latest", "/api/v1/threads?category=questions"}

	// expect asks every list of both instances twice (the second answer comes from
	// the cache) and checks what a visitor sees.
	expect := func(what string, shown, hidden []string) {
		t.Helper()
		for name, a := range apps {
			for _, path := range lists {
				for round := 0; round < 2; round++ {
					r := a.Page(t, path)
					must(t, r, http.StatusOK, path)
					containsAll(t, fmt.Sprintf("%s: %s on %s", what, path, name), r.Body, shown...)
					containsNone(t, fmt.Sprintf("%s: %s on %s", what, path, name), r.Body, hidden...)
				}
			}
		}
	}
	first := e.newThread(t, "alice", "questions", forum.KindQuestion, "Cache probe one", "First body.")
	expect("first thread", []string{"Cache probe one"}, nil)

	second := e.newThread(t, "bob", "questions", forum.KindQuestion, "Cache probe two", "Second body.")
	expect("new thread", []string{"Cache probe one", "Cache probe two"}, nil)

	// a reply moves the first thread above the second in the latest lists
	e.reply(t, "bob", first.ID, "A reply that bumps the thread.")
	for name, a := range apps {
		for _, path := range []string{"/latest", "/api/v1/threads?mode=latest"} {
			b := string(a.Page(t, path).Body)
			if i, j := strings.Index(b, "Cache probe one"), strings.Index(b, "Cache probe two"); i < 0 || j < 0 || i > j {
				t.Errorf("reply: %s on %s does not list the bumped thread first", path, name)
			}
		}
	}

	e.moderate(t, second.ID, map[string]any{"hidden": true})
	expect("hidden", []string{"Cache probe one"}, []string{"Cache probe two"})
	e.moderate(t, second.ID, map[string]any{"hidden": false})
	expect("unhidden", []string{"Cache probe one", "Cache probe two"}, nil)

	e.moderate(t, second.ID, map[string]any{"deleted": true})
	expect("deleted", []string{"Cache probe one"}, []string{"Cache probe two"})

	// moved into the staff room, which visitors may not read
	staff := e.cats["staff"]
	e.moderate(t, first.ID, map[string]any{"category_id": staff})
	expect("moved to staff", nil, []string{"Cache probe one", "Cache probe two"})
	e.moderate(t, first.ID, map[string]any{"category_id": e.cats["questions"]})
	expect("moved back", []string{"Cache probe one"}, []string{"Cache probe two"})

	// pinned threads of a category are listed apart ("pinned" in the JSON)
	e.moderate(t, first.ID, map[string]any{"pinned": true})
	for name, a := range apps {
		l := decode[listJSON](t, a.API(t, http.MethodGet, "/api/v1/threads?category=questions", nil, ""))
		if len(l.Pinned) == 0 || l.Pinned[0].ID != first.ID {
			t.Errorf("pinned: %s does not list thread %d as pinned: %+v", name, first.ID, l.Pinned)
		}
	}

	// a category closed to visitors on the database (as another instance's admin
	// would): its threads leave every visitor list at once, categories cache or not
	if err := e.DB.Exec(`UPDATE forum_categories SET read_roles = '{moderator,admin}' WHERE slug = 'questions'`).Error; err != nil {
		t.Fatal(err)
	}
	all := lists
	lists = []string{"/", "/latest", "/api/v1/threads?mode=latest"}
	expect("category closed", nil, []string{"Cache probe one"})
	lists = all
	for name, a := range apps {
		if r := a.Page(t, "/c/questions"); r.Status != http.StatusNotFound {
			t.Errorf("closed category on %s: status %d, want 404", name, r.Status)
		}
	}
	if err := e.DB.Exec(`UPDATE forum_categories SET read_roles = ? WHERE slug = 'questions'`, "{"+forum.Everyone+"}").Error; err != nil {
		t.Fatal(err)
	}
	expect("category reopened", []string{"Cache probe one"}, nil)

	// a title edited in the database (no service involved) shows too
	if err := e.DB.Exec(`UPDATE forum_threads SET title = 'Cache probe renamed' WHERE id = ?`, first.ID).Error; err != nil {
		t.Fatal(err)
	}
	expect("renamed", []string{"Cache probe renamed"}, []string{"Cache probe one"})
}

func TestAnonymousListCacheKeepsViewersApart(t *testing.T) {
	e := newEnv(t)
	e.newThread(t, "alice", "questions", forum.KindQuestion, "Viewer probe", "Body.")
	staffOnly := e.newThread(t, "moderator", "staff", forum.KindDiscussion, "Staff only probe", "Body.")
	_ = staffOnly

	// visitors fill the cache; members still see their own pages (their name, their
	// categories) and the CSRF token is each browser's own
	v1, v2 := e.Page(t, "/latest"), e.Page(t, "/latest")
	for i, r := range []*testenv.Response{v1, v2} {
		tok := csrfField.FindSubmatch(r.Body)
		c := r.Cookies["hearth_csrf"]
		if tok == nil || c == nil || string(tok[1]) != c.Value {
			t.Fatalf("visitor %d: the page's CSRF token is not the cookie's", i+1)
		}
	}
	if string(csrfField.FindSubmatch(v1.Body)[1]) == string(csrfField.FindSubmatch(v2.Body)[1]) {
		t.Error("two visitors got the same CSRF token")
	}
	containsNone(t, "visitor", v1.Body, "Staff only probe", "id=\"logout\"")

	r := e.page(t, "moderator", "/latest")
	containsAll(t, "moderator after visitors", r.Body, "Staff only probe", "id=\"logout\"")
	containsNone(t, "visitor after moderator", e.Page(t, "/latest").Body, "Staff only probe", "id=\"logout\"")
	l := e.list(t, "moderator", "mode=latest")
	found := false
	for _, th := range l.Threads {
		found = found || th.Title == "Staff only probe"
	}
	if !found {
		t.Error("moderator's JSON list misses the staff thread after visitors' lists were cached")
	}

	// the language is part of the key
	en := e.Page(t, "/c/questions")
	zh := e.Page(t, "/c/questions", &http.Cookie{Name: "hearth_lang", Value: "zh-Hans"})
	containsAll(t, "English", en.Body, `lang="en"`, "Questions &amp; Answers")
	containsAll(t, "Chinese", zh.Body, `lang="zh-Hans"`, "问答")
	containsAll(t, "English again", e.Page(t, "/c/questions").Body, `lang="en"`)

	// a flash message is one browser's own: such a page is rendered, not shared
	flash := e.Page(t, "/latest", &http.Cookie{Name: "hearth_flash", Value: "forum.flash.thread_hidden"})
	must(t, flash, http.StatusOK, "flash page")
	if strings.Contains(string(e.Page(t, "/latest").Body), `class="flash"`) {
		t.Error("a flash message leaked into the shared page")
	}
}

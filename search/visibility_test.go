package search_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/search"
)

// hitIDs decodes an API answer's hit ids, sorted.
func hitIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var res struct {
		Hits []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID+h.URL[:0])
	}
	slices.Sort(out)
	return out
}

// TestEveryRoleSeesOnlyWhatItMayRead searches, suggests and finds similar threads as
// each role: the staff room (read roles moderator, marketer, admin) must reach staff
// only, through the API and the page alike.
func TestEveryRoleSeesOnlyWhatItMayRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pub := e.thread(t, "alice", "questions", "Zebrafinch firmware question", "Where do I find the zebrafinch firmware?")
	staff := e.thread(t, "moderator", "staff", "Zebrafinch launch plan (internal)", "Secret zebrafinch launch date.")
	staffReply := e.reply(t, "admin", staff.ID, "The zebrafinch embargo lifts Monday.")
	e.settle(t)

	public := []string{search.DocID("thread", pub.ID)}
	everything := []string{search.DocID("post", staffReply.ID), search.DocID("thread", pub.ID), search.DocID("thread", staff.ID)}
	slices.Sort(everything)
	cases := []struct {
		who  string
		want []string
	}{
		{"", public}, {"alice", public}, {"partner", public},
		{"moderator", everything}, {"marketer", everything}, {"admin", everything},
	}
	for _, c := range cases {
		got := hitIDs(t, e.api(t, c.who, "/api/v1/search?q=zebrafinch").Body)
		if !slices.Equal(got, c.want) {
			t.Errorf("search as %q: %v, want %v", c.who, got, c.want)
		}
		threads := 1
		if len(c.want) > 1 {
			threads = 2
		}
		for _, path := range []string{"/api/v1/search/suggest?q=zebraf", "/api/v1/search/similar?title=Zebrafinch"} {
			if got := hitIDs(t, e.api(t, c.who, path).Body); len(got) != threads {
				t.Errorf("%s as %q: %d hits, want %d", path, c.who, len(got), threads)
			}
		}
		page := e.Page(t, "/search?q=zebrafinch", e.cookies(t, c.who)...)
		leaked := strings.Contains(string(page.Body), "launch plan") || strings.Contains(string(page.Body), "embargo")
		if page.Status != 200 || leaked != (len(c.want) > 1) {
			t.Errorf("search page as %q: status %d, staff text shown %v", c.who, page.Status, leaked)
		}
	}
	// A visitor cannot even name the staff category as a filter.
	if r := e.API(t, "GET", "/api/v1/search?q=zebrafinch&category=staff", nil, ""); r.Status != 422 || r.Fields(t)["category"] == "" {
		t.Errorf("visitor filtering on the staff room: %d %s", r.Status, r.Body)
	}

	// The read-roles filter alone holds, without the category guard.
	res, err := search.NewMeiliBackend(e.Search).Search(context.Background(), &search.Query{Text: "zebrafinch", Page: 1, PerPage: 20}, search.Viewer{Role: "member"})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != public[0] {
		t.Fatalf("member through read_roles only: %v %+v", err, res)
	}
}

// TestCategoryRoleChanges narrows and widens a category's read roles: narrowing hides
// its documents at once (queries exclude it from fresh category data), and the
// watcher re-indexes them so that widening reaches the index too.
func TestCategoryRoleChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	th := e.thread(t, "alice", "questions", "Okapi pairing trouble", "The okapi adapter will not pair.")
	e.reply(t, "bob", th.ID, "Reset the okapi adapter first.")
	e.settle(t)
	if err := e.ix.SyncCategories(ctx); err != nil { // records the roles as indexed
		t.Fatal(err)
	}
	setRoles := func(roles ...string) {
		t.Helper()
		cat := e.cats["questions"]
		in := forum.CategoryInput{Slug: "questions", Name: "Questions & Answers", ReadRoles: roles, PostRoles: []string{"member"}}
		if _, err := e.Forum.UpdateCategory(ctx, e.actor("admin"), cat, in); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond) // the service's category cache
	}
	count := func(who string) int { return len(hitIDs(t, e.api(t, who, "/api/v1/search?q=okapi").Body)) }
	if n := count(""); n != 2 {
		t.Fatalf("visitor before: %d hits", n)
	}
	setRoles("moderator")
	if n := count(""); n != 0 {
		t.Fatalf("visitor right after narrowing, before re-indexing: %d hits", n)
	}
	if n := count("moderator"); n != 2 {
		t.Fatalf("moderator after narrowing: %d hits", n)
	}
	// A query pinned to the denied category keeps the guard (its documents still say
	// everyone may read them).
	pinned := &search.Query{Text: "okapi", CategoryID: e.cats["questions"], Page: 1, PerPage: 20}
	res, err := search.NewMeiliBackend(e.Search).Search(ctx, pinned, search.Viewer{DeniedCategories: []int64{e.cats["questions"]}})
	if err != nil || len(res.Hits) != 0 {
		t.Fatalf("visitor pinned to the narrowed category: %v %+v", err, res)
	}
	if err := e.ix.SyncCategories(ctx); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	for id, d := range e.docs(t) {
		if !slices.Equal(d.ReadRoles, []string{"moderator"}) {
			t.Fatalf("%s keeps read roles %v", id, d.ReadRoles)
		}
	}
	setRoles("everyone")
	if err := e.ix.SyncCategories(ctx); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if n := count(""); n != 2 {
		t.Fatalf("visitor after widening and re-indexing: %d hits", n)
	}
}

package forum_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestListPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.newThread(t, "alice", "questions", "question", "Best boots for wet hikes", "Mine leak.", "hiking")
	a := e.newThread(t, "marketer", "announcements", "announcement", "Spring sale starts Monday", "20% off.")
	s := e.newThread(t, "moderator", "staff", "", "Staff only planning notes", "shh")
	for _, who := range []string{"", "bob"} {
		for _, tc := range []struct {
			path string
			want []string
			not  []string
		}{
			{"/", []string{q.Title, a.Title, `<link rel="canonical" href="http://localhost:8080/">`}, nil},
			{"/latest", []string{q.Title, a.Title}, nil},
			{"/top", []string{q.Title}, nil},
			{"/top?period=all", []string{q.Title}, nil},
			{"/unanswered", []string{q.Title}, []string{a.Title}},
			{"/c/questions", []string{q.Title, "Questions &amp; Answers", `href="http://localhost:8080/c/questions"`}, []string{a.Title}},
			{"/c/announcements", []string{a.Title}, []string{q.Title}},
			{"/tag/hiking", []string{q.Title, "#hiking"}, []string{a.Title}},
		} {
			r := must(t, e.page(t, who, tc.path), http.StatusOK, fmt.Sprintf("%s as %q", tc.path, who))
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: content type %q", tc.path, ct)
			}
			containsAll(t, tc.path, r.Body, tc.want...)
			containsNone(t, tc.path, r.Body, append(tc.not, s.Title)...)
		}
	}
	for _, tc := range []struct {
		who, path string
		status    int
	}{
		{"", "/c/staff", 404}, {"bob", "/c/staff", 404}, {"partner", "/c/staff", 404},
		{"moderator", "/c/staff", 200}, {"bob", "/c/no-such", 404}, {"bob", "/top?period=year", 422},
		{"", "/u/alice", 200}, {"", "/u/no-such-member", 404},
	} {
		if r := e.page(t, tc.who, tc.path); r.Status != tc.status {
			t.Errorf("%s as %q: %d, want %d", tc.path, tc.who, r.Status, tc.status)
		}
	}
	containsAll(t, "staff list", e.page(t, "moderator", "/c/staff").Body, s.Title)
	prof := e.page(t, "", "/u/alice")
	containsAll(t, "profile page", prof.Body, "Alice Chen", "@alice", q.Title, `<link rel="canonical" href="http://localhost:8080/u/alice">`)
}

func TestThreadPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Tent zipper keeps splitting",
		"The **zipper** on my tent splits after a few nights of use.\n\nAny fix?", "camping")
	e.reply(t, "bob", th.ID, "Try a *zipper pull* replacement kit.")
	canon := fmt.Sprintf("/t/%d/tent-zipper-keeps-splitting", th.ID)
	for _, who := range []string{"", "li"} {
		r := must(t, e.page(t, who, canon), http.StatusOK, "thread page as "+who)
		containsAll(t, "thread page", r.Body,
			"<title>Tent zipper keeps splitting · ",
			`<meta name="description" content="The zipper on my tent splits after a few nights of use.`,
			fmt.Sprintf(`<link rel="canonical" href="http://localhost:8080%s">`, canon),
			"<strong>zipper</strong>", "<em>zipper pull</em>", "Alice Chen", "Bob Smith", `href="/tag/camping"`)
	}
	// forms are offered to members, a log-in link to visitors
	containsAll(t, "member thread page", e.page(t, "li", canon).Body, fmt.Sprintf(`action="/t/%d/reply"`, th.ID), `name="key"`)
	containsAll(t, "visitor thread page", e.page(t, "", canon).Body, "/login?next=")
	containsNone(t, "visitor thread page", e.page(t, "", canon).Body, fmt.Sprintf(`action="/t/%d/reply"`, th.ID))
	for _, path := range []string{fmt.Sprintf("/t/%d/old-title", th.ID), fmt.Sprintf("/t/%d", th.ID), fmt.Sprintf("/t/%d/", th.ID)} {
		r := e.page(t, "", path)
		if r.Status != http.StatusMovedPermanently || r.Header.Get("Location") != canon {
			t.Errorf("%s: %d → %q, want 301 → %s", path, r.Status, r.Header.Get("Location"), canon)
		}
	}
	for _, path := range []string{"/t/999999/x", "/t/abc/x", fmt.Sprintf("%s?page=2", canon)} {
		if r := e.page(t, "", path); r.Status != 404 {
			t.Errorf("%s: %d, want 404", path, r.Status)
		}
	}
	// only moderators get the moderation tools
	containsNone(t, "member page", e.page(t, "alice", canon).Body, fmt.Sprintf(`action="/t/%d/moderate"`, th.ID))
	containsAll(t, "moderator page", e.page(t, "moderator", canon).Body, fmt.Sprintf(`action="/t/%d/moderate"`, th.ID))
}

// Titles in Chinese keep their words in the slug; the canonical URL must serve the page.
func TestThreadPageNonASCIISlug(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "wang", "questions", "question", "耳机 蓝牙 连接 不上 怎么办", "一直断开。")
	if th.Slug != "耳机-蓝牙-连接-不上-怎么办" {
		t.Fatalf("slug: %q", th.Slug)
	}
	canon := fmt.Sprintf("/t/%d/%s", th.ID, url.PathEscape(th.Slug))
	r := e.page(t, "", canon)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d (Location %q), want 200", canon, r.Status, r.Header.Get("Location"))
	}
	containsAll(t, "chinese thread page", r.Body, "一直断开。")
}

func TestMemberPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Pages that need a member", "body of the question")
	p := e.reply(t, "bob", th.ID, "bob's reply text")
	must(t, e.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", p.ID), map[string]any{"body": "bob's edited text"}, "bob"), 200, "edit")
	pages := []string{fmt.Sprintf("/t/%d/reply", th.ID), "/new", fmt.Sprintf("/p/%d/edit", p.ID),
		fmt.Sprintf("/p/%d/history", p.ID), "/admin/categories"}
	for _, path := range pages {
		r := e.page(t, "", path)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+path {
			t.Errorf("visitor %s: %d → %q", path, r.Status, r.Header.Get("Location"))
		}
	}
	for _, tc := range []struct {
		who, path string
		status    int
		want      []string
	}{
		{"li", pages[0], 200, []string{th.Title, `name="key"`}},
		{"li", fmt.Sprintf("/t/%d/reply?quote=%d", th.ID, p.ID), 200, []string{"&gt; **@bob**:", "bob&#39;s edited text", fmt.Sprintf(`name="reply_to" value="%d"`, p.ID)}},
		{"li", "/t/999999/reply", 404, nil},
		{"alice", "/new", 200, []string{`action="/new"`, "Questions &amp; Answers", `value="question"`}},
		{"bob", pages[2], 200, []string{"bob&#39;s edited text", fmt.Sprintf(`action="/p/%d/edit"`, p.ID)}},
		{"moderator", pages[2], 200, nil},
		{"alice", pages[2], 403, nil},
		{"bob", pages[3], 200, []string{"bob&#39;s reply text", "bob&#39;s edited text"}},
		{"moderator", pages[3], 200, []string{"bob&#39;s reply text"}},
		{"alice", pages[3], 403, nil},
		{"admin", "/admin/categories", 200, []string{"announcements", "staff", `action="/admin/categories"`}},
	} {
		r := e.page(t, tc.who, tc.path)
		if r.Status != tc.status {
			t.Errorf("%s as %s: %d, want %d", tc.path, tc.who, r.Status, tc.status)
			continue
		}
		containsAll(t, tc.path+" as "+tc.who, r.Body, tc.want...)
	}
	// members never see announcements or closed categories offered on /new
	compose := string(e.page(t, "alice", "/new").Body)
	if strings.Contains(compose, `value="announcement"`) || strings.Contains(compose, "Offers &amp; Partners") {
		t.Error("/new offers a member announcements or a category closed to them")
	}
	containsAll(t, "/new for staff", e.page(t, "marketer", "/new").Body, `value="announcement"`)
	for _, who := range []string{"alice", "moderator", "marketer", "partner"} {
		if r := e.page(t, who, "/admin/categories"); r.Status != http.StatusForbidden {
			t.Errorf("/admin/categories as %s: %d, want 403", who, r.Status)
		}
	}
}

package forum_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCreateThreadAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.cats["questions"]
	body := map[string]any{"category_id": q, "kind": "question", "title": "  How do I  pair the speaker? ",
		"body": "It blinks red.", "tags": []string{"#Speaker", "speaker", "Bluetooth Pairing"}}
	if r := e.call(t, http.MethodPost, "/api/v1/threads", body, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("visitor: %d %s", r.Status, r.Body)
	}
	r := must(t, e.call(t, http.MethodPost, "/api/v1/threads", body, "alice"), http.StatusCreated, "alice asks")
	th := decode[threadJSON](t, r)
	if th.ID == 0 || th.Title != "How do I pair the speaker?" || th.Slug != "how-do-i-pair-the-speaker" ||
		th.Kind != "question" || th.AuthorID != e.ids["alice"] || th.CategoryID != q || th.ReplyCount != 0 {
		t.Fatalf("created thread: %+v", th)
	}
	if strings.Join(th.Tags, ",") != "speaker,bluetooth-pairing" {
		t.Fatalf("tags not normalised: %v", th.Tags)
	}
	v := e.view(t, "bob", th.ID)
	if len(v.Posts) != 1 || v.Posts[0].Number != 1 || v.Posts[0].Body != "It blinks red." || v.Posts[0].AuthorID != e.ids["alice"] {
		t.Fatalf("opening post: %+v", v.Posts)
	}
	// kind defaults to discussion; staff may post announcements where they may post
	d := e.newThread(t, "bob", "ideas", "", "A dark mode for the app", "Please.")
	if d.Kind != "discussion" {
		t.Fatalf("default kind: %q", d.Kind)
	}
	for _, who := range []string{"moderator", "marketer", "admin"} {
		e.newThread(t, who, "announcements", "announcement", "Firmware 2.1 is out now ("+who+")", "Update today.")
	}
	e.newThread(t, "partner", "offers", "discussion", "Ten percent off all tents", "Until Sunday.")
	e.newThread(t, "moderator", "staff", "discussion", "Moderation rota for May", "Sign up.")
}

func TestCreateThreadValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.cats["questions"]
	for _, tc := range []struct {
		name   string
		who    string
		in     map[string]any
		status int
		field  string
	}{
		{"empty title", "alice", map[string]any{"category_id": q, "title": "   ", "body": "text"}, 422, "title"},
		{"short title", "alice", map[string]any{"category_id": q, "title": "Short", "body": "text"}, 422, "title"},
		{"long title", "alice", map[string]any{"category_id": q, "title": strings.Repeat("long ", 31), "body": "text"}, 422, "title"},
		{"empty body", "alice", map[string]any{"category_id": q, "title": "A perfectly fine title", "body": " \n "}, 422, "body"},
		{"body over 32 KB", "alice", map[string]any{"category_id": q, "title": "A perfectly fine title", "body": strings.Repeat("a", 32<<10+1)}, 422, "body"},
		{"six tags", "alice", map[string]any{"category_id": q, "title": "A perfectly fine title", "body": "text",
			"tags": []string{"aa", "bb", "cc", "dd", "ee", "ff"}}, 422, "tags"},
		{"one-letter tag", "alice", map[string]any{"category_id": q, "title": "A perfectly fine title", "body": "text", "tags": []string{"x"}}, 422, "tags"},
		{"tag with symbols", "alice", map[string]any{"category_id": q, "title": "A perfectly fine title", "body": "text", "tags": []string{"c++"}}, 422, "tags"},
		{"tag over 30 runes", "alice", map[string]any{"category_id": q, "title": "A perfectly fine title", "body": "text", "tags": []string{strings.Repeat("t", 31)}}, 422, "tags"},
		{"unknown kind", "alice", map[string]any{"category_id": q, "kind": "poll", "title": "A perfectly fine title", "body": "text"}, 422, "kind"},
		{"no category", "alice", map[string]any{"title": "A perfectly fine title", "body": "text"}, 422, "category_id"},
		{"unknown category", "alice", map[string]any{"category_id": 999999, "title": "A perfectly fine title", "body": "text"}, 422, "category_id"},
		{"unreadable category (staff) for a member", "alice", map[string]any{"category_id": e.cats["staff"], "title": "A perfectly fine title", "body": "text"}, 422, "category_id"},
		{"member in announcements", "alice", map[string]any{"category_id": e.cats["announcements"], "title": "A perfectly fine title", "body": "text"}, 403, "category_id"},
		{"member in offers", "bob", map[string]any{"category_id": e.cats["offers"], "title": "A perfectly fine title", "body": "text"}, 403, "category_id"},
		{"partner in staff", "partner", map[string]any{"category_id": e.cats["staff"], "title": "A perfectly fine title", "body": "text"}, 422, "category_id"},
		{"announcement kind by a member", "alice", map[string]any{"category_id": q, "kind": "announcement", "title": "A perfectly fine title", "body": "text"}, 403, "kind"},
		{"announcement kind by a partner", "partner", map[string]any{"category_id": e.cats["offers"], "kind": "announcement", "title": "A perfectly fine title", "body": "text"}, 403, "kind"},
		{"idempotency key too long", "alice", nil, 422, "idempotency_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r = e.call(t, http.MethodPost, "/api/v1/threads", tc.in, tc.who)
			if tc.in == nil {
				req := map[string]any{"category_id": q, "title": "A perfectly fine title", "body": "text"}
				r = e.idem(t, "/api/v1/threads", req, tc.who, strings.Repeat("k", 101))
			}
			mustErr(t, r, tc.status, tc.field, tc.name)
		})
	}
	// exactly at the limits is fine
	e.newThread(t, "alice", "questions", "", strings.Repeat("é", 150), strings.Repeat("b", 32<<10), "aa", "bb", "cc", "dd", "ee")
	if n := e.count(t, "SELECT count(*) FROM forum_threads"); n != 1 {
		t.Fatalf("threads after the refused requests: %d, want 1", n)
	}
	// malformed JSON and a non-JSON body
	if r := e.call(t, http.MethodPost, "/api/v1/threads", "not an object", "alice"); r.Status != 422 {
		t.Fatalf("non-object JSON: %d", r.Status)
	}
}

func TestGetThreadAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pub := e.newThread(t, "alice", "questions", "question", "Battery drains overnight", "Any idea?")
	staff := e.newThread(t, "moderator", "staff", "", "Spam wave this weekend", "Keep an eye out.")
	for _, who := range []string{"", "alice", "partner", "moderator"} {
		if v := e.view(t, who, pub.ID); v.Thread.ID != pub.ID || v.Thread.Title != "Battery drains overnight" || len(v.Posts) != 1 {
			t.Fatalf("public thread as %q: %+v", who, v)
		}
	}
	for _, tc := range []struct {
		who    string
		status int
	}{{"", 404}, {"alice", 404}, {"partner", 404}, {"moderator", 200}, {"marketer", 200}, {"admin", 200}} {
		if r := e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/threads/%d", staff.ID), nil, tc.who); r.Status != tc.status {
			t.Errorf("staff thread as %q: %d, want %d", tc.who, r.Status, tc.status)
		}
	}
	for _, path := range []string{"/api/v1/threads/999999", "/api/v1/threads/abc", "/api/v1/threads/-1", fmt.Sprintf("/api/v1/threads/%d?page=2", pub.ID)} {
		if r := e.call(t, http.MethodGet, path, nil, "alice"); r.Status != 404 || r.ErrorCode(t) != "not_found" {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	// hidden and deleted threads: 404 for members and visitors, 200 (flagged) for moderators
	for _, change := range []map[string]any{{"hidden": true}, {"deleted": true}} {
		th := e.newThread(t, "bob", "questions", "", fmt.Sprintf("Soon to be gone %v", change), "text")
		e.moderate(t, th.ID, change)
		for _, who := range []string{"", "bob", "alice", "marketer"} {
			if r := e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/threads/%d", th.ID), nil, who); r.Status != 404 {
				t.Errorf("%v thread as %q: %d, want 404", change, who, r.Status)
			}
		}
		v := e.view(t, "moderator", th.ID)
		if v.Thread.Hidden == v.Thread.Deleted || len(v.Posts) != 1 {
			t.Errorf("%v thread for moderator: %+v", change, v.Thread)
		}
	}
}

func TestModerateThreadAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Strap broke after a week", "Warranty?")
	path := fmt.Sprintf("/api/v1/threads/%d", th.ID)
	if r := e.call(t, http.MethodPatch, path, map[string]any{"pinned": true}, ""); r.Status != 401 {
		t.Fatalf("visitor: %d", r.Status)
	}
	for _, who := range append(moderationRefused, "bob") {
		mustErr(t, e.call(t, http.MethodPatch, path, map[string]any{"pinned": true}, who), 403, "", "pin as "+who)
	}
	if e.view(t, "moderator", th.ID).Thread.Pinned {
		t.Fatal("a refused request pinned the thread")
	}
	for _, tc := range []struct {
		change map[string]any
		check  func(threadJSON) bool
	}{
		{map[string]any{"pinned": true}, func(x threadJSON) bool { return x.Pinned }},
		{map[string]any{"locked": true}, func(x threadJSON) bool { return x.Locked && x.Pinned }},
		{map[string]any{"locked": false, "pinned": false}, func(x threadJSON) bool { return !x.Locked && !x.Pinned }},
		{map[string]any{"hidden": true}, func(x threadJSON) bool { return x.Hidden }},
		{map[string]any{"hidden": false}, func(x threadJSON) bool { return !x.Hidden }},
		{map[string]any{"deleted": true}, func(x threadJSON) bool { return x.Deleted }},
		{map[string]any{"deleted": false}, func(x threadJSON) bool { return !x.Deleted }},
		{map[string]any{"category_id": e.cats["ideas"]}, func(x threadJSON) bool { return x.CategoryID == e.cats["ideas"] }},
	} {
		if got := e.moderate(t, th.ID, tc.change); !tc.check(got) {
			t.Fatalf("after %v: %+v", tc.change, got)
		}
		// the response is what is stored
		if got := e.view(t, "moderator", th.ID).Thread; !tc.check(got) {
			t.Fatalf("stored after %v: %+v", tc.change, got)
		}
	}
	// restore made it visible to members again; the move shows in the category lists
	if got := e.list(t, "alice", "category=ideas"); !ids(got.Threads)[th.ID] {
		t.Fatalf("moved thread not listed in ideas: %+v", got.Threads)
	}
	if got := e.list(t, "alice", "category=questions"); ids(got.Threads)[th.ID] {
		t.Fatal("moved thread still listed in questions")
	}
	mustErr(t, e.call(t, http.MethodPatch, path, map[string]any{"category_id": 999999}, "moderator"), 422, "category_id", "move to unknown category")
	mustErr(t, e.call(t, http.MethodPatch, "/api/v1/threads/999999", map[string]any{"pinned": true}, "moderator"), 404, "", "unknown thread")
	// pinned threads leave the category's list and head it as "pinned"
	e.moderate(t, th.ID, map[string]any{"pinned": true})
	got := e.list(t, "bob", "category=ideas")
	if len(got.Pinned) != 1 || got.Pinned[0].ID != th.ID || ids(got.Threads)[th.ID] {
		t.Fatalf("pinned: %+v threads: %+v", got.Pinned, got.Threads)
	}
	// moving into the staff room takes it away from members
	e.moderate(t, th.ID, map[string]any{"category_id": e.cats["staff"]})
	if r := e.call(t, http.MethodGet, path, nil, "alice"); r.Status != 404 {
		t.Fatalf("thread moved to staff, author sees it: %d", r.Status)
	}
}

func TestLockedThreadReplies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "", "Is this product discontinued?", "Asking for a friend.")
	e.moderate(t, th.ID, map[string]any{"locked": true})
	path := fmt.Sprintf("/api/v1/threads/%d/posts", th.ID)
	for _, who := range []string{"alice", "bob", "marketer", "partner"} {
		mustErr(t, e.call(t, http.MethodPost, path, map[string]any{"body": "me too"}, who), 403, "", "reply to locked thread as "+who)
	}
	e.reply(t, "moderator", th.ID, "Locked: see the announcement.")
	e.reply(t, "admin", th.ID, "Confirmed.")
	if v := e.view(t, "bob", th.ID); v.Thread.ReplyCount != 2 || len(v.Posts) != 3 {
		t.Fatalf("locked thread after staff replies: %+v", v.Thread)
	}
}

func TestMarkdownIsSanitized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	evil := "Hello <script>alert(1)</script> and [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n**bold**"
	th := e.newThread(t, "alice", "questions", "", "Formatting test thread", evil)
	p := e.reply(t, "bob", th.ID, evil)
	v := e.view(t, "", th.ID)
	for _, post := range append(v.Posts, p) {
		low := strings.ToLower(post.BodyHTML)
		if strings.Contains(low, "<script") || strings.Contains(low, "javascript:") || strings.Contains(low, "onerror") {
			t.Errorf("post %d body_html not safe: %s", post.Number, post.BodyHTML)
		}
		if !strings.Contains(post.BodyHTML, "<strong>bold</strong>") {
			t.Errorf("post %d: Markdown not rendered: %s", post.Number, post.BodyHTML)
		}
		if post.Body != strings.TrimSpace(evil) {
			t.Errorf("post %d: source not kept: %q", post.Number, post.Body)
		}
	}
	page := e.page(t, "", v.Thread.urlPath())
	containsNone(t, "thread page", []byte(strings.ToLower(string(page.Body))), "<script>alert", "javascript:alert")
}

func (x threadJSON) urlPath() string { return fmt.Sprintf("/t/%d/%s", x.ID, x.Slug) }

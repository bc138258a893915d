package forum_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestNewThreadForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := fmt.Sprint(e.cats["questions"])
	bad := url.Values{"key": {"k1"}, "category_id": {q}, "kind": {"question"}, "title": {"Short"}, "body": {"keep this body"}, "tags": {"keep, tags"}}
	r := e.form(t, "alice", "/new", bad)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("short title: %d", r.Status)
	}
	containsAll(t, "re-rendered compose form", r.Body, "Make the title a little longer (at least 8 characters).",
		`value="Short"`, "keep this body", `value="keep, tags"`, `name="key" value="k1"`, `aria-invalid="true"`)
	ann := url.Values{"key": {"k2"}, "category_id": {q}, "kind": {"announcement"}, "title": {"Members cannot announce"}, "body": {"x"}}
	r = e.form(t, "alice", "/new", ann)
	if r.Status != http.StatusForbidden {
		t.Fatalf("announcement by member: %d", r.Status)
	}
	containsAll(t, "announcement refusal", r.Body, "Only staff can post announcements.", `value="Members cannot announce"`)
	closed := url.Values{"key": {"k3"}, "category_id": {fmt.Sprint(e.cats["announcements"])}, "title": {"Members cannot post here"}, "body": {"x"}}
	containsAll(t, "closed category", must(t, e.form(t, "alice", "/new", closed), 403, "closed category").Body, "You cannot start threads in this category.")
	if n := e.count(t, "SELECT count(*) FROM forum_threads"); n != 0 {
		t.Fatalf("refused forms created %d threads", n)
	}
	good := url.Values{"key": {"k4"}, "category_id": {q}, "kind": {"question"}, "title": {"Posted through the form"}, "body": {"**hi**"}, "tags": {"form"}}
	if r := e.Form(t, "/new", good); r.Status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", r.Status)
	}
	if r := e.form(t, "", "/new", good); r.Status != http.StatusUnauthorized {
		t.Fatalf("visitor: %d", r.Status)
	}
	r = e.form(t, "alice", "/new", good)
	var id int64
	e.DB.Raw("SELECT id FROM forum_threads WHERE title = 'Posted through the form' AND author_id = ?", e.ids["alice"]).Scan(&id)
	if r.Status != http.StatusSeeOther || id == 0 || r.Header.Get("Location") != fmt.Sprintf("/t/%d/posted-through-the-form", id) {
		t.Fatalf("post: %d → %q (thread %d)", r.Status, r.Header.Get("Location"), id)
	}
}

func TestReplyForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Reply form question", "?")
	path := fmt.Sprintf("/t/%d/reply", th.ID)
	r := e.form(t, "bob", path, url.Values{"key": {"r1"}, "body": {"  "}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("empty reply: %d", r.Status)
	}
	containsAll(t, "empty reply", r.Body, "This field is required.", th.Title)
	if r := e.form(t, "", path, url.Values{"body": {"hi"}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("visitor: %d", r.Status)
	}
	r = e.form(t, "bob", path, url.Values{"key": {"r2"}, "body": {"form reply"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != th.urlPath()+"#post-2" {
		t.Fatalf("reply: %d → %q", r.Status, r.Header.Get("Location"))
	}
	// the same key again (double submit) adds nothing
	e.form(t, "bob", path, url.Values{"key": {"r2"}, "body": {"form reply"}})
	v := e.view(t, "alice", th.ID)
	if len(v.Posts) != 2 || v.Posts[1].Body != "form reply" {
		t.Fatalf("posts after form replies: %+v", v.Posts)
	}
	// quoting a post sets reply_to
	r = e.form(t, "wang", path, url.Values{"key": {"r3"}, "body": {"> quoted\n\nyes"}, "reply_to": {fmt.Sprint(v.Posts[1].ID)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("quoting reply: %d", r.Status)
	}
	var replyTo int64
	e.DB.Raw("SELECT reply_to_post_id FROM forum_posts WHERE thread_id = ? AND number = 3", th.ID).Scan(&replyTo)
	if replyTo != v.Posts[1].ID {
		t.Fatalf("reply_to stored: %d", replyTo)
	}
	e.moderate(t, th.ID, map[string]any{"locked": true})
	r = e.form(t, "bob", path, url.Values{"key": {"r4"}, "body": {"locked?"}})
	if r.Status != http.StatusForbidden {
		t.Fatalf("member reply to locked thread: %d", r.Status)
	}
	containsAll(t, "locked reply", r.Body, "This thread is locked; no new replies.")
	if r := e.form(t, "moderator", path, url.Values{"key": {"r5"}, "body": {"closing"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("moderator reply to locked thread: %d", r.Status)
	}
}

func TestEditForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Edit form question", "first body", "one")
	first := e.view(t, "alice", th.ID).Posts[0]
	p := e.reply(t, "bob", th.ID, "bob original")
	path := fmt.Sprintf("/p/%d/edit", p.ID)
	if r := e.form(t, "alice", path, url.Values{"body": {"not mine"}}); r.Status != http.StatusForbidden {
		t.Fatalf("other member: %d", r.Status)
	}
	r := e.form(t, "bob", path, url.Values{"body": {""}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("empty body: %d", r.Status)
	}
	containsAll(t, "empty edit", r.Body, "This field is required.")
	r = e.form(t, "bob", path, url.Values{"body": {"bob revised"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != th.urlPath()+"#post-2" {
		t.Fatalf("edit: %d → %q", r.Status, r.Header.Get("Location"))
	}
	if v := e.view(t, "li", th.ID); v.Posts[1].Body != "bob revised" {
		t.Fatalf("body after edit: %q", v.Posts[1].Body)
	}
	// the opening post's form edits title and tags too
	r = e.form(t, "alice", fmt.Sprintf("/p/%d/edit", first.ID), url.Values{"title": {"Edit form question, clarified"}, "body": {"second body"}, "tags": {"one, two"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("edit opening post: %d %s", r.Status, r.Body)
	}
	v := e.view(t, "li", th.ID)
	if v.Thread.Title != "Edit form question, clarified" || strings.Join(v.Thread.Tags, ",") != "one,two" || v.Posts[0].Body != "second body" {
		t.Fatalf("thread after form edit: %+v", v.Thread)
	}
	r = e.form(t, "alice", fmt.Sprintf("/p/%d/edit", first.ID), url.Values{"title": {"tiny"}, "body": {"x"}})
	containsAll(t, "bad title edit", must(t, r, 422, "bad title edit").Body, "Make the title a little longer", `value="tiny"`)
	must(t, e.form(t, "moderator", path, url.Values{"body": {"mod fix"}}), http.StatusSeeOther, "moderator edit")
}

func TestReactAndAcceptForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "React and accept forms", "?")
	p := e.reply(t, "bob", th.ID, "answer")
	react := fmt.Sprintf("/p/%d/react", p.ID)
	r := e.form(t, "alice", react, url.Values{"kind": {"thanks"}, "on": {"1"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != th.urlPath()+"#post-2" {
		t.Fatalf("react: %d → %q", r.Status, r.Header.Get("Location"))
	}
	if got := e.view(t, "", th.ID).Posts[1].Reactions["thanks"]; got != 1 || e.reputation(t, "bob") != 1 {
		t.Fatalf("after react: %d thanks, bob rep %d", got, e.reputation(t, "bob"))
	}
	must(t, e.form(t, "alice", react, url.Values{"kind": {"thanks"}, "on": {"0"}}), http.StatusSeeOther, "unreact")
	if got := e.view(t, "", th.ID).Posts[1].Reactions["thanks"]; got != 0 || e.reputation(t, "bob") != 0 {
		t.Fatalf("after unreact: %d thanks", got)
	}
	must(t, e.form(t, "bob", react, url.Values{"kind": {"thanks"}}), http.StatusForbidden, "react to own post")
	must(t, e.form(t, "", react, url.Values{"kind": {"thanks"}}), http.StatusUnauthorized, "visitor react")
	must(t, e.form(t, "alice", react, url.Values{"kind": {"boo"}}), http.StatusUnprocessableEntity, "unknown kind")

	accept := fmt.Sprintf("/t/%d/accept", th.ID)
	must(t, e.form(t, "li", accept, url.Values{"post_id": {fmt.Sprint(p.ID)}}), http.StatusForbidden, "other member accepts")
	r = e.form(t, "alice", accept, url.Values{"post_id": {fmt.Sprint(p.ID)}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != th.urlPath() {
		t.Fatalf("accept: %d → %q", r.Status, r.Header.Get("Location"))
	}
	if !e.view(t, "", th.ID).Thread.Solved || e.reputation(t, "bob") != 15 {
		t.Fatal("form accept did not solve the question")
	}
	must(t, e.form(t, "alice", accept, url.Values{"post_id": {"0"}}), http.StatusSeeOther, "unaccept")
	if e.view(t, "", th.ID).Thread.Solved || e.reputation(t, "bob") != 0 {
		t.Fatal("form unaccept did not clear the answer")
	}
}

func TestModerationForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Moderation form thread", "?")
	p := e.reply(t, "bob", th.ID, "spam spam")
	tmod, pmod := fmt.Sprintf("/t/%d/moderate", th.ID), fmt.Sprintf("/p/%d/moderate", p.ID)
	for _, who := range append(moderationRefused, "bob") {
		must(t, e.form(t, who, tmod, url.Values{"action": {"lock"}}), http.StatusForbidden, "lock as "+who)
		must(t, e.form(t, who, pmod, url.Values{"action": {"hide"}}), http.StatusForbidden, "hide post as "+who)
	}
	must(t, e.form(t, "", tmod, url.Values{"action": {"lock"}}), http.StatusUnauthorized, "visitor lock")
	must(t, e.form(t, "moderator", tmod, url.Values{"action": {"explode"}}), http.StatusUnprocessableEntity, "unknown action")
	must(t, e.form(t, "moderator", pmod, url.Values{"action": {"pin"}}), http.StatusUnprocessableEntity, "unknown post action")
	must(t, e.form(t, "moderator", tmod, url.Values{"action": {"move"}, "category_id": {"x"}}), http.StatusUnprocessableEntity, "move nowhere")
	if got := e.view(t, "moderator", th.ID).Thread; got.Locked || got.Hidden {
		t.Fatalf("refused forms changed the thread: %+v", got)
	}
	for _, tc := range []struct {
		action string
		extra  url.Values
		check  func(threadJSON) bool
	}{
		{"pin", nil, func(x threadJSON) bool { return x.Pinned }},
		{"lock", nil, func(x threadJSON) bool { return x.Locked }},
		{"unlock", nil, func(x threadJSON) bool { return !x.Locked }},
		{"unpin", nil, func(x threadJSON) bool { return !x.Pinned }},
		{"move", url.Values{"category_id": {fmt.Sprint(e.cats["ideas"])}}, func(x threadJSON) bool { return x.CategoryID == e.cats["ideas"] }},
		{"hide", nil, func(x threadJSON) bool { return x.Hidden }},
		{"unhide", nil, func(x threadJSON) bool { return !x.Hidden }},
		{"delete", nil, func(x threadJSON) bool { return x.Deleted }},
		{"restore", nil, func(x threadJSON) bool { return !x.Deleted }},
	} {
		v := url.Values{"action": {tc.action}}
		for k, vs := range tc.extra {
			v[k] = vs
		}
		r := e.form(t, "moderator", tmod, v)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != th.urlPath() {
			t.Fatalf("%s: %d → %q", tc.action, r.Status, r.Header.Get("Location"))
		}
		if got := e.view(t, "moderator", th.ID).Thread; !tc.check(got) {
			t.Fatalf("after %s: %+v", tc.action, got)
		}
	}
	r := e.form(t, "moderator", pmod, url.Values{"action": {"hide"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != th.urlPath()+"#post-2" {
		t.Fatalf("hide post: %d → %q", r.Status, r.Header.Get("Location"))
	}
	if v := e.view(t, "alice", th.ID); len(v.Posts) != 1 || v.Thread.ReplyCount != 0 {
		t.Fatalf("after hiding through the form: %+v", v.Thread)
	}
	must(t, e.form(t, "moderator", pmod, url.Values{"action": {"unhide"}}), http.StatusSeeOther, "unhide post")
	if v := e.view(t, "alice", th.ID); len(v.Posts) != 2 || v.Thread.ReplyCount != 1 {
		t.Fatalf("after unhiding through the form: %+v", v.Thread)
	}
}

func TestAdminCategoryForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := url.Values{"slug": {"meetups"}, "name": {"Meet-ups"}, "position": {"9"}, "read_roles": {"everyone"}, "post_roles": {"member, moderator"}}
	must(t, e.form(t, "", "/admin/categories", good), http.StatusUnauthorized, "visitor")
	for _, who := range []string{"alice", "moderator", "marketer", "partner"} {
		must(t, e.form(t, who, "/admin/categories", good), http.StatusForbidden, "create as "+who)
		must(t, e.form(t, who, fmt.Sprintf("/admin/categories/%d", e.cats["ideas"]), good), http.StatusForbidden, "update as "+who)
	}
	bad := url.Values{"slug": {"Bad Slug"}, "name": {"Keep This Name"}, "post_roles": {"member"}}
	r := e.form(t, "admin", "/admin/categories", bad)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad slug: %d", r.Status)
	}
	containsAll(t, "bad slug form", r.Body, "Use 2–40 lower-case letters, digits or hyphens.", `value="Keep This Name"`)
	dup := url.Values{"slug": {"questions"}, "name": {"Dup"}, "post_roles": {"member"}}
	containsAll(t, "duplicate slug form", must(t, e.form(t, "admin", "/admin/categories", dup), http.StatusConflict, "duplicate").Body,
		"Another category uses this URL name.", `value="Dup"`)
	r = e.form(t, "admin", "/admin/categories", good)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/categories" {
		t.Fatalf("create: %d → %q: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	var roles string
	e.DB.Raw("SELECT array_to_string(post_roles, ',') FROM forum_categories WHERE slug = 'meetups'").Scan(&roles)
	if roles != "member,moderator" {
		t.Fatalf("post roles from the form: %q", roles)
	}
	containsAll(t, "admin page", e.page(t, "admin", "/admin/categories").Body, "meetups", "Meet-ups")
	upd := url.Values{"slug": {"ideas"}, "name": {"Ideas, renamed"}, "read_roles": {"everyone"}, "post_roles": {"member"}}
	r = e.form(t, "admin", fmt.Sprintf("/admin/categories/%d", e.cats["ideas"]), upd)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	containsAll(t, "renamed category", e.page(t, "", "/c/ideas").Body, "Ideas, renamed")
	must(t, e.form(t, "admin", "/admin/categories/999999", upd), http.StatusNotFound, "update unknown")
}

// Every forum form refuses a post without its CSRF token.
func TestForumFormsNeedCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "CSRF target thread", "?")
	p := e.reply(t, "bob", th.ID, "reply")
	cookies := e.browser(t, "moderator")
	for _, path := range []string{"/new", fmt.Sprintf("/t/%d/reply", th.ID), fmt.Sprintf("/t/%d/accept", th.ID),
		fmt.Sprintf("/t/%d/moderate", th.ID), fmt.Sprintf("/p/%d/edit", p.ID), fmt.Sprintf("/p/%d/react", p.ID),
		fmt.Sprintf("/p/%d/moderate", p.ID), "/admin/categories", fmt.Sprintf("/admin/categories/%d", e.cats["ideas"])} {
		v := url.Values{"action": {"hide"}, "body": {"csrf"}, "kind": {"like"}, "title": {"Cross-site request thread"}}
		if r := e.Form(t, path, v, cookies...); r.Status != http.StatusForbidden {
			t.Errorf("%s without token: %d", path, r.Status)
		}
		v.Set("_csrf", e.csrfToken+"x")
		if r := e.Form(t, path, v, cookies...); r.Status != http.StatusForbidden {
			t.Errorf("%s with a wrong token: %d", path, r.Status)
		}
	}
	if v := e.view(t, "moderator", th.ID); len(v.Posts) != 2 || v.Thread.Hidden || v.Posts[1].Hidden || v.Posts[1].Body != "reply" {
		t.Fatalf("a form without CSRF changed something: %+v", v)
	}
}

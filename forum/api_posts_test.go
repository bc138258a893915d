package forum_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestReplyAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Which charger should I use?", "USB-C?")
	other := e.newThread(t, "bob", "ideas", "", "Other thread for reply_to", "x")
	otherReply := e.reply(t, "alice", other.ID, "a reply elsewhere")
	path := fmt.Sprintf("/api/v1/threads/%d/posts", th.ID)
	if r := e.call(t, http.MethodPost, path, map[string]any{"body": "hi"}, ""); r.Status != 401 {
		t.Fatalf("visitor: %d", r.Status)
	}
	p := e.reply(t, "bob", th.ID, "  The 30 W one.  ")
	if p.Number != 2 || p.ThreadID != th.ID || p.AuthorID != e.ids["bob"] || p.Body != "The 30 W one." || !strings.Contains(p.BodyHTML, "The 30 W one.") {
		t.Fatalf("reply: %+v", p)
	}
	q := e.call(t, http.MethodPost, path, map[string]any{"body": "> quoted\n\nAgreed.", "reply_to_post_id": p.ID}, "wang")
	must(t, q, http.StatusCreated, "reply to a post of the thread")
	if got := decode[struct {
		Number  int    `json:"number"`
		ReplyTo *int64 `json:"reply_to_post_id"`
	}](t, q); got.Number != 3 || got.ReplyTo == nil || *got.ReplyTo != p.ID {
		t.Fatalf("reply_to reply: %+v", got)
	}
	for _, tc := range []struct {
		name   string
		path   string
		who    string
		body   map[string]any
		status int
		field  string
	}{
		{"empty body", path, "bob", map[string]any{"body": "  "}, 422, "body"},
		{"body over 32 KB", path, "bob", map[string]any{"body": strings.Repeat("x", 32<<10+1)}, 422, "body"},
		{"reply_to in another thread", path, "bob", map[string]any{"body": "hi", "reply_to_post_id": otherReply.ID}, 422, "reply_to_post_id"},
		{"reply_to unknown post", path, "bob", map[string]any{"body": "hi", "reply_to_post_id": 999999}, 422, "reply_to_post_id"},
		{"unknown thread", "/api/v1/threads/999999/posts", "bob", map[string]any{"body": "hi"}, 404, ""},
	} {
		mustErr(t, e.call(t, http.MethodPost, tc.path, tc.body, tc.who), tc.status, tc.field, tc.name)
	}
	staff := e.newThread(t, "marketer", "staff", "", "Campaign planning for June", "ideas?")
	mustErr(t, e.call(t, http.MethodPost, fmt.Sprintf("/api/v1/threads/%d/posts", staff.ID), map[string]any{"body": "hi"}, "bob"), 404, "", "member replies in staff room")
	e.reply(t, "moderator", staff.ID, "Let's meet Monday.")
	v := e.view(t, "alice", th.ID)
	if v.Thread.ReplyCount != 2 || len(v.Posts) != 3 || v.Posts[1].ID != p.ID || v.Posts[2].AuthorID != e.ids["wang"] {
		t.Fatalf("thread after replies: %+v %+v", v.Thread, v.Posts)
	}
	if pr := e.profile(t, "", "bob"); pr.Replies != 1 || pr.Threads != 1 || len(pr.Posts) != 1 || pr.Posts[0].PostID != p.ID {
		t.Fatalf("bob's profile: %+v", pr)
	}
}

func TestAcceptAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Why does the lamp flicker?", "Since the update.")
	bobs := e.reply(t, "bob", th.ID, "Reset it.")
	wangs := e.reply(t, "wang", th.ID, "Update again.")
	disc := e.newThread(t, "alice", "ideas", "discussion", "Lamp colours we want", "Green!")
	discReply := e.reply(t, "bob", disc.ID, "Blue!")
	accept := func(who string, thread, post int64) *testResponse {
		return e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/threads/%d/accepted", thread), map[string]any{"post_id": post}, who)
	}
	if r := accept("", th.ID, bobs.ID); r.Status != 401 {
		t.Fatalf("visitor: %d", r.Status)
	}
	for _, who := range []string{"bob", "li", "marketer", "partner"} {
		mustErr(t, accept(who, th.ID, bobs.ID), 403, "", "accept as "+who)
	}
	mustErr(t, accept("alice", disc.ID, discReply.ID), 422, "post_id", "accept on a discussion")
	mustErr(t, accept("alice", th.ID, e.view(t, "alice", th.ID).Posts[0].ID), 422, "post_id", "accept the opening post")
	mustErr(t, accept("alice", th.ID, discReply.ID), 422, "post_id", "accept a reply of another thread")
	mustErr(t, accept("alice", 999999, bobs.ID), 404, "", "unknown thread")
	if e.view(t, "alice", th.ID).Thread.Solved || e.reputation(t, "bob") != 0 {
		t.Fatal("a refused accept changed the thread or reputation")
	}

	r := must(t, accept("alice", th.ID, bobs.ID), 200, "asker accepts bob's answer")
	if got := decode[threadJSON](t, r); !got.Solved || got.AcceptedPostID == nil || *got.AcceptedPostID != bobs.ID {
		t.Fatalf("accepted: %+v", got)
	}
	v := e.view(t, "li", th.ID)
	if !v.Thread.Solved || !v.Posts[1].Accepted || v.Posts[2].Accepted {
		t.Fatalf("thread view after accept: %+v", v.Posts)
	}
	if p := e.profile(t, "", "bob"); p.Reputation != 15 || p.Accepted != 1 || len(p.Answers) != 1 || p.Answers[0].PostID != bobs.ID {
		t.Fatalf("bob after accept: %+v", p)
	}
	// accepting the same answer again changes nothing
	must(t, accept("alice", th.ID, bobs.ID), 200, "accept again")
	if rep := e.reputation(t, "bob"); rep != 15 {
		t.Fatalf("bob after accepting twice: %d", rep)
	}
	// a moderator moves the accepted answer: old answerer −15, new +15
	must(t, accept("moderator", th.ID, wangs.ID), 200, "moderator changes the answer")
	if b, w := e.profile(t, "", "bob"), e.profile(t, "", "wang"); b.Reputation != 0 || b.Accepted != 0 || w.Reputation != 15 || w.Accepted != 1 {
		t.Fatalf("after change: bob %d/%d, wang %d/%d", b.Reputation, b.Accepted, w.Reputation, w.Accepted)
	}
	if got := e.view(t, "alice", th.ID).Thread; got.AcceptedPostID == nil || *got.AcceptedPostID != wangs.ID {
		t.Fatalf("accepted after change: %+v", got)
	}
	// post_id 0 clears it
	r = must(t, accept("alice", th.ID, 0), 200, "clear")
	if got := decode[threadJSON](t, r); got.Solved || got.AcceptedPostID != nil {
		t.Fatalf("after clearing: %+v", got)
	}
	if w := e.profile(t, "", "wang"); w.Reputation != 0 || w.Accepted != 0 {
		t.Fatalf("wang after clearing: %+v", w)
	}
}

func TestEditPostAndRevisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Original question title", "original body", "first")
	first := e.view(t, "alice", th.ID).Posts[0]
	rep := e.reply(t, "bob", th.ID, "bob's first words")
	edit := func(who string, post int64, body map[string]any) *testResponse {
		return e.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", post), body, who)
	}
	revs := func(who string, post int64) *testResponse {
		return e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/posts/%d/revisions", post), nil, who)
	}
	if r := edit("", rep.ID, map[string]any{"body": "x"}); r.Status != 401 {
		t.Fatalf("visitor edit: %d", r.Status)
	}
	for _, who := range []string{"alice", "wang", "marketer", "partner"} {
		mustErr(t, edit(who, rep.ID, map[string]any{"body": "vandalised"}), 403, "", "edit bob's post as "+who)
	}
	mustErr(t, edit("bob", rep.ID, map[string]any{"body": " "}), 422, "body", "empty body")
	mustErr(t, edit("alice", first.ID, map[string]any{"body": "ok", "title": "short"}), 422, "title", "short title")
	mustErr(t, edit("alice", first.ID, map[string]any{"body": "ok", "tags": []string{"a"}}), 422, "tags", "bad tag")
	mustErr(t, edit("bob", 999999, map[string]any{"body": "x"}), 404, "", "unknown post")

	r := must(t, edit("bob", rep.ID, map[string]any{"body": "bob's second words"}), 200, "author edits")
	if got := decode[postJSON](t, r); got.Body != "bob's second words" || got.EditedAt == nil || !strings.Contains(got.BodyHTML, "second words") {
		t.Fatalf("edited: %+v", got)
	}
	must(t, edit("moderator", rep.ID, map[string]any{"body": "bob's words, tidied by a moderator"}), 200, "moderator edits")
	if v := e.view(t, "li", th.ID); v.Posts[1].Body != "bob's words, tidied by a moderator" {
		t.Fatalf("stored body: %q", v.Posts[1].Body)
	}
	for _, who := range []string{"bob", "moderator", "admin"} {
		h := decode[revisionsJSON](t, must(t, revs(who, rep.ID), 200, "revisions as "+who))
		if len(h.Revisions) != 2 || h.Revisions[0].Revision != 2 || h.Revisions[0].Body != "bob's second words" ||
			h.Revisions[0].EditorID != e.ids["moderator"] || h.Revisions[1].Body != "bob's first words" || h.Revisions[1].EditorID != e.ids["bob"] {
			t.Fatalf("revisions as %s: %+v", who, h.Revisions)
		}
	}
	if r := revs("", rep.ID); r.Status != 401 {
		t.Fatalf("visitor revisions: %d", r.Status)
	}
	for _, who := range []string{"alice", "wang", "marketer"} {
		mustErr(t, revs(who, rep.ID), 403, "", "revisions as "+who)
	}
	// the opening post's edit may change title and tags; the old title is kept
	r = must(t, edit("alice", first.ID, map[string]any{"body": "better body", "title": "Better question title", "tags": []string{"Second"}}), 200, "edit opening post")
	v := e.view(t, "alice", th.ID)
	if v.Thread.Title != "Better question title" || v.Thread.Slug != "better-question-title" || strings.Join(v.Thread.Tags, ",") != "second" {
		t.Fatalf("thread after editing the opening post: %+v", v.Thread)
	}
	h := decode[revisionsJSON](t, must(t, revs("alice", first.ID), 200, "opening post revisions"))
	if len(h.Revisions) != 1 || h.Revisions[0].Title != "Original question title" || h.Revisions[0].Body != "original body" {
		t.Fatalf("opening post revisions: %+v", h.Revisions)
	}
	// past the edit window the author may not edit; moderators still may
	e.DB.Exec("UPDATE forum_posts SET created_at = now() - interval '25 hours' WHERE id = ?", rep.ID)
	mustErr(t, edit("bob", rep.ID, map[string]any{"body": "too late"}), 403, "", "author after 24 h")
	must(t, edit("moderator", rep.ID, map[string]any{"body": "still fine"}), 200, "moderator after 24 h")
}

func TestModeratePostAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Screen stays black on boot", "Help.")
	good := e.reply(t, "bob", th.ID, "Hold power for 10 s.")
	spam := e.reply(t, "wang", th.ID, "Buy cheap watches here")
	path := fmt.Sprintf("/api/v1/posts/%d/moderation", spam.ID)
	if r := e.call(t, http.MethodPost, path, map[string]any{"hidden": true}, ""); r.Status != 401 {
		t.Fatalf("visitor: %d", r.Status)
	}
	for _, who := range append(moderationRefused, "wang") {
		mustErr(t, e.call(t, http.MethodPost, path, map[string]any{"hidden": true}, who), 403, "", "hide as "+who)
	}
	opening := e.view(t, "alice", th.ID).Posts[0]
	mustErr(t, e.call(t, http.MethodPost, fmt.Sprintf("/api/v1/posts/%d/moderation", opening.ID), map[string]any{"hidden": true}, "moderator"), 422, "", "hide the opening post")
	mustErr(t, e.call(t, http.MethodPost, "/api/v1/posts/999999/moderation", map[string]any{"hidden": true}, "moderator"), 404, "", "unknown post")

	if got := e.moderatePost(t, spam.ID, map[string]any{"hidden": true}); !got.Hidden {
		t.Fatalf("hide: %+v", got)
	}
	v := e.view(t, "alice", th.ID)
	if v.Thread.ReplyCount != 1 || len(v.Posts) != 2 || v.Posts[1].ID != good.ID {
		t.Fatalf("member's view after hiding: reply_count %d, posts %+v", v.Thread.ReplyCount, v.Posts)
	}
	mv := e.view(t, "moderator", th.ID)
	if len(mv.Posts) != 3 || !mv.Posts[2].Hidden || mv.Posts[2].ID != spam.ID {
		t.Fatalf("moderator's view after hiding: %+v", mv.Posts)
	}
	e.moderatePost(t, spam.ID, map[string]any{"hidden": false})
	if v := e.view(t, "alice", th.ID); v.Thread.ReplyCount != 2 || len(v.Posts) != 3 {
		t.Fatalf("after unhiding: reply_count %d, %d posts", v.Thread.ReplyCount, len(v.Posts))
	}
	if got := e.moderatePost(t, spam.ID, map[string]any{"deleted": true}); !got.Deleted {
		t.Fatalf("delete: %+v", got)
	}
	if v := e.view(t, "bob", th.ID); v.Thread.ReplyCount != 1 || len(v.Posts) != 2 {
		t.Fatalf("after deleting: reply_count %d, %d posts", v.Thread.ReplyCount, len(v.Posts))
	}
	// hiding the accepted answer un-solves the question and takes back the reputation
	must(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/threads/%d/accepted", th.ID), map[string]any{"post_id": good.ID}, "alice"), 200, "accept")
	if e.reputation(t, "bob") != 15 {
		t.Fatal("accept gave no reputation")
	}
	e.moderatePost(t, good.ID, map[string]any{"hidden": true})
	if got := e.view(t, "moderator", th.ID).Thread; got.Solved || got.AcceptedPostID != nil || got.ReplyCount != 0 {
		t.Fatalf("question after its answer was hidden: %+v", got)
	}
	if p := e.profile(t, "", "bob"); p.Reputation != 0 || p.Accepted != 0 {
		t.Fatalf("bob after his accepted answer was hidden: %+v", p)
	}
	if got := e.list(t, "alice", "mode=unanswered"); !ids(got.Threads)[th.ID] {
		t.Fatal("question with no visible replies is not in unanswered")
	}
}

func TestReactionsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "ideas", "", "Add a sleep timer please", "Like the old model.")
	post := e.view(t, "alice", th.ID).Posts[0]
	react := func(method, who, kind string) *testResponse {
		return e.call(t, method, fmt.Sprintf("/api/v1/posts/%d/reactions/%s", post.ID, kind), nil, who)
	}
	if r := react(http.MethodPut, "", "like"); r.Status != 401 {
		t.Fatalf("visitor: %d", r.Status)
	}
	mustErr(t, react(http.MethodPut, "alice", "like"), 403, "", "react to own post")
	mustErr(t, react(http.MethodPut, "bob", "dislike"), 422, "kind", "unknown kind")
	mustErr(t, e.call(t, http.MethodPut, "/api/v1/posts/999999/reactions/like", nil, "bob"), 404, "", "unknown post")

	r := must(t, react(http.MethodPut, "bob", "like"), 200, "bob likes")
	if got := decode[postJSON](t, r); got.Reactions["like"] != 1 {
		t.Fatalf("after one like: %v", got.Reactions)
	}
	must(t, react(http.MethodPut, "bob", "like"), 200, "bob likes again")
	must(t, react(http.MethodPut, "bob", "heart"), 200, "bob hearts")
	must(t, react(http.MethodPut, "wang", "like"), 200, "wang likes")
	v := e.view(t, "bob", th.ID)
	if got := v.Posts[0].Reactions; got["like"] != 2 || got["heart"] != 1 || len(got) != 2 {
		t.Fatalf("counts: %v", got)
	}
	if strings.Join(v.Posts[0].Mine, ",") != "heart,like" && strings.Join(v.Posts[0].Mine, ",") != "like,heart" {
		t.Fatalf("bob's own reactions: %v", v.Posts[0].Mine)
	}
	if rep := e.reputation(t, "alice"); rep != 3 {
		t.Fatalf("alice's reputation after 3 distinct reactions (one repeated): %d", rep)
	}
	if rep := v.Posts[0].AuthorRep; rep != 3 {
		t.Fatalf("alice's reputation beside her post: %d, want 3", rep)
	}
	if n := e.count(t, "SELECT count(*) FROM forum_reactions WHERE post_id = ?", post.ID); n != 3 {
		t.Fatalf("reaction rows: %d", n)
	}
	must(t, react(http.MethodDelete, "bob", "like"), 200, "bob unlikes")
	must(t, react(http.MethodDelete, "bob", "like"), 200, "bob unlikes again")
	if rep := e.reputation(t, "alice"); rep != 2 {
		t.Fatalf("alice's reputation after an unlike (done twice): %d", rep)
	}
	v = e.view(t, "", th.ID)
	if got := v.Posts[0].Reactions; got["like"] != 1 || got["heart"] != 1 {
		t.Fatalf("counts after unlike: %v", got)
	}
	if rep := v.Posts[0].AuthorRep; rep != 2 { // the page's cached reputation follows at once
		t.Fatalf("alice's reputation beside her post after an unlike: %d, want 2", rep)
	}
	if r := react(http.MethodDelete, "", "like"); r.Status != 401 {
		t.Fatalf("visitor delete: %d", r.Status)
	}
	// hidden posts take no reactions
	rep := e.reply(t, "li", th.ID, "me too")
	e.moderatePost(t, rep.ID, map[string]any{"hidden": true})
	mustErr(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/posts/%d/reactions/like", rep.ID), nil, "bob"), 404, "", "react to hidden post")
}

func TestMemberProfileAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Profile counting question", "?")
	e.newThread(t, "alice", "ideas", "", "Profile counting idea", "!")
	e.reply(t, "alice", th.ID, "bump")
	ans := e.reply(t, "bob", th.ID, "answer")
	must(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/posts/%d/reactions/thanks", ans.ID), nil, "alice"), 200, "thanks")
	must(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/threads/%d/accepted", th.ID), map[string]any{"post_id": ans.ID}, "alice"), 200, "accept")
	for _, who := range []string{"", "li"} {
		a := e.profile(t, who, "alice")
		if a.Handle != "alice" || a.ID != e.ids["alice"] || a.Threads != 2 || a.Replies != 1 || a.Reputation != 0 || len(a.Recent) != 2 {
			t.Fatalf("alice as %q: %+v", who, a)
		}
	}
	if b := e.profile(t, "", "BOB"); b.Handle != "bob" || b.Reputation != 16 || b.Accepted != 1 || b.Replies != 1 || b.Threads != 0 {
		t.Fatalf("bob: %+v", b)
	}
	mustErr(t, e.call(t, http.MethodGet, "/api/v1/members/nobody-here", nil, ""), 404, "", "unknown handle")
}

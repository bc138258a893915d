package forum_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestHiddenContentInvisibleEverywhere hides a thread, deletes another and hides a
// reply, then checks every list, page, count and API response a member or a visitor
// can reach — and that moderators still open them.
func TestHiddenContentInvisibleEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hidden := e.newThread(t, "alice", "questions", "question", "Hidden question zebra", "secret-hidden-body", "vanish")
	deleted := e.newThread(t, "alice", "questions", "question", "Deleted question okapi", "secret-deleted-body", "vanish")
	shown := e.newThread(t, "alice", "questions", "question", "Visible question lemur", "public body", "vanish")
	withReply := e.newThread(t, "alice", "questions", "discussion", "Discussion with a hidden reply", "start", "vanish")
	e.view(t, "bob", withReply.ID) // bob has read the opening post
	kept := e.reply(t, "wang", withReply.ID, "kept-reply-text")
	gone := e.reply(t, "wang", withReply.ID, "hidden-reply-text")
	e.moderate(t, hidden.ID, map[string]any{"hidden": true})
	e.moderate(t, deleted.ID, map[string]any{"deleted": true})
	e.moderatePost(t, gone.ID, map[string]any{"hidden": true})
	secret := []string{hidden.Title, deleted.Title, "secret-hidden-body", "secret-deleted-body", "hidden-reply-text"}

	// bob read post 1 before wang's two replies, one of which is now hidden: one is
	// unread. (Checked first: the views below mark the thread read.)
	for _, th := range e.list(t, "bob", "tag=vanish").Threads {
		if th.ID == withReply.ID && th.Unread != 1 {
			t.Errorf("bob's unread on the thread with one visible new reply: %d, want 1", th.Unread)
		}
	}
	containsAll(t, "bob's home page", e.page(t, "bob", "/").Body, "1 new")

	for _, who := range []string{"bob", ""} {
		t.Run("as "+map[string]string{"bob": "member", "": "visitor"}[who], func(t *testing.T) {
			for _, q := range []string{"mode=latest", "mode=top&period=all", "mode=unanswered", "category=questions", "tag=vanish"} {
				got := ids(e.list(t, who, q).Threads)
				if got[hidden.ID] || got[deleted.ID] {
					t.Errorf("list %s shows hidden/deleted threads: %v", q, got)
				}
				if !got[shown.ID] {
					t.Errorf("list %s lacks the visible thread (broken control): %v", q, got)
				}
			}
			p := e.profile(t, who, "alice")
			if got := ids(p.Recent); got[hidden.ID] || got[deleted.ID] || !got[shown.ID] {
				t.Errorf("alice's profile threads: %v", got)
			}
			for _, b := range e.profile(t, who, "wang").Posts {
				if b.PostID == gone.ID {
					t.Error("wang's profile lists his hidden reply")
				}
			}
			for _, path := range []string{"/", "/latest", "/top?period=all", "/unanswered", "/c/questions", "/tag/vanish", "/u/alice", "/u/wang"} {
				r := must(t, e.page(t, who, path), http.StatusOK, path)
				containsNone(t, path, r.Body, secret...)
				control := shown.Title
				if path == "/u/wang" {
					control = "kept-reply-text"
				}
				containsAll(t, path+" (control)", r.Body, control)
			}
			for _, th := range []threadJSON{hidden, deleted} {
				if r := e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/threads/%d", th.ID), nil, who); r.Status != 404 {
					t.Errorf("API thread %q: %d", th.Title, r.Status)
				}
				if r := e.page(t, who, th.urlPath()); r.Status != 404 {
					t.Errorf("page %s: %d", th.urlPath(), r.Status)
				}
				containsNone(t, "404 page", e.page(t, who, th.urlPath()).Body, secret...)
			}
			v := e.view(t, who, withReply.ID)
			if v.Thread.ReplyCount != 1 || len(v.Posts) != 2 || v.Posts[1].ID != kept.ID {
				t.Errorf("thread with a hidden reply: reply_count %d, posts %+v", v.Thread.ReplyCount, v.Posts)
			}
			page := must(t, e.page(t, who, withReply.urlPath()), 200, "thread page")
			containsAll(t, "thread page", page.Body, "kept-reply-text")
			containsNone(t, "thread page", page.Body, "hidden-reply-text")
			for _, th := range e.list(t, who, "tag=vanish").Threads {
				if th.ID == withReply.ID && th.ReplyCount != 1 {
					t.Errorf("listed reply_count %d, want 1", th.ReplyCount)
				}
			}
		})
	}

	t.Run("member actions on hidden content are refused as not found", func(t *testing.T) {
		opening := e.view(t, "moderator", hidden.ID).Posts[0]
		for _, tc := range []struct {
			name, method, path string
			who                string
			body               map[string]any
			status             int
		}{
			{"reply to hidden thread", "POST", fmt.Sprintf("/api/v1/threads/%d/posts", hidden.ID), "alice", map[string]any{"body": "x"}, 404},
			{"reply to deleted thread", "POST", fmt.Sprintf("/api/v1/threads/%d/posts", deleted.ID), "alice", map[string]any{"body": "x"}, 404},
			{"react in hidden thread", "PUT", fmt.Sprintf("/api/v1/posts/%d/reactions/like", opening.ID), "bob", nil, 404},
			{"author edits post of hidden thread", "PATCH", fmt.Sprintf("/api/v1/posts/%d", opening.ID), "alice", map[string]any{"body": "x"}, 404},
			{"author reads revisions in hidden thread", "GET", fmt.Sprintf("/api/v1/posts/%d/revisions", opening.ID), "alice", nil, 404},
			{"author edits hidden reply", "PATCH", fmt.Sprintf("/api/v1/posts/%d", gone.ID), "wang", map[string]any{"body": "x"}, 404},
			{"reply quoting hidden reply", "POST", fmt.Sprintf("/api/v1/threads/%d/posts", withReply.ID), "bob", map[string]any{"body": "x", "reply_to_post_id": gone.ID}, 422},
			{"accept hidden thread", "PUT", fmt.Sprintf("/api/v1/threads/%d/accepted", hidden.ID), "alice", map[string]any{"post_id": 0}, 404},
		} {
			if r := e.call(t, tc.method, tc.path, tc.body, tc.who); r.Status != tc.status {
				t.Errorf("%s: %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			}
		}
		for _, path := range []string{fmt.Sprintf("/p/%d/edit", gone.ID), fmt.Sprintf("/p/%d/history", gone.ID),
			fmt.Sprintf("/t/%d/reply?quote=%d", withReply.ID, gone.ID), fmt.Sprintf("/t/%d/reply", hidden.ID)} {
			if r := e.page(t, "wang", path); r.Status != 404 {
				t.Errorf("page %s as wang: %d, want 404", path, r.Status)
			}
		}
	})

	// The author of a hidden reply gets its text back from the revisions API although
	// the post (and its history page) is not found for them.
	t.Run("revisions of a hidden reply are not found for its author", func(t *testing.T) {
		must(t, e.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", gone.ID), map[string]any{"body": "edited by mod"}, "moderator"), 200, "moderator edits hidden reply")
		r := e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/posts/%d/revisions", gone.ID), nil, "wang")
		if r.Status != http.StatusNotFound {
			t.Errorf("GET /api/v1/posts/<hidden reply>/revisions as its author: %d, want 404 like the history page: %s", r.Status, r.Body)
		}
	})

	t.Run("moderators still open everything", func(t *testing.T) {
		for _, th := range []threadJSON{hidden, deleted} {
			v := e.view(t, "moderator", th.ID)
			if v.Thread.ID != th.ID || !(v.Thread.Hidden || v.Thread.Deleted) || len(v.Posts) != 1 {
				t.Errorf("moderator's view of %q: %+v", th.Title, v.Thread)
			}
			r := must(t, e.page(t, "moderator", th.urlPath()), 200, "moderator page "+th.Title)
			containsAll(t, "moderator page", r.Body, th.Title)
		}
		v := e.view(t, "moderator", withReply.ID)
		if len(v.Posts) != 3 || !v.Posts[2].Hidden {
			t.Errorf("moderator's view of the hidden reply: %+v", v.Posts)
		}
		r := must(t, e.page(t, "moderator", withReply.urlPath()), 200, "moderator thread page")
		containsAll(t, "moderator thread page", r.Body, "kept-reply-text", "edited by mod")
		must(t, e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/posts/%d/revisions", gone.ID), nil, "moderator"), 200, "moderator revisions")
		must(t, e.page(t, "moderator", fmt.Sprintf("/p/%d/history", gone.ID)), 200, "moderator history page")
	})

}

// TestReadState: opening a thread marks it read; later replies show as unread until
// it is opened again.
func TestReadState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "", "Unread counting thread", "hello")
	unread := func(who string) int {
		t.Helper()
		for _, x := range e.list(t, who, "mode=latest").Threads {
			if x.ID == th.ID {
				return x.Unread
			}
		}
		t.Fatalf("thread not listed for %s", who)
		return 0
	}
	if n := unread("bob"); n != -1 {
		t.Fatalf("never opened: unread %d, want -1", n)
	}
	if v := e.view(t, "bob", th.ID); v.LastRead != 0 {
		t.Fatalf("first visit last_read %d", v.LastRead)
	}
	if n := unread("bob"); n != 0 {
		t.Fatalf("just opened: unread %d, want 0", n)
	}
	e.reply(t, "wang", th.ID, "one")
	e.reply(t, "li", th.ID, "two")
	if n := unread("bob"); n != 2 {
		t.Fatalf("after two replies: unread %d, want 2", n)
	}
	if n := unread("wang"); n != -1 {
		t.Fatalf("replying is not opening: wang's unread %d", n)
	}
	if v := e.view(t, "bob", th.ID); v.LastRead != 1 {
		t.Fatalf("second visit: last_read %d, want 1 (where bob stopped)", v.LastRead)
	}
	if n := unread("bob"); n != 0 {
		t.Fatalf("after opening again: unread %d, want 0", n)
	}
	// visitors have no read state
	if n := unread(""); n != -1 {
		t.Fatalf("visitor unread %d", n)
	}
	// the home page shows the badge for unread replies
	e.reply(t, "li", th.ID, "three")
	containsAll(t, "home", e.page(t, "bob", "/").Body, "1 new")
}

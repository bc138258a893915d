package forum_test

import (
	"fmt"
	"net/http"
	"testing"
)

// outboxRows counts outbox rows of topic whose payload has the given member and post.
func (e *fenv) outboxRows(t *testing.T, topic string, member, post int64) int64 {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM outbox WHERE topic = ?
	    AND coalesce((payload->>'member_id')::bigint, 0) = ? AND (payload->>'post_id')::bigint = ?`, topic, member, post)
}

// events counts crm_events rows of kind for member about subject.
func (e *fenv) events(t *testing.T, member int64, kind, subjectType string, subject int64) int64 {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM crm_events WHERE member_id = ? AND kind = ? AND subject_type = ? AND subject_id = ?`,
		member, kind, subjectType, subject)
}

func TestMentionsWriteOutbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Who knows the hinge trick?", "Asking @wang for help")
	opening := e.view(t, "alice", th.ID).Posts[0]
	if n := e.outboxRows(t, "notify.mention", e.ids["wang"], opening.ID); n != 1 {
		t.Fatalf("mention in the opening post: %d outbox rows for wang, want 1", n)
	}
	p := e.reply(t, "li", th.ID, "I think @bob knows, and @BOB again, and @nobody_at_all and `@alice` in code.")
	if n := e.outboxRows(t, "notify.mention", e.ids["bob"], p.ID); n != 1 {
		t.Fatalf("mention of @bob: %d outbox rows, want 1", n)
	}
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'notify.mention' AND (payload->>'post_id')::bigint = ?", p.ID); n != 1 {
		t.Fatalf("reply mentions: %d rows, want only bob's", n)
	}
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'notify.mention' AND (payload->>'by')::bigint = ? AND (payload->>'post_id')::bigint = ?", e.ids["li"], p.ID); n != 1 {
		t.Fatal("mention row does not name who mentioned")
	}
	// the reply's other side effects, written with it
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'search.post' AND (payload->>'post_id')::bigint = ?", p.ID); n != 1 {
		t.Fatalf("search.post rows for the reply: %d", n)
	}
	if n := e.outboxRows(t, "notify.reply", e.ids["alice"], p.ID); n != 1 {
		t.Fatalf("notify.reply to the thread's author: %d", n)
	}
	if n := e.events(t, e.ids["li"], "forum.reply_created", "post", p.ID); n != 1 {
		t.Fatalf("forum.reply_created events: %d", n)
	}
	// mentioning oneself notifies nobody
	self := e.reply(t, "bob", th.ID, "As @bob I confirm.")
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'notify.mention' AND (payload->>'post_id')::bigint = ?", self.ID); n != 0 {
		t.Fatalf("self-mention wrote %d notification rows", n)
	}
	// the author replying in their own thread is not notified of it
	own := e.reply(t, "alice", th.ID, "thanks all")
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'notify.reply' AND (payload->>'post_id')::bigint = ?", own.ID); n != 0 {
		t.Fatalf("author notified of their own reply: %d", n)
	}
	// a refused reply writes nothing
	e.moderate(t, th.ID, map[string]any{"locked": true})
	before := e.count(t, "SELECT count(*) FROM outbox")
	mustErr(t, e.call(t, http.MethodPost, fmt.Sprintf("/api/v1/threads/%d/posts", th.ID), map[string]any{"body": "@wang hi"}, "li"), 403, "", "reply to locked")
	if after := e.count(t, "SELECT count(*) FROM outbox"); after != before {
		t.Fatalf("refused reply left outbox rows: %d → %d", before, after)
	}
}

func TestEngagementEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Engagement event question", "?")
	if n := e.events(t, e.ids["alice"], "forum.thread_created", "thread", th.ID); n != 1 {
		t.Fatalf("thread_created: %d", n)
	}
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'search.thread' AND (payload->>'thread_id')::bigint = ?", th.ID); n < 1 {
		t.Fatal("thread creation not queued for search")
	}
	p := e.reply(t, "bob", th.ID, "answer")
	if n := e.events(t, e.ids["bob"], "forum.reply_created", "post", p.ID); n != 1 {
		t.Fatalf("reply_created: %d", n)
	}
	must(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/posts/%d/reactions/like", p.ID), nil, "wang"), 200, "react")
	if g, r := e.events(t, e.ids["wang"], "forum.reaction_given", "post", p.ID), e.events(t, e.ids["bob"], "forum.reaction_received", "post", p.ID); g != 1 || r != 1 {
		t.Fatalf("reaction events: given %d, received %d", g, r)
	}
	// a repeated reaction is not a new event; taking one back is not an event
	must(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/posts/%d/reactions/like", p.ID), nil, "wang"), 200, "react again")
	must(t, e.call(t, http.MethodDelete, fmt.Sprintf("/api/v1/posts/%d/reactions/like", p.ID), nil, "wang"), 200, "unreact")
	if n := e.count(t, "SELECT count(*) FROM crm_events WHERE kind LIKE 'forum.reaction_%'"); n != 2 {
		t.Fatalf("reaction events after repeat and undo: %d, want 2", n)
	}
	must(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/threads/%d/accepted", th.ID), map[string]any{"post_id": p.ID}, "alice"), 200, "accept")
	if n := e.events(t, e.ids["bob"], "forum.answer_accepted", "post", p.ID); n != 1 {
		t.Fatalf("answer_accepted for the answerer: %d", n)
	}
	must(t, e.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", p.ID), map[string]any{"body": "better answer"}, "bob"), 200, "edit")
	if n := e.events(t, e.ids["bob"], "forum.post_edited", "post", p.ID); n != 1 {
		t.Fatalf("post_edited: %d", n)
	}
	must(t, e.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", p.ID), map[string]any{"body": "tidied"}, "moderator"), 200, "moderator edit")
	if n := e.events(t, e.ids["moderator"], "forum.post_edited", "post", p.ID); n != 1 {
		t.Fatalf("post_edited by the moderator: %d", n)
	}
	// refused actions append nothing
	before := e.count(t, "SELECT count(*) FROM crm_events")
	mustErr(t, e.call(t, http.MethodPut, fmt.Sprintf("/api/v1/posts/%d/reactions/like", p.ID), nil, "bob"), 403, "", "own post")
	mustErr(t, e.call(t, http.MethodPost, "/api/v1/threads", map[string]any{"category_id": e.cats["questions"], "title": "x", "body": "y"}, "li"), 422, "title", "bad thread")
	if after := e.count(t, "SELECT count(*) FROM crm_events"); after != before {
		t.Fatalf("refused actions appended events: %d → %d", before, after)
	}
}

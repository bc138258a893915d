package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/search"
)

func TestTopicsMatchTheForum(t *testing.T) {
	if search.TopicThread != forum.TopicIndexThread || search.TopicPost != forum.TopicIndexPost {
		t.Fatalf("search listens on %q/%q, the forum writes %q/%q",
			search.TopicThread, search.TopicPost, forum.TopicIndexThread, forum.TopicIndexPost)
	}
}

// TestIndexingFollowsForumChanges drives every forum change that writes a search
// outbox row and checks the index after each: create, reply, edit, accept, hide, move,
// delete and restore.
func TestIndexingFollowsForumChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	th := e.thread(t, "alice", "questions", "Flux capacitor overheats after update",
		"My **flux capacitor** gets hot.\n\nIt started with firmware 2.1.", "x200", "heat")
	r1 := e.reply(t, "bob", th.ID, "Try a *cold reset*: hold the button for 10 seconds.")
	r2 := e.reply(t, "wang", th.ID, "我也遇到过这个问题。")
	e.settle(t)

	docs := e.docs(t)
	tid, p1, p2 := search.DocID("thread", th.ID), search.DocID("post", r1.ID), search.DocID("post", r2.ID)
	if got := keys(docs); !slices.Equal(got, []string{p1, p2, tid}) {
		t.Fatalf("documents after create: %v", got)
	}
	d := docs[tid]
	if d.Kind != "thread" || d.Type != "question" || d.Title != "Flux capacitor overheats after update" ||
		d.Body != "My flux capacitor gets hot. It started with firmware 2.1." ||
		d.CategoryID != e.cats["questions"] || !slices.Equal(d.ReadRoles, []string{"everyone"}) ||
		!slices.Equal(d.Tags, []string{"x200", "heat"}) || d.Status != "unsolved" || d.Solved ||
		d.Author != "alice" || d.AuthorName != "Alice Chen" || d.Replies != 2 || d.CreatedAt == 0 ||
		!strings.HasPrefix(d.URL, "/t/") {
		t.Fatalf("thread document: %+v", d)
	}
	if r := docs[p1]; r.Kind != "post" || r.ThreadID != th.ID || r.Title != d.Title || r.Author != "bob" ||
		r.Body != "Try a cold reset: hold the button for 10 seconds." || !strings.HasSuffix(r.URL, "#post-2") {
		t.Fatalf("reply document: %+v", r)
	}

	// The author edits the title and opening post: the replies carry the new title.
	var first int64
	e.DB.Raw("SELECT id FROM forum_posts WHERE thread_id = ? AND number = 1", th.ID).Scan(&first)
	title := "Flux capacitor overheats since firmware 2.1"
	if _, err := e.Forum.EditPost(ctx, e.actor("alice"), first, forum.PostEdit{Body: "Now it is **very** hot.", Title: &title}); err != nil {
		t.Fatal(err)
	}
	// The asker accepts bob's answer: thread and replies are "solved".
	if _, err := e.Forum.Accept(ctx, e.actor("alice"), th.ID, r1.ID); err != nil {
		t.Fatal(err)
	}
	// A moderator hides wang's reply.
	yes, no := true, false
	if _, err := e.Forum.ModeratePost(ctx, e.actor("moderator"), r2.ID, forum.PostChange{Hidden: &yes}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	docs = e.docs(t)
	if got := keys(docs); !slices.Equal(got, []string{p1, tid}) {
		t.Fatalf("documents after hiding a reply: %v", got)
	}
	if d := docs[tid]; d.Title != title || d.Body != "Now it is very hot." || d.Status != "solved" || !d.Solved || d.Replies != 1 {
		t.Fatalf("thread after edit and accept: %+v", d)
	}
	if r := docs[p1]; r.Title != title || r.Status != "solved" || !r.Solved {
		t.Fatalf("reply after its thread changed: %+v", r)
	}

	// Moving the thread to the staff room narrows the read roles of thread and reply.
	staff := e.cats["staff"]
	if _, err := e.Forum.ModerateThread(ctx, e.actor("moderator"), th.ID, forum.ThreadChange{CategoryID: &staff}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	for _, id := range []string{tid, p1} {
		d := e.docs(t)[id]
		if d.CategoryID != staff || !slices.Equal(d.ReadRoles, []string{"moderator", "marketer", "admin"}) {
			t.Fatalf("%s after move: category %d roles %v", id, d.CategoryID, d.ReadRoles)
		}
	}

	// Hiding the thread removes it and its replies; restoring brings back the visible ones.
	if _, err := e.Forum.ModerateThread(ctx, e.actor("moderator"), th.ID, forum.ThreadChange{Hidden: &yes}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if got := keys(e.docs(t)); len(got) != 0 {
		t.Fatalf("documents of a hidden thread: %v", got)
	}
	if _, err := e.Forum.ModerateThread(ctx, e.actor("moderator"), th.ID, forum.ThreadChange{Hidden: &no}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if got := keys(e.docs(t)); !slices.Equal(got, []string{p1, tid}) {
		t.Fatalf("documents after restoring: %v", got)
	}
	if _, err := e.Forum.ModerateThread(ctx, e.actor("moderator"), th.ID, forum.ThreadChange{Deleted: &yes}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if got := keys(e.docs(t)); len(got) != 0 {
		t.Fatalf("documents of a deleted thread: %v", got)
	}
}

// TestHandlersAreIdempotent replays every processed search row: the index must not change.
func TestHandlersAreIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.thread(t, "alice", "questions", "Replayed messages change nothing", "Body of the replayed thread.")
	e.reply(t, "bob", th.ID, "A reply that is indexed twice.")
	e.settle(t)
	before := e.docs(t)
	res := e.DB.Exec(`UPDATE outbox SET processed_at = NULL, attempts = 0, available_at = now() WHERE topic LIKE 'search.%'`)
	if res.Error != nil || res.RowsAffected < 3 {
		t.Fatalf("replay: %v %d", res.Error, res.RowsAffected)
	}
	e.settle(t)
	after := e.docs(t)
	if !slices.Equal(keys(before), keys(after)) {
		t.Fatalf("replay changed the documents: %v → %v", keys(before), keys(after))
	}
	for id, d := range before {
		if a := after[id]; a.Title != d.Title || a.Body != d.Body || a.Replies != d.Replies {
			t.Fatalf("replay changed %s: %+v → %+v", id, d, a)
		}
	}
}

// TestErasedMemberLeavesTheIndex: erasing an account re-indexes its posts, so its
// name and handle can no longer be searched for.
func TestErasedMemberLeavesTheIndex(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.thread(t, "alice", "questions", "Thread by a member who leaves", "Some body text.")
	other := e.thread(t, "bob", "questions", "Thread by someone staying", "Other body text.")
	r := e.reply(t, "alice", other.ID, "A reply by the leaving member.")
	e.settle(t)
	if got := e.search(t, "", "q=Alice+Chen").ids(); len(got) != 2 {
		t.Fatalf("before erasure, her name finds %v", got)
	}
	if err := e.CRM.Erase(context.Background(), crm.Actor{ID: e.ids["alice"], Role: "member"}, e.Privacy); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	docs := e.docs(t)
	for _, id := range []string{search.DocID("thread", th.ID), search.DocID("post", r.ID)} {
		if d := docs[id]; d.AuthorName != "Former member" || d.Author == "alice" {
			t.Errorf("%s still names %q (%s)", id, d.AuthorName, d.Author)
		}
	}
	if got := e.search(t, "", "q=Alice+Chen").ids(); len(got) != 0 {
		t.Errorf("after erasure, her name still finds %v", got)
	}
	if got := e.search(t, "", "author=alice").ids(); len(got) != 0 {
		t.Errorf("after erasure, her handle still finds %v", got)
	}
}

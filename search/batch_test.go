package search_test

import (
	"context"
	"testing"

	"github.com/hearth-community/hearth/search"
)

// TestReplyAndThreadInOneTask: a reply and its thread's new reply count reach
// Meilisearch in one task, and the thread's own outbox row sends nothing more; once
// the fingerprints are forgotten (a failed task, a rebuild), the thread's row sends
// the thread again.
func TestReplyAndThreadInOneTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	th := e.thread(t, "alice", "questions", "Gecko hub drops the network", "The gecko hub drops off.")
	e.settle(t)
	step := func(wantTasks, wantReplies int) {
		t.Helper()
		r := e.reply(t, "bob", th.ID, "Gecko reply number "+itoa(int64(wantReplies)))
		for {
			n, err := e.w.ProcessBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		var tasks int
		e.DB.Raw(`SELECT count(*) FROM search_tasks`).Scan(&tasks)
		e.settle(t)
		docs := e.docs(t)
		if tasks != wantTasks || docs[search.DocID("thread", th.ID)].Replies != wantReplies || docs[search.DocID("post", r.ID)].ID == "" {
			t.Fatalf("reply %d: %d tasks (want %d), thread document %+v", wantReplies, tasks, wantTasks, docs[search.DocID("thread", th.ID)])
		}
	}
	step(1, 1)
	step(1, 2)
	e.DB.Exec(`DELETE FROM search_fanout`)
	step(2, 3)
	step(1, 4)
}

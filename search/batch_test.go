package search_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
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
	// Row by row (the batch handler sends a claim's rows in one task anyway).
	w := outbox.NewWorker(e.DB, "", e.ix.Handlers(), outbox.Options{Logger: testenv.Logger(t)})
	step := func(wantTasks, wantReplies int) {
		t.Helper()
		r := e.reply(t, "bob", th.ID, "Gecko reply number "+itoa(int64(wantReplies)))
		for {
			n, err := w.ProcessBatch(ctx)
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

// TestClaimInOneTask: the search lane sends a claimed batch of rows (new threads,
// replies, a hidden reply) as one Meilisearch task of documents and one of deletions,
// each tracked once per row, and the index ends as the database says.
func TestClaimInOneTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.thread(t, "alice", "questions", "Walrus pump stalls", "The walrus pump stalls at night.")
	b := e.thread(t, "bob", "questions", "Narwhal valve leaks", "The narwhal valve leaks slowly.")
	r1 := e.reply(t, "bob", a.ID, "Walrus answer one")
	r2 := e.reply(t, "alice", b.ID, "Narwhal answer one")
	r3 := e.reply(t, "alice", a.ID, "Walrus answer two")
	err := db.InTx(ctx, e.DB, func(ctx context.Context) error {
		if err := db.Conn(ctx, e.DB).Exec(`UPDATE forum_posts SET hidden = true WHERE id = ?`, r2.ID).Error; err != nil {
			return err
		}
		return search.Enqueue(ctx, e.DB, search.TopicPost, "post_id", r2.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	e.DB.Raw(`SELECT count(*) FROM outbox WHERE topic LIKE 'search.%' AND processed_at IS NULL`).Scan(&rows)
	if n, err := e.w.ProcessBatch(ctx); err != nil || int64(n) != rows {
		t.Fatalf("ProcessBatch = %d, %v; want %d rows", n, err, rows)
	}
	var tasks, tracked int64
	e.DB.Raw(`SELECT count(DISTINCT task_uid), count(*) FROM search_tasks`).Row().Scan(&tasks, &tracked)
	// One task adds the documents, one deletes the hidden reply's.
	if tasks != 2 || tracked != 2*rows {
		t.Fatalf("%d tasks tracked %d times for %d rows, want 2 tasks, each for every row", tasks, tracked, rows)
	}
	e.settle(t)
	docs := e.docs(t)
	for _, id := range []string{search.DocID("thread", a.ID), search.DocID("thread", b.ID), search.DocID("post", r1.ID), search.DocID("post", r3.ID)} {
		if docs[id].ID == "" {
			t.Errorf("%s missing from the index", id)
		}
	}
	if docs[search.DocID("post", r2.ID)].ID != "" {
		t.Errorf("hidden reply %d is in the index", r2.ID)
	}
	if got := docs[search.DocID("thread", a.ID)].Replies; got != 2 {
		t.Errorf("thread %d indexed with %d replies, want 2", a.ID, got)
	}
}

// TestFailedClaimTaskReopensEveryRow: when the one task of a claimed batch fails, every
// row it carried is reopened, and all of them reach the index once it is repaired.
func TestFailedClaimTaskReopensEveryRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	breakIndex(t, e)
	a := e.thread(t, "alice", "questions", "Okapi filter clogs", "The okapi filter clogs.")
	b := e.thread(t, "bob", "questions", "Tapir belt slips", "The tapir belt slips.")
	if n, err := e.w.ProcessBatch(ctx); err != nil || n < 2 {
		t.Fatalf("ProcessBatch = %d, %v; want the two threads' rows", n, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var reopened int64
	for reopened < 2 && time.Now().Before(deadline) {
		if _, err := e.ix.TrackOnce(ctx); err != nil {
			t.Fatal(err)
		}
		e.DB.Raw(`SELECT count(*) FROM outbox WHERE topic = 'search.thread' AND processed_at IS NULL AND last_error LIKE '%meilisearch task%'`).Scan(&reopened)
		time.Sleep(20 * time.Millisecond)
	}
	if reopened != 2 {
		t.Fatalf("%d of the 2 rows of the failed task reopened", reopened)
	}
	if ti, err := e.Search.Meili.DeleteIndex(e.Search.Index(search.Index)); err == nil {
		_, _ = e.Search.Meili.WaitForTask(ti.TaskUID, 10*time.Millisecond)
	}
	if err := e.ix.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	e.DB.Exec(`UPDATE outbox SET available_at = now() WHERE processed_at IS NULL`)
	e.settle(t)
	docs := e.docs(t)
	if docs[search.DocID("thread", a.ID)].ID == "" || docs[search.DocID("thread", b.ID)].ID == "" {
		t.Fatalf("after the repair the index holds %v", keys(docs))
	}
}

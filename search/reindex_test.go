package search_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/meilisearch/meilisearch-go"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/search"
)

// TestReindexRebuildsTheSameDocuments rebuilds the index from PostgreSQL while
// searching it: the live index answers between every batch, the rebuilt documents
// equal those the outbox handlers wrote, and a change made mid-rebuild survives the
// swap.
func TestReindexRebuildsTheSameDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var threads []*forum.Thread
	for i := range 12 {
		th := e.thread(t, "alice", "questions", fmt.Sprintf("Gizmo question number %d", i), fmt.Sprintf("Gizmo body %d.", i), "gizmo")
		e.reply(t, "bob", th.ID, fmt.Sprintf("Gizmo answer %d.", i))
		threads = append(threads, th)
	}
	staff := e.thread(t, "moderator", "staff", "Gizmo staff notes", "Internal gizmo notes.")
	e.settle(t)
	before := e.docs(t)
	if len(before) != 25 {
		t.Fatalf("%d documents before", len(before))
	}

	var progress bytes.Buffer
	batches := 0
	stats, err := e.ix.Rebuild(ctx, search.RebuildOptions{Batch: 5, Progress: &progress, AfterBatch: func() {
		batches++
		// Visitors keep getting answers from the live index, without the staff thread.
		r := e.search(t, "", "q=gizmo&per_page=50")
		if r.Total != 24 {
			t.Errorf("mid-rebuild search (batch %d): %d hits", batches, r.Total)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Documents != 25 || batches < 5 || !strings.Contains(progress.String(), "100%") {
		t.Fatalf("stats %+v, %d batches, progress %q", stats, batches, progress.String())
	}
	e.settle(t)
	after := e.docs(t)
	if !reflect.DeepEqual(before, after) {
		for id, d := range before {
			if !reflect.DeepEqual(d, after[id]) {
				t.Errorf("%s differs:\n before %+v\n after  %+v", id, d, after[id])
			}
		}
		t.Fatalf("rebuilt documents differ: %v vs %v", keys(before), keys(after))
	}
	res, err := e.Search.Meili.ListIndexes(&meilisearch.IndexesQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range res.Results {
		if strings.HasPrefix(ix.UID, e.Search.Prefix) && strings.Contains(ix.UID, "rebuild") {
			t.Errorf("rebuild index left behind: %s", ix.UID)
		}
	}

	// A thread hidden (and its row handled against the old index) mid-rebuild stays
	// hidden after the swap; one edited mid-rebuild keeps the edit; one answered after
	// the rebuild read it counts the new reply (what was sent to the old index does
	// not count as sent).
	yes := true
	hidden, edited, answered := threads[0], threads[11], threads[1]
	title := "Gizmo question renamed during the rebuild"
	var first int64
	e.DB.Raw("SELECT id FROM forum_posts WHERE thread_id = ? AND number = 1", edited.ID).Scan(&first)
	once := false
	if _, err := e.ix.Rebuild(ctx, search.RebuildOptions{Batch: 5, AfterBatch: func() {
		if once {
			return
		}
		once = true
		if _, err := e.Forum.ModerateThread(ctx, e.actor("moderator"), hidden.ID, forum.ThreadChange{Hidden: &yes}); err != nil {
			t.Error(err)
		}
		if _, err := e.Forum.EditPost(ctx, e.actor("alice"), first, forum.PostEdit{Body: "Edited.", Title: &title}); err != nil {
			t.Error(err)
		}
		e.reply(t, "wang", answered.ID, "Another gizmo answer.")
		e.settle(t)
	}}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	docs := e.docs(t)
	if _, ok := docs[search.DocID("thread", hidden.ID)]; ok {
		t.Error("thread hidden during the rebuild is back in the index")
	}
	if d := docs[search.DocID("thread", edited.ID)]; d.Title != title {
		t.Errorf("edit during the rebuild lost: %q", d.Title)
	}
	if d := docs[search.DocID("thread", answered.ID)]; d.Replies != 2 {
		t.Errorf("reply during the rebuild not counted: %d replies", d.Replies)
	}
	if len(docs) != 24 || docs[search.DocID("thread", staff.ID)].ReadRoles == nil {
		t.Errorf("%d documents after the second rebuild", len(docs))
	}
}

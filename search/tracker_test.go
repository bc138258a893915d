package search_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/search"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// breakIndex recreates e's index with another primary key, so Meilisearch fails every
// task that adds documents.
func breakIndex(t *testing.T, e *senv) {
	t.Helper()
	name := e.Search.Index(search.Index)
	if ti, err := e.Search.Meili.DeleteIndex(name); err == nil {
		_, _ = e.Search.Meili.WaitForTask(ti.TaskUID, 10*time.Millisecond)
	}
	ti, err := e.Search.Meili.CreateIndex(&meilisearch.IndexConfig{Uid: name, PrimaryKey: "ref_id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Search.Meili.WaitForTask(ti.TaskUID, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// TestFailedTaskIsRetriedAndReported makes Meilisearch fail the indexing task (the
// index was created with another primary key): the failure is logged and counted,
// the outbox row is reopened and retried until the index is repaired, and a row that
// keeps failing is parked, never dropped.
func TestFailedTaskIsRetriedAndReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	backend := search.NewMeiliBackend(e.Search)
	ix := search.NewIndexer(e.DB, backend, search.ForumKinds(e.DB), slog.New(slog.NewTextHandler(&logs, nil)), reg)
	ix.BaseBackoff, ix.MaxBackoff, ix.MaxAttempts = time.Millisecond, 5*time.Millisecond, 3
	w := outbox.NewWorker(e.DB, "", ix.Handlers(), outbox.Options{MaxAttempts: 3,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	breakIndex(t, e)
	th := e.thread(t, "alice", "questions", "A thread Meilisearch refuses at first", "Body text.")
	// Deliver the search rows and track their tasks until the failure comes back.
	deadline := time.Now().Add(20 * time.Second)
	var reopened int64
	for reopened == 0 && time.Now().Before(deadline) {
		if _, err := w.ProcessBatch(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ix.TrackOnce(ctx); err != nil {
			t.Fatal(err)
		}
		e.DB.Raw(`SELECT count(*) FROM outbox WHERE topic = 'search.thread' AND processed_at IS NULL AND last_error LIKE '%meilisearch task%'`).Scan(&reopened)
		time.Sleep(20 * time.Millisecond)
	}
	if reopened == 0 {
		t.Fatalf("the failed task did not reopen its outbox row; logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "meilisearch task failed") {
		t.Errorf("failure not logged:\n%s", logs.String())
	}
	if n := counter(t, reg, "hearth_search_tasks_total", "failed"); n < 1 {
		t.Errorf("hearth_search_tasks_total{outcome=failed} = %v", n)
	}

	// Repair the index: the retry goes through and the document arrives.
	if ti, err := e.Search.Meili.DeleteIndex(e.Search.Index(search.Index)); err == nil {
		_, _ = e.Search.Meili.WaitForTask(ti.TaskUID, 10*time.Millisecond)
	}
	if err := ix.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		if _, err := w.ProcessBatch(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ix.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.docs(t)[search.DocID("thread", th.ID)]; ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := e.docs(t)[search.DocID("thread", th.ID)]; !ok {
		t.Fatalf("document never arrived after the repair; logs:\n%s", logs.String())
	}

	// A row that keeps failing is parked after MaxAttempts, for an operator to see.
	breakIndex(t, e)
	e.DB.Exec(`UPDATE outbox SET processed_at = NULL, attempts = 0, available_at = now(), last_error = '' WHERE topic = 'search.thread'`)
	var parked int64
	for deadline = time.Now().Add(30 * time.Second); parked == 0 && time.Now().Before(deadline); {
		_, _ = w.ProcessBatch(ctx)
		_, _ = ix.TrackOnce(ctx)
		e.DB.Raw(`SELECT count(*) FROM outbox WHERE topic = 'search.thread' AND parked_at IS NOT NULL`).Scan(&parked)
		time.Sleep(10 * time.Millisecond)
	}
	if parked == 0 {
		t.Fatalf("a task failing every time was never parked; logs:\n%s", logs.String())
	}
}

// counter reads a counter from a registry: the series with a label of value label,
// or the unlabelled one when label is empty.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" && m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

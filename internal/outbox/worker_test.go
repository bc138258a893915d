package outbox_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runWorker starts w.Run and returns a stop function that cancels it and checks it
// returned nil.
func runWorker(t *testing.T, w *outbox.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run returned %v after cancellation, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancellation")
		}
	}
}

func TestConcurrentWorkersNeverHandleARowTwice(t *testing.T) {
	t.Parallel()
	url := testenv.URL(t)
	gdb := testenv.Open(t, url)
	createEffects(t, gdb)
	const rows, workers = 500, 4
	err := db.InTx(context.Background(), gdb, func(ctx context.Context) error {
		for i := range rows {
			if err := outbox.Enqueue(ctx, gdb, "index", map[string]int{"i": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var inFlight sync.Map
	var overlaps atomic.Int32
	var handledBy [workers]atomic.Int32
	stops := make([]func(), workers)
	for k := range workers {
		handler := func(ctx context.Context, m outbox.Message) error {
			if other, busy := inFlight.LoadOrStore(m.ID, k); busy {
				overlaps.Add(1)
				t.Errorf("row %d handled by workers %d and %d at once", m.ID, other, k)
			}
			defer inFlight.Delete(m.ID)
			time.Sleep(time.Duration(rand.N(500)) * time.Microsecond)
			handledBy[k].Add(1)
			return recordEffect(ctx, gdb, m.ID)
		}
		w := outbox.NewWorker(gdb, url, map[string]outbox.Handler{"index": handler},
			outbox.Options{Batch: 10, PollInterval: 50 * time.Millisecond, Logger: testLogger(t)})
		stops[k] = runWorker(t, w)
	}
	waitFor(t, 60*time.Second, "every row processed", func() bool {
		pending, _, err := outbox.Stats(context.Background(), gdb)
		return err == nil && pending == 0
	})
	for _, stop := range stops {
		stop()
	}

	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d overlapping deliveries", n)
	}
	if got, maxN := effectCount(t, gdb); got != rows || maxN != 1 {
		t.Fatalf("effects = %d rows, max deliveries %d; want %d rows delivered once each", got, maxN, rows)
	}
	var bad int64
	if err := gdb.WithContext(context.Background()).Raw(
		`SELECT count(*) FROM outbox WHERE processed_at IS NULL OR attempts <> 1`).Scan(&bad).Error; err != nil || bad != 0 {
		t.Fatalf("%d rows not processed in exactly one attempt (%v)", bad, err)
	}
	busy := 0
	for k := range workers {
		if handledBy[k].Load() > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Fatalf("only %d of %d workers handled rows; the test did not exercise concurrency", busy, workers)
	}
}

func TestRowSurvivesAWorkerThatDiesHoldingIt(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	createEffects(t, gdb)
	id := enqueue(t, gdb, "mail", nil)
	const lease = 2 * time.Second

	// The first worker "dies" mid-row: its handler hangs past the lease. MaxAttempts 1
	// makes its eventual failure park the row, if it were wrongly applied.
	entered, unblock, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	dying := outbox.NewWorker(gdb, "", map[string]outbox.Handler{"mail": func(context.Context, outbox.Message) error {
		close(entered)
		<-unblock
		return errors.New("too late: the process was gone")
	}}, outbox.Options{Lease: lease, MaxAttempts: 1, Logger: testLogger(t)})
	go func() {
		defer close(done)
		_, _ = dying.ProcessBatch(context.Background())
	}()
	finish := sync.OnceFunc(func() { close(unblock); <-done })
	defer finish()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first worker never claimed the row")
	}
	claimed := time.Now()

	// The first worker comes back to life while the second delivers, and reports its
	// stale failure: that must neither park nor reschedule the second worker's claim.
	rescuer := outbox.NewWorker(gdb, "", map[string]outbox.Handler{"mail": func(ctx context.Context, m outbox.Message) error {
		finish()
		return recordEffect(ctx, gdb, m.ID)
	}}, outbox.Options{Lease: lease, Logger: testLogger(t)})
	if n := processBatch(t, rescuer); n != 0 {
		t.Fatalf("a leased row was claimed by a second worker (%d rows)", n)
	}
	waitFor(t, 10*time.Second, "the row to be claimed again after its lease", func() bool {
		return processBatch(t, rescuer) == 1
	})
	if waited := time.Since(claimed); waited < lease/2 {
		t.Fatalf("row reclaimed after %s, before its %s lease could lapse", waited, lease)
	}
	if r := getRow(t, gdb, id); r.ProcessedAt == nil || r.ParkedAt != nil || r.LastError != "" || r.Attempts != 2 {
		t.Fatalf("row = %+v, want processed on the second attempt, untouched by the stale failure", r)
	}
	if rows, _ := effectCount(t, gdb); rows != 1 {
		t.Fatalf("effects = %d, want 1", rows)
	}
}

// listenerPID returns the backend pid of a worker's LISTEN connection on gdb's database,
// or 0 if none is listening.
func listenerPID(t *testing.T, gdb *gorm.DB) (pid int64) {
	t.Helper()
	err := gdb.WithContext(context.Background()).Raw(`
		SELECT coalesce(max(pid), 0) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN hearth_outbox'`).Scan(&pid).Error
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestNotifyWakesAnIdleWorkerAndSurvivesReconnection(t *testing.T) {
	t.Parallel()
	url := testenv.URL(t)
	gdb := testenv.Open(t, url)
	createEffects(t, gdb)
	w := outbox.NewWorker(gdb, url, map[string]outbox.Handler{"index": func(ctx context.Context, m outbox.Message) error {
		return recordEffect(ctx, gdb, m.ID)
	}}, outbox.Options{PollInterval: time.Minute, Logger: testLogger(t)})
	stop := runWorker(t, w)
	defer stop()

	// deliveredPromptly enqueues once the worker sits idle on LISTEN, so that only a
	// notification (PollInterval is a minute) can explain a prompt delivery.
	deliveredPromptly := func(step string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond) // let the round that follows LISTEN finish
		id := enqueue(t, gdb, "index", nil)
		waitFor(t, 5*time.Second, step+": the NOTIFY to wake the worker", func() bool {
			return getRow(t, gdb, id).ProcessedAt != nil
		})
	}

	var pid int64
	waitFor(t, 10*time.Second, "the worker to LISTEN", func() bool { pid = listenerPID(t, gdb); return pid != 0 })
	deliveredPromptly("first listener")

	if err := gdb.WithContext(context.Background()).Exec(`SELECT pg_terminate_backend(?)`, pid).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the listener to reconnect", func() bool {
		p := listenerPID(t, gdb)
		return p != 0 && p != pid
	})
	deliveredPromptly("after reconnection")
}

func TestShutdownFinishesTheRowInHandAndReleasesTheRest(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	ids := []int64{enqueue(t, gdb, "index", nil), enqueue(t, gdb, "index", nil), enqueue(t, gdb, "index", nil)}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	w := outbox.NewWorker(gdb, "", map[string]outbox.Handler{"index": func(hctx context.Context, m outbox.Message) error {
		calls.Add(1)
		cancel() // shutdown arrives while this row is in hand
		return hctx.Err()
	}}, outbox.Options{Batch: 10, Logger: testLogger(t)})
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil on cancellation", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times after shutdown began, want 1", n)
	}
	if r := getRow(t, gdb, ids[0]); r.ProcessedAt == nil {
		t.Fatalf("row in hand = %+v, want finished with a live context", r)
	}
	for _, id := range ids[1:] {
		if r := getRow(t, gdb, id); r.Attempts != 0 || r.DueIn > 0 || r.ProcessedAt != nil {
			t.Fatalf("unhandled row %d = %+v, want released: no attempt, due now", id, r)
		}
	}
}

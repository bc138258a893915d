package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

// outboxRow is the persisted state of one row; DueIn is seconds until available_at.
type outboxRow struct {
	Topic       string
	Attempts    int
	LastError   string
	ProcessedAt *time.Time
	ParkedAt    *time.Time
	DueIn       float64
}

func getRow(t *testing.T, gdb *gorm.DB, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	err := gdb.WithContext(context.Background()).Raw(`
		SELECT topic, attempts, last_error, processed_at, parked_at,
		       extract(epoch FROM available_at - now())::float8 AS due_in
		FROM outbox WHERE id = ?`, id).Scan(&r).Error
	if err != nil {
		t.Fatalf("read outbox row %d: %v", id, err)
	}
	return r
}

// enqueue commits one outbox row and returns its id.
func enqueue(t *testing.T, gdb *gorm.DB, topic string, payload any) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := db.InTx(ctx, gdb, func(ctx context.Context) error {
		if err := outbox.Enqueue(ctx, gdb, topic, payload); err != nil {
			return err
		}
		return db.Conn(ctx, gdb).Raw(`SELECT max(id) FROM outbox`).Scan(&id).Error
	})
	if err != nil {
		t.Fatalf("enqueue %s: %v", topic, err)
	}
	return id
}

// makeDue ends every backoff and lease, as if time had passed.
func makeDue(t *testing.T, gdb *gorm.DB) {
	t.Helper()
	if err := gdb.WithContext(context.Background()).Exec(`UPDATE outbox SET available_at = now()`).Error; err != nil {
		t.Fatalf("make rows due: %v", err)
	}
}

// createEffects makes the table handlers write their effect into, counting deliveries
// per outbox row so a test can tell "once" from "at least once".
func createEffects(t *testing.T, gdb *gorm.DB) {
	t.Helper()
	err := gdb.WithContext(context.Background()).Exec(
		`CREATE TABLE effects (outbox_id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 1)`).Error
	if err != nil {
		t.Fatalf("create effects: %v", err)
	}
}

// recordEffect is the idempotent effect of the tests' handlers: a second delivery of
// the same row bumps n instead of adding a row.
func recordEffect(ctx context.Context, gdb *gorm.DB, id int64) error {
	return gdb.WithContext(ctx).Exec(`
		INSERT INTO effects (outbox_id) VALUES (?)
		ON CONFLICT (outbox_id) DO UPDATE SET n = effects.n + 1`, id).Error
}

func effectCount(t *testing.T, gdb *gorm.DB) (rows, maxN int64) {
	t.Helper()
	var r struct{ Rows, MaxN int64 }
	if err := gdb.WithContext(context.Background()).Raw(
		`SELECT count(*) AS rows, coalesce(max(n), 0) AS max_n FROM effects`).Scan(&r).Error; err != nil {
		t.Fatalf("count effects: %v", err)
	}
	return r.Rows, r.MaxN
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func processBatch(t *testing.T, w *outbox.Worker) int {
	t.Helper()
	n, err := w.ProcessBatch(context.Background())
	if err != nil {
		t.Fatalf("ProcessBatch: %v", err)
	}
	return n
}

func TestEnqueueJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	ctx := context.Background()
	count := func() (n int64) {
		t.Helper()
		if err := gdb.WithContext(ctx).Raw(`SELECT count(*) FROM outbox`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := outbox.Enqueue(ctx, gdb, "index", nil); !errors.Is(err, outbox.ErrNoTransaction) {
		t.Fatalf("Enqueue outside a transaction = %v, want ErrNoTransaction", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("refused Enqueue wrote %d rows", n)
	}

	boom := errors.New("change failed")
	err := db.InTx(ctx, gdb, func(ctx context.Context) error {
		if err := outbox.Enqueue(ctx, gdb, "index", map[string]int{"post_id": 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want %v", err, boom)
	}
	if n := count(); n != 0 {
		t.Fatalf("rolled-back Enqueue left %d rows", n)
	}

	id := enqueue(t, gdb, "index", map[string]int{"post_id": 7})
	if n := count(); n != 1 {
		t.Fatalf("committed Enqueue left %d rows, want 1", n)
	}
	var payload string
	if err := gdb.WithContext(ctx).Raw(`SELECT payload::text FROM outbox WHERE id = ?`, id).Scan(&payload).Error; err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := json.Unmarshal([]byte(payload), &got); err != nil || got["post_id"] != 7 {
		t.Fatalf("payload = %s (%v), want post_id 7", payload, err)
	}
	if r := getRow(t, gdb, id); r.Topic != "index" || r.Attempts != 0 || r.DueIn > 0 {
		t.Fatalf("new row = %+v, want topic index, no attempts, due now", r)
	}
}

func TestFailedDeliveriesAreRetriedUntilOneSucceeds(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	createEffects(t, gdb)
	id := enqueue(t, gdb, "index", map[string]int{"post_id": 42})

	var calls atomic.Int32
	handler := func(ctx context.Context, m outbox.Message) error {
		n := calls.Add(1)
		var p struct {
			PostID int `json:"post_id"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.PostID != 42 || m.ID != id {
			t.Errorf("message = %+v (payload %s), want id %d post_id 42", m, m.Payload, id)
		}
		if m.Attempts != int(n) {
			t.Errorf("delivery %d reports Attempts %d", n, m.Attempts)
		}
		// The effect lands, then the handler fails: the retry must not duplicate it.
		if err := recordEffect(ctx, gdb, m.ID); err != nil {
			return err
		}
		if n <= 2 {
			return fmt.Errorf("search unavailable at https://indexer:s3cret@search.internal (try %d)", n)
		}
		return nil
	}
	w := outbox.NewWorker(gdb, "", map[string]outbox.Handler{"index": handler},
		outbox.Options{BaseBackoff: time.Minute, Logger: testLogger(t)})

	for try := 1; try <= 2; try++ {
		if n := processBatch(t, w); n != 1 {
			t.Fatalf("try %d handled %d rows, want 1", try, n)
		}
		r := getRow(t, gdb, id)
		if r.ProcessedAt != nil || r.ParkedAt != nil || r.Attempts != try {
			t.Fatalf("after failure %d row = %+v, want pending with %d attempts", try, r, try)
		}
		if !strings.Contains(r.LastError, "search unavailable") || strings.Contains(r.LastError, "s3cret") {
			t.Fatalf("last_error = %q, want the cause without the credentials", r.LastError)
		}
		// Backoff of try 1 is 30s–1m, of try 2 1–2m.
		if r.DueIn < 25 {
			t.Fatalf("after failure %d the row is due in %.0fs, want a backoff of at least 30s", try, r.DueIn)
		}
		if n := processBatch(t, w); n != 0 {
			t.Fatalf("a row in backoff was claimed again (%d rows)", n)
		}
		makeDue(t, gdb)
	}
	if n := processBatch(t, w); n != 1 {
		t.Fatalf("third try handled %d rows, want 1", n)
	}
	r := getRow(t, gdb, id)
	if r.ProcessedAt == nil || r.Attempts != 3 {
		t.Fatalf("row = %+v, want processed after 3 attempts", r)
	}
	makeDue(t, gdb)
	if n := processBatch(t, w); n != 0 {
		t.Fatalf("a processed row was claimed again (%d rows)", n)
	}
	if rows, maxN := effectCount(t, gdb); rows != 1 || calls.Load() != 3 {
		t.Fatalf("effects = %d rows (max n %d) after %d calls, want 1 effect from 3 calls", rows, maxN, calls.Load())
	}
}

func TestRowIsParkedAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler outbox.Handler
		wantErr string
	}{
		{"error", func(context.Context, outbox.Message) error { return errors.New("smtp 550 mailbox unavailable") }, "smtp 550"},
		{"panic", func(context.Context, outbox.Message) error { panic("assignment to entry in nil map") }, "panicked: assignment to entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gdb := testenv.DB(t)
			reg := prometheus.NewRegistry()
			id := enqueue(t, gdb, "mail", nil)
			foreign := enqueue(t, gdb, "webhook", nil) // a topic this worker does not know
			w := outbox.NewWorker(gdb, "", map[string]outbox.Handler{"mail": tc.handler},
				outbox.Options{MaxAttempts: 3, BaseBackoff: time.Hour, Logger: testLogger(t), Registerer: reg})

			for try := 1; try <= 3; try++ {
				if n := processBatch(t, w); n != 1 {
					t.Fatalf("try %d handled %d rows, want 1", try, n)
				}
				makeDue(t, gdb)
			}
			if n := processBatch(t, w); n != 0 {
				t.Fatalf("a parked row was claimed again (%d rows)", n)
			}
			r := getRow(t, gdb, id)
			if r.ParkedAt == nil || r.ProcessedAt != nil || r.Attempts != 3 || !strings.Contains(r.LastError, tc.wantErr) {
				t.Fatalf("row = %+v, want parked after 3 attempts with error %q", r, tc.wantErr)
			}
			if f := getRow(t, gdb, foreign); f.Attempts != 0 || f.ProcessedAt != nil || f.ParkedAt != nil {
				t.Fatalf("row of an unknown topic was touched: %+v", f)
			}
			pending, parked, err := outbox.Stats(context.Background(), gdb)
			if err != nil || pending != 1 || parked != 1 {
				t.Fatalf("Stats = %d pending, %d parked (%v), want 1 and 1", pending, parked, err)
			}
			want := map[string]float64{
				"hearth_outbox_failed_total": 3, "hearth_outbox_parked_total": 1, "hearth_outbox_processed_total": 0,
			}
			for name, v := range want {
				if got := counterValue(t, reg, name, "mail"); got != v {
					t.Errorf("%s{topic=mail} = %v, want %v", name, got, v)
				}
			}
		})
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, topic string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "topic" && l.GetValue() == topic {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestTogetherHandlesABatchInOneCallAndFallsBackRowByRow(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	var batches, single atomic.Int32
	bad := int64(0)
	together := func(ctx context.Context, ms []outbox.Message) error {
		batches.Add(1)
		for _, m := range ms {
			if m.ID == bad {
				return errors.New("one bad row")
			}
		}
		return nil
	}
	handler := func(ctx context.Context, m outbox.Message) error {
		single.Add(1)
		if m.ID == bad {
			return errors.New("bad row")
		}
		return nil
	}
	w := outbox.NewWorker(gdb, "", map[string]outbox.Handler{"a": handler, "b": handler},
		outbox.Options{BaseBackoff: time.Minute, Logger: testLogger(t), Together: together})

	ids := []int64{enqueue(t, gdb, "a", 1), enqueue(t, gdb, "b", 2), enqueue(t, gdb, "a", 3)}
	if n := processBatch(t, w); n != 3 {
		t.Fatalf("handled %d rows, want 3", n)
	}
	if batches.Load() != 1 || single.Load() != 0 {
		t.Fatalf("%d batch calls and %d single calls, want one batch call", batches.Load(), single.Load())
	}
	for _, id := range ids {
		if r := getRow(t, gdb, id); r.ProcessedAt == nil || r.Attempts != 1 {
			t.Fatalf("row %d = %+v, want processed", id, r)
		}
	}

	// A failing batch is handled row by row: the good rows succeed, the bad one waits.
	good := enqueue(t, gdb, "a", 4)
	bad = enqueue(t, gdb, "b", 5)
	if n := processBatch(t, w); n != 2 {
		t.Fatalf("handled %d rows, want 2", n)
	}
	if batches.Load() != 2 || single.Load() != 2 {
		t.Fatalf("%d batch calls and %d single calls, want 2 and 2", batches.Load(), single.Load())
	}
	if r := getRow(t, gdb, good); r.ProcessedAt == nil {
		t.Fatalf("good row = %+v, want processed", r)
	}
	if r := getRow(t, gdb, bad); r.ProcessedAt != nil || r.Attempts != 1 || r.LastError != "bad row" {
		t.Fatalf("bad row = %+v, want pending after one failed attempt", r)
	}
}

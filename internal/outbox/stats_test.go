package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

func TestCleanupDeletesOnlyOldProcessedRows(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	ctx := context.Background()
	old := enqueue(t, gdb, "index", nil)
	recent := enqueue(t, gdb, "index", nil)
	pending := enqueue(t, gdb, "index", nil)
	parked := enqueue(t, gdb, "index", nil)
	err := gdb.WithContext(ctx).Exec(`
		UPDATE outbox SET
		  processed_at = CASE WHEN id = ? THEN now() - interval '2 hours' WHEN id = ? THEN now() END,
		  parked_at = CASE WHEN id = ? THEN now() - interval '2 hours' END`, old, recent, parked).Error
	if err != nil {
		t.Fatal(err)
	}
	n, err := outbox.Cleanup(ctx, gdb, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Cleanup = %d, %v; want 1 row deleted", n, err)
	}
	var left []int64
	if err := gdb.WithContext(ctx).Raw(`SELECT id FROM outbox ORDER BY id`).Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(left) != fmt.Sprint([]int64{recent, pending, parked}) {
		t.Fatalf("rows left = %v, want %v", left, []int64{recent, pending, parked})
	}
	if _, err := outbox.Cleanup(ctx, gdb, 0); err == nil {
		t.Fatal("Cleanup with no age deleted everything processed instead of refusing")
	}
}

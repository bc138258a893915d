package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/testenv"
)

func tables(t *testing.T, url string) []string {
	t.Helper()
	g := testenv.Open(t, url)
	var names []string
	g.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY 1`).Scan(&names)
	return names
}

// TestMigrationsUpDownUp applies every migration to an empty database, rolls all of
// them back, and applies them again: each Down must undo its Up exactly.
func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.EmptyURL(t)
	g := testenv.Open(t, url)
	sqlDB, _ := g.DB()
	m, err := db.NewMigrator(sqlDB)
	if err != nil {
		t.Fatal(err)
	}
	if pending, err := m.Pending(ctx); err != nil || !pending {
		t.Fatalf("empty database: pending=%v err=%v", pending, err)
	}
	if err := m.Up(ctx, nil); err != nil {
		t.Fatal(err)
	}
	first := tables(t, url)
	for _, want := range []string{"users", "refresh_tokens", "rate_limits", "outbox", "crm_events", "forum_categories", "partner_companies"} {
		if !strings.Contains(","+strings.Join(first, ",")+",", ","+want+",") {
			t.Fatalf("after up, table %s missing: %v", want, first)
		}
	}
	if pending, _ := m.Pending(ctx); pending {
		t.Fatal("pending after up")
	}
	if err := m.DownAll(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	if left := tables(t, url); len(left) != 0 {
		t.Fatalf("after down, tables remain: %v", left)
	}
	if err := m.Up(ctx, nil); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if again := tables(t, url); strings.Join(again, ",") != strings.Join(first, ",") {
		t.Fatalf("up again differs: %v vs %v", again, first)
	}
	var sb strings.Builder
	if err := m.Status(ctx, &sb); err != nil || !strings.Contains(sb.String(), "applied") || strings.Contains(sb.String(), "pending") {
		t.Fatalf("status: %v\n%s", err, sb.String())
	}
}

func TestInTxJoinsAndRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	g.Exec(`CREATE TABLE t (v int)`)
	err := db.InTx(ctx, g, func(ctx context.Context) error {
		if !db.InTransaction(ctx) {
			t.Fatal("no transaction in ctx")
		}
		db.Conn(ctx, g).Exec(`INSERT INTO t VALUES (1)`)
		// a nested use case joins the same transaction, so its failure undoes both
		return db.InTx(ctx, g, func(ctx context.Context) error {
			db.Conn(ctx, g).Exec(`INSERT INTO t VALUES (2)`)
			return context.Canceled
		})
	})
	if err == nil {
		t.Fatal("error swallowed")
	}
	var n int64
	g.Raw(`SELECT count(*) FROM t`).Scan(&n)
	if n != 0 {
		t.Fatalf("rolled-back rows remain: %d", n)
	}
}

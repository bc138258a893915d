package db

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/hearth-community/hearth/migrations"
)

// Migrator applies the embedded migrations under a PostgreSQL session lock, so several
// `hearth serve` instances starting together migrate once.
type Migrator struct {
	p *goose.Provider
}

// NewMigrator prepares the embedded migrations for sqlDB.
func NewMigrator(sqlDB *sql.DB) (*Migrator, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	// Out-of-order: work landing in parallel may add a lower-numbered migration after a
	// higher one was applied somewhere; it is applied rather than refused.
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration and reports each one to w (may be nil).
func (m *Migrator) Up(ctx context.Context, w io.Writer) error {
	res, err := m.p.Up(ctx)
	for _, r := range res {
		if w != nil {
			fmt.Fprintf(w, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(1e6))
		}
	}
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down rolls back the newest applied migration.
func (m *Migrator) Down(ctx context.Context, w io.Writer) error {
	r, err := m.p.Down(ctx)
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	if w != nil && r != nil {
		fmt.Fprintf(w, "rolled back %s\n", r.Source.Path)
	}
	return nil
}

// DownAll rolls back every applied migration.
func (m *Migrator) DownAll(ctx context.Context) error {
	_, err := m.p.DownTo(ctx, 0)
	return err
}

// Status writes one line per migration: applied or pending.
func (m *Migrator) Status(ctx context.Context, w io.Writer) error {
	st, err := m.p.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		when := "pending"
		if s.State == goose.StateApplied {
			when = "applied " + s.AppliedAt.Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, "%-40s %s\n", s.Source.Path, when)
	}
	return nil
}

// Pending reports whether migrations remain to be applied.
func (m *Migrator) Pending(ctx context.Context) (bool, error) {
	return m.p.HasPending(ctx)
}

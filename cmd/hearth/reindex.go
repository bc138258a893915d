package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/search"
)

// runReindex rebuilds the search index from PostgreSQL into a fresh copy, swapped in
// atomically when complete (searches keep answering meanwhile), with a progress bar.
func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, _, err := open(ctx, args, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.requireMigrated(ctx); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Rebuilding the %s search index from PostgreSQL…\n", a.Search.Engine())
	stats, err := a.SearchIndexer.Rebuild(ctx, search.RebuildOptions{Progress: stderr})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	rate := float64(stats.Documents) / max(stats.Elapsed.Seconds(), 0.001)
	fmt.Fprintf(stdout, "Indexed %d documents in %s (%.0f docs/s); %d changes made meanwhile were queued again.\n",
		stats.Documents, stats.Elapsed.Round(time.Millisecond), rate, stats.Replayed)
	return nil
}

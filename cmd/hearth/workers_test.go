package main

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

// TestSearchRowsHaveTheirOwnLane: a search row enqueued behind a CRM row whose handler
// hangs is still handled, by the search lane.
func TestSearchRowsHaveTheirOwnLane(t *testing.T) {
	t.Parallel()
	gdb := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	indexed, release := make(chan struct{}, 1), make(chan struct{})
	hs := map[string]outbox.Handler{
		"crm.profile": func(context.Context, outbox.Message) error { <-release; return nil },
		"search.post": func(context.Context, outbox.Message) error { indexed <- struct{}{}; return nil },
	}
	err := db.InTx(ctx, gdb, func(ctx context.Context) error {
		for _, topic := range []string{"crm.profile", "search.post"} {
			if err := outbox.Enqueue(ctx, gdb, topic, map[string]int64{"id": 1}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ws := outboxWorkers(&env{log: testenv.Logger(t), db: gdb}, hs, nil, 1, nil)
	if len(ws) != 2 {
		t.Fatalf("%d workers for 1 per lane", len(ws))
	}
	done := make(chan struct{})
	for _, w := range ws {
		go func() { _ = w.Run(ctx); done <- struct{}{} }()
	}
	select {
	case <-indexed:
	case <-time.After(20 * time.Second):
		t.Fatal("the search row waited behind the stuck CRM row")
	}
	close(release)
	cancel()
	for range ws {
		<-done
	}
}

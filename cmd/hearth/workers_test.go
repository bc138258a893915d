package main

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

// TestOutboxLanes: a row enqueued behind a row of another lane whose handler hangs is
// still handled, by its own lane: search rows behind a CRM refresh, CRM refreshes
// behind a webhook delivery.
func TestOutboxLanes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ stuck, other string }{
		{"crm.profile", "search.post"},
		{"crm.webhook", "crm.profile"},
	} {
		t.Run(tc.other, func(t *testing.T) {
			t.Parallel()
			gdb := testenv.DB(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			handled, release := make(chan struct{}, 1), make(chan struct{})
			hs := map[string]outbox.Handler{
				tc.stuck: func(context.Context, outbox.Message) error { <-release; return nil },
				tc.other: func(context.Context, outbox.Message) error { handled <- struct{}{}; return nil },
			}
			err := db.InTx(ctx, gdb, func(ctx context.Context) error {
				for _, topic := range []string{tc.stuck, tc.other} {
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
			case <-handled:
			case <-time.After(20 * time.Second):
				t.Fatalf("the %s row waited behind the stuck %s row", tc.other, tc.stuck)
			}
			close(release)
			cancel()
			for range ws {
				<-done
			}
		})
	}
}

package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/hearth-community/hearth/internal/db"
)

// Tracking: handlers enqueue Meilisearch tasks and return at once, so Meilisearch can
// batch consecutive writes (waiting for each task would cap indexing at one task per
// round trip). Run then polls the recorded tasks. A succeeded task is forgotten; a
// failed one — or one Meilisearch no longer knows after lostAfter — is logged,
// counted, and its outbox row is reopened, so the outbox retries it with backoff and
// parks it after MaxAttempts like any other failure. Nothing is dropped silently.
const (
	trackBatch    = 500
	trackInterval = 200 * time.Millisecond
	lostAfter     = 10 * time.Minute
	// settingsEvery re-checks index settings (an index recreated behind our back,
	// or settings changed by hand, is put back in step).
	settingsEvery   = 5 * time.Minute
	settingsRetry   = 15 * time.Second
	categoriesEvery = 10 * time.Second
	warnEvery       = 30 * time.Second
)

// taskSource is a backend whose writes are asynchronous tasks.
type taskSource interface {
	tasks(ctx context.Context, uids []int64) (map[int64]*meilisearch.Task, error)
}

// tasks looks the uids up. A task of another index is not ours: the uid was reused
// by a Meilisearch that lost its data, so ours counts as lost.
func (b *meiliBackend) tasks(ctx context.Context, uids []int64) (map[int64]*meilisearch.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := b.c.tasks(ctx, uids)
	for uid, t := range got {
		if t.IndexUID != b.index {
			delete(got, uid)
		}
	}
	return got, err
}

func (c *Client) tasks(ctx context.Context, uids []int64) (map[int64]*meilisearch.Task, error) {
	res, err := c.Meili.GetTasksWithContext(ctx, &meilisearch.TasksQuery{UIDS: uids, Limit: int64(len(uids))})
	if err != nil {
		return nil, fmt.Errorf("search: read tasks: %w", err)
	}
	out := make(map[int64]*meilisearch.Task, len(res.Results))
	for i := range res.Results {
		t := &res.Results[i]
		out[t.UID] = t
	}
	return out, nil
}

// Run tracks tasks, keeps index settings in step and watches category read roles
// until ctx ends. Run one per worker process; several are safe. While Meilisearch is
// unreachable it keeps trying, warning at most once per warnEvery.
func (ix *Indexer) Run(ctx context.Context) {
	var nextSettings, nextCats, nextWarn time.Time
	warn := func(msg string, err error) {
		if ctx.Err() == nil && time.Now().After(nextWarn) {
			ix.log.Warn(msg, "err", err)
			nextWarn = time.Now().Add(warnEvery)
		}
	}
	for {
		if now := time.Now(); now.After(nextSettings) {
			nextSettings = now.Add(settingsEvery)
			if err := ix.Prepare(ctx); err != nil {
				nextSettings = now.Add(settingsRetry)
				warn("search: index settings", err)
			}
		}
		if now := time.Now(); now.After(nextCats) {
			nextCats = now.Add(categoriesEvery)
			if err := ix.SyncCategories(ctx); err != nil {
				warn("search: category watch", err)
			}
		}
		n, err := ix.TrackOnce(ctx)
		if err != nil {
			warn("search: task tracking", err)
		}
		wait := trackInterval
		if n == trackBatch {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// TrackOnce checks up to trackBatch tracked tasks and returns how many it looked at.
func (ix *Indexer) TrackOnce(ctx context.Context) (int, error) {
	src, ok := ix.backend.(taskSource)
	if !ok {
		return 0, nil
	}
	n := 0
	err := db.InTx(ctx, ix.db, func(ctx context.Context) error {
		ts, err := ix.st.claimTasks(ctx, trackBatch)
		if err != nil || len(ts) == 0 {
			return err
		}
		n = len(ts)
		uids := make([]int64, 0, len(ts))
		for _, t := range ts {
			if len(uids) == 0 || uids[len(uids)-1] != t.TaskUID {
				uids = append(uids, t.TaskUID)
			}
		}
		got, err := src.tasks(ctx, uids)
		if err != nil {
			return err // Meilisearch unreachable: the tasks wait in its queue
		}
		var done []trackedTask
		for _, t := range ts {
			finished, err := ix.settle(ctx, t, got[t.TaskUID])
			if err != nil {
				return err
			}
			if finished {
				done = append(done, t)
			}
		}
		return ix.st.untrack(ctx, done)
	})
	return n, err
}

// settle decides one tracked task; it reports whether the task needs no more tracking.
func (ix *Indexer) settle(ctx context.Context, t trackedTask, mt *meilisearch.Task) (bool, error) {
	var cause string
	switch {
	case mt == nil && time.Since(t.EnqueuedAt) > lostAfter:
		cause = fmt.Sprintf("meilisearch task %d is unknown to the server (lost)", t.TaskUID)
	case mt == nil:
		return false, nil
	case mt.Status == meilisearch.TaskStatusSucceeded:
		ix.m.tasks.WithLabelValues("succeeded").Inc()
		if !mt.FinishedAt.IsZero() && !mt.EnqueuedAt.IsZero() {
			ix.m.latency.Observe(mt.FinishedAt.Sub(mt.EnqueuedAt).Seconds())
		}
		return true, nil
	case mt.Status == meilisearch.TaskStatusFailed || mt.Status == meilisearch.TaskStatusCanceled:
		cause = (&TaskError{UID: t.TaskUID, Status: string(mt.Status), Code: mt.Error.Code, Message: mt.Error.Message}).Error()
	default:
		return false, nil // enqueued or processing
	}
	attempts, err := ix.st.outboxAttempts(ctx, t.OutboxID)
	if err != nil {
		return false, err
	}
	reopened, parked, err := ix.st.reopen(ctx, t.OutboxID, cause, backoff(attempts, ix.BaseBackoff, ix.MaxBackoff), ix.MaxAttempts)
	if err != nil || !reopened {
		return false, err // the row is still in a worker's hands: decide next round
	}
	if err := ix.st.forget(ctx, []string{t.LockKey}); err != nil {
		return false, err
	}
	outcome := "failed"
	if mt == nil {
		outcome = "lost"
	}
	ix.m.tasks.WithLabelValues(outcome).Inc()
	ix.log.Warn("search: meilisearch task failed; its outbox row will be retried",
		"task", t.TaskUID, "outbox_id", t.OutboxID, "attempts", attempts, "parked", parked, "err", cause)
	return true, nil
}

// Flush tracks until no task is pending (tests, reindex, tools). It gives up when
// ctx ends.
func (ix *Indexer) Flush(ctx context.Context) error {
	for {
		if _, err := ix.TrackOnce(ctx); err != nil {
			return err
		}
		n, err := ix.st.trackedCount(ctx)
		if err != nil || n == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search: %d tasks still pending: %w", n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// backoff mirrors the outbox's retry delay: base doubled per attempt, capped, jittered.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + rand.N(d-half+1)
}

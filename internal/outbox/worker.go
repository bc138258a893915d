package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
)

// recordTimeout bounds the bookkeeping after a handler returns. It is detached from the
// caller's ctx so that a shutdown still records the outcome of the row in hand.
const recordTimeout = 10 * time.Second

// Worker claims and handles outbox rows of the topics it has handlers for. Several
// workers, in one process or many, may run over the same table: claims never overlap
// while a lease holds.
type Worker struct {
	gdb      *gorm.DB
	url      string
	handlers map[string]Handler
	topics   []string
	opt      Options
	log      *slog.Logger
	metrics  *metrics
}

// NewWorker returns a worker handling the topics in handlers. databaseURL is used for a
// dedicated LISTEN connection, which needs a session of its own (not a pool connection,
// and not a transaction-pooling PgBouncer); if it is empty the worker only polls. Rows
// of topics absent from handlers are never claimed: another process may handle them.
func NewWorker(gdb *gorm.DB, databaseURL string, handlers map[string]Handler, opt Options) *Worker {
	opt = opt.withDefaults()
	hs := make(map[string]Handler, len(handlers))
	topics := make([]string, 0, len(handlers))
	for topic, h := range handlers {
		if h != nil {
			hs[topic] = h
			topics = append(topics, topic)
		}
	}
	slices.Sort(topics)
	return &Worker{
		gdb:      gdb,
		url:      databaseURL,
		handlers: hs,
		topics:   topics,
		opt:      opt,
		log:      opt.Logger,
		metrics:  newMetrics(opt.Registerer, opt.Logger),
	}
}

// Run processes rows until ctx is done, then returns nil once the row in hand is
// finished and the rest of its batch released. Between rounds it sleeps until a NOTIFY
// for one of its topics arrives or PollInterval elapses; the listener reconnects on its
// own, and polling covers the gaps, so a lost connection only costs latency.
// Database errors are logged and retried at the next round rather than returned.
func (w *Worker) Run(ctx context.Context) error {
	if len(w.handlers) == 0 {
		return errors.New("outbox: worker has no handlers")
	}
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	if w.url != "" {
		wg.Go(func() { w.listen(listenCtx, wake) })
	}
	for {
		n, err := w.ProcessBatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.log.Error("outbox: batch failed", "err", err)
		} else if n > 0 {
			continue // more rows may be due; an empty round ends the burst
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(w.opt.PollInterval):
		}
	}
}

// ProcessBatch claims up to Batch due rows and handles them one at a time, returning
// how many were handled (successfully or not). It stops early, releasing the rest of
// the batch untouched, when ctx is done or less than half the lease remains, so a
// handler never starts on a row whose claim is about to lapse. Handler failures are
// recorded on their rows, not returned; the error is about the database.
func (w *Worker) ProcessBatch(ctx context.Context) (int, error) {
	if len(w.handlers) == 0 {
		return 0, nil
	}
	// Measured before the claim, so the local deadline is never later than the lease.
	deadline := time.Now().Add(w.opt.Lease)
	msgs, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	if w.opt.Together != nil && len(msgs) > 1 && ctx.Err() == nil {
		if done, err := w.handleTogether(ctx, msgs, deadline); done || err != nil {
			return len(msgs), err
		}
	}
	for i, m := range msgs {
		if ctx.Err() != nil || time.Until(deadline) < w.opt.Lease/2 {
			return i, w.release(ctx, msgs[i:])
		}
		if err := w.handle(ctx, m, deadline); err != nil {
			// The rest keep their lease and come back once it expires.
			return i + 1, err
		}
	}
	return len(msgs), nil
}

// handle runs the handler for m and records the outcome. The handler's context is
// detached from ctx (a shutdown lets the row in hand finish) but ends with the lease.
func (w *Worker) handle(ctx context.Context, m Message, deadline time.Time) error {
	hctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	herr := w.call(hctx, m)
	cancel()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if herr == nil {
		if err := w.markDone(rctx, m); err != nil {
			return err
		}
		w.metrics.processed.WithLabelValues(m.Topic).Inc()
		return nil
	}

	parked := m.Attempts >= w.opt.MaxAttempts
	delay := backoff(m.Attempts, w.opt.BaseBackoff, w.opt.MaxBackoff)
	recorded, err := w.markFailed(rctx, m, herr, delay, parked)
	if err != nil {
		return err
	}
	w.metrics.failed.WithLabelValues(m.Topic).Inc()
	attrs := []any{"id", m.ID, "topic", m.Topic, "attempts", m.Attempts, "err", herr}
	switch {
	case !recorded:
		w.log.Warn("outbox: handler failed after its lease expired; the row was claimed again", attrs...)
	case parked:
		w.metrics.parked.WithLabelValues(m.Topic).Inc()
		w.log.Warn("outbox: row parked after too many failed attempts", attrs...)
	default:
		w.log.Warn("outbox: handler failed; will retry", append(attrs, "retry_in", delay)...)
	}
	return nil
}

// handleTogether runs the Together handler on msgs and, if it succeeds, records them
// all processed. It reports false when the handler failed: the caller then handles the
// rows one by one, which records each failure on its own row.
func (w *Worker) handleTogether(ctx context.Context, msgs []Message, deadline time.Time) (bool, error) {
	hctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	herr := w.callTogether(hctx, msgs)
	cancel()
	if herr != nil {
		w.log.Debug("outbox: batch handler failed; handling the rows one by one", "rows", len(msgs), "err", herr)
		return false, nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := w.markAllDone(rctx, msgs); err != nil {
		return true, err
	}
	for _, m := range msgs {
		w.metrics.processed.WithLabelValues(m.Topic).Inc()
	}
	return true, nil
}

// callTogether is call for the batch handler.
func (w *Worker) callTogether(ctx context.Context, msgs []Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("outbox: batch handler panicked", "rows", len(msgs),
				"panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("batch handler panicked: %v", r)
		}
	}()
	return w.opt.Together(ctx, msgs)
}

// call runs the handler, turning a panic into an error: one bad message must not take
// the worker, and the other topics it serves, down with it.
func (w *Worker) call(ctx context.Context, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("outbox: handler panicked", "id", m.ID, "topic", m.Topic,
				"panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return w.handlers[m.Topic](ctx, m)
}

// backoff is the delay before retry number attempt+1: base doubled per failed attempt,
// capped at max, with equal jitter (half fixed, half random) so rows that failed
// together, say when a dependency went down, do not all retry in the same instant.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		if d > max/2 {
			d = max
			break
		}
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + rand.N(d-half+1)
}

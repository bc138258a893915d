// Package outbox is Hearth's transactional outbox. A use case that causes a side effect
// (search indexing, a notification, an e-mail, a webhook) does not perform it inline: it
// calls Enqueue inside the transaction of its change, so the effect is recorded if and
// only if the change commits. Workers then claim due rows with FOR UPDATE SKIP LOCKED,
// hand each to the Handler registered for its topic, retry failures with exponential
// backoff, and park a row after MaxAttempts so an operator can look at it.
//
// Delivery is at least once, never exactly once: a worker can die after the effect and
// before marking the row, or lose its lease while a slow handler runs. Handlers must
// therefore be idempotent, keyed on Message.ID.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// channel is the NOTIFY channel Enqueue signals and workers LISTEN on; the payload is
// the topic, so a worker only wakes for topics it handles.
const channel = "hearth_outbox"

// ErrNoTransaction is returned by Enqueue when ctx carries no transaction: an outbox
// row written outside its change's transaction could announce a change that then rolls
// back, or be lost when the change commits and the process dies.
var ErrNoTransaction = errors.New("outbox: enqueue needs the transaction of the change (use db.InTx)")

// Message is one claimed outbox row as a Handler sees it.
type Message struct {
	// ID is unique and stable across retries: use it as the idempotency key.
	ID    int64
	Topic string
	// Payload is the JSON that Enqueue marshalled.
	Payload json.RawMessage
	// Attempts counts deliveries including this one (1 on the first).
	Attempts  int
	CreatedAt time.Time
}

// Handler performs the side effect of one message. It may be called more than once for
// the same message, even after a previous call succeeded, so it must be idempotent on
// m.ID. A returned error or a panic schedules a retry. ctx expires when the worker's
// lease on the row does; work past that point may overlap with another worker's retry.
type Handler func(ctx context.Context, m Message) error

// BatchHandler performs the side effects of several claimed messages (of any of the
// worker's topics, oldest first) at once, all or nothing. The same rules as Handler's
// apply to each message.
type BatchHandler func(ctx context.Context, ms []Message) error

// Options tunes a Worker. Zero values take the defaults noted on each field.
type Options struct {
	// Batch is how many rows one claim takes (default 50).
	Batch int
	// Lease is how long a claimed row is hidden from other workers (default 60s). A
	// worker that dies mid-row loses it after Lease, and each handler call is given at
	// least half of it, so it must comfortably exceed the slowest handler.
	Lease time.Duration
	// MaxAttempts is the number of failed deliveries after which a row is parked
	// (default 10).
	MaxAttempts int
	// PollInterval bounds the wait between claims when no NOTIFY arrives; it is what
	// picks up retries whose backoff has elapsed (default 2s).
	PollInterval time.Duration
	// BaseBackoff and MaxBackoff shape the retry delay: BaseBackoff doubled per failed
	// attempt, capped at MaxBackoff, with jitter (defaults 1s and 10m).
	BaseBackoff, MaxBackoff time.Duration
	// Logger receives failures, parked rows and listener trouble (default slog.Default).
	Logger *slog.Logger
	// Together, when set, handles each claimed batch of two or more rows in one call
	// (one transaction and one request for all, where a handler per row costs one of
	// each per row). If it fails, the rows are handled one by one by their own
	// handlers, so a bad row neither fails nor holds back the others.
	Together BatchHandler
	// Registerer, when set, exports hearth_outbox_{processed,failed,parked}_total by topic.
	Registerer prometheus.Registerer
}

func (o Options) withDefaults() Options {
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.Lease <= 0 {
		o.Lease = 60 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

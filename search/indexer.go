package search

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// TopicSettings asks the workers to push the index settings (synonyms changed).
const TopicSettings = "search.settings"

// Indexer keeps the backend in step with PostgreSQL. Its outbox handlers re-read the
// rows a message names (so every edit, hide, delete and move reaches the index, and
// a replayed message is harmless), send what changed, and record the Meilisearch tasks,
// which Run tracks until they finish.
type Indexer struct {
	db      *gorm.DB
	st      *store
	backend Backend
	kinds   []Kind
	log     *slog.Logger
	m       *metrics
	// ready is set once the index and its settings are known to be in place in this
	// process; writing first would let Meilisearch create the index with defaults.
	ready atomic.Bool
	// Options of the outbox the reopened rows return to (for backoff and parking).
	MaxAttempts             int
	BaseBackoff, MaxBackoff time.Duration
}

// NewIndexer returns the indexer of kinds into backend. reg, when set, receives the
// hearth_search_* metrics.
func NewIndexer(gdb *gorm.DB, backend Backend, kinds []Kind, log *slog.Logger, reg prometheus.Registerer) *Indexer {
	if log == nil {
		log = slog.Default()
	}
	return &Indexer{db: gdb, st: &store{db: gdb}, backend: backend, kinds: kinds, log: log,
		m: newMetrics(reg, log), MaxAttempts: 10, BaseBackoff: time.Second, MaxBackoff: 10 * time.Minute}
}

// Handlers are the outbox handlers of every kind's topic, plus TopicSettings.
func (ix *Indexer) Handlers() map[string]outbox.Handler {
	hs := map[string]outbox.Handler{TopicSettings: ix.handleSettings}
	for _, k := range ix.kinds {
		hs[k.Topic()] = ix.handler(k)
	}
	return hs
}

// Prepare makes sure the index exists with the current settings and synonyms.
func (ix *Indexer) Prepare(ctx context.Context) error {
	syn, err := ix.st.synonymMap(ctx)
	if err != nil {
		return err
	}
	if err := ix.backend.Prepare(ctx, syn); err != nil {
		return err
	}
	ix.ready.Store(true)
	return nil
}

func (ix *Indexer) handleSettings(ctx context.Context, _ outbox.Message) error {
	return ix.Prepare(ctx)
}

func (ix *Indexer) handler(k Kind) outbox.Handler {
	return func(ctx context.Context, m outbox.Message) error {
		id, err := k.Ref(m.Payload)
		if err != nil {
			return err // parked after the retries: an operator should see it
		}
		if !ix.ready.Load() {
			if err := ix.Prepare(ctx); err != nil {
				return err
			}
		}
		return ix.sync(ctx, k, id, m.ID, m.CreatedAt)
	}
}

// sync brings one row's documents up to date, under its lock key, in one transaction:
// the fan-out state and the task records commit only if the change was sent.
func (ix *Indexer) sync(ctx context.Context, k Kind, id, outboxID int64, at time.Time) error {
	return db.InTx(ctx, ix.db, func(ctx context.Context) error {
		key, err := k.LockKey(ctx, id)
		if err != nil {
			return err
		}
		prev := ""
		if key != "" {
			if err := ix.st.lock(ctx, key); err != nil {
				return err
			}
			if prev, err = ix.st.fingerprint(ctx, key); err != nil {
				return err
			}
		}
		ch, err := k.Sync(ctx, id, at, prev)
		if err != nil {
			return err
		}
		for i := range ch.Upsert {
			cleanDoc(&ch.Upsert[i])
		}
		tasks, err := ix.backend.Apply(ctx, ch.Upsert, ch.Delete)
		if err != nil {
			ix.m.sendErrors.Inc()
			return err
		}
		ix.m.docs.WithLabelValues("upsert").Add(float64(len(ch.Upsert)))
		ix.m.docs.WithLabelValues("delete").Add(float64(len(ch.Delete)))
		if err := ix.st.track(ctx, outboxID, key, tasks); err != nil {
			return err
		}
		if key != "" && ch.Fingerprint != "" && ch.Fingerprint != prev {
			return ix.st.setFingerprint(ctx, key, ch.Fingerprint)
		}
		return nil
	})
}

// Enqueue records that kind's row id changed, in the caller's transaction (for
// domains, tests and tools that change rows outside the forum's own use cases).
func Enqueue(ctx context.Context, gdb *gorm.DB, topic, field string, id int64) error {
	return outbox.Enqueue(ctx, gdb, topic, map[string]int64{field: id})
}

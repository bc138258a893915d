package search

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
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

// HandleBatch is the search lane's outbox batch handler (outbox.Options.Together): the
// rows of one claim brought up to date in one transaction and one Meilisearch task,
// where a handler per row costs a transaction, a task and a tracking round each (under
// load the per-row path fell behind the write rate). It does what sync does for each row,
// oldest first: the lock keys are taken in order (no deadlock with other batches or
// single rows, which take one), each row sees the fingerprint the rows before it left,
// and a document changed by several rows is sent once, as the last one left it. Any
// error fails the whole batch, whose rows the worker then handles one by one.
func (ix *Indexer) HandleBatch(ctx context.Context, ms []outbox.Message) error {
	kinds := make(map[string]Kind, len(ix.kinds))
	for _, k := range ix.kinds {
		kinds[k.Topic()] = k
	}
	type row struct {
		k   Kind
		id  int64
		m   outbox.Message
		key string
	}
	rows := make([]row, 0, len(ms))
	settings := false
	for _, m := range ms {
		if m.Topic == TopicSettings {
			settings = true
			continue
		}
		k, ok := kinds[m.Topic]
		if !ok {
			return fmt.Errorf("search: no kind for topic %q", m.Topic)
		}
		id, err := k.Ref(m.Payload)
		if err != nil {
			return err
		}
		rows = append(rows, row{k: k, id: id, m: m})
	}
	if settings || !ix.ready.Load() {
		if err := ix.Prepare(ctx); err != nil {
			return err
		}
	}
	return db.InTx(ctx, ix.db, func(ctx context.Context) error {
		var keys []string
		for i := range rows {
			key, err := rows[i].k.LockKey(ctx, rows[i].id)
			if err != nil {
				return err
			}
			rows[i].key = key
			if key != "" {
				keys = append(keys, key)
			}
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		prev := make(map[string]string, len(keys))
		for _, key := range keys {
			if err := ix.st.lock(ctx, key); err != nil {
				return err
			}
			fp, err := ix.st.fingerprint(ctx, key)
			if err != nil {
				return err
			}
			prev[key] = fp
		}
		fps := maps.Clone(prev)
		// The index's final state per document id: upserted (the document) or removed.
		final := map[string]*Document{}
		var order []string
		for _, r := range rows {
			ch, err := r.k.Sync(ctx, r.id, r.m.CreatedAt, fps[r.key])
			if err != nil {
				return err
			}
			for i := range ch.Upsert {
				d := ch.Upsert[i]
				cleanDoc(&d)
				if _, seen := final[d.ID]; !seen {
					order = append(order, d.ID)
				}
				final[d.ID] = &d
			}
			for _, id := range ch.Delete {
				if _, seen := final[id]; !seen {
					order = append(order, id)
				}
				final[id] = nil
			}
			if r.key != "" && ch.Fingerprint != "" {
				fps[r.key] = ch.Fingerprint
			}
		}
		var upsert []Document
		var remove []string
		for _, id := range order {
			if d := final[id]; d != nil {
				upsert = append(upsert, *d)
			} else {
				remove = append(remove, id)
			}
		}
		tasks, err := ix.backend.Apply(ctx, upsert, remove)
		if err != nil {
			ix.m.sendErrors.Inc()
			return err
		}
		ix.m.docs.WithLabelValues("upsert").Add(float64(len(upsert)))
		ix.m.docs.WithLabelValues("delete").Add(float64(len(remove)))
		for _, r := range rows {
			if err := ix.st.track(ctx, r.m.ID, r.key, tasks); err != nil {
				return err
			}
		}
		for _, key := range keys {
			if fps[key] != prev[key] {
				if err := ix.st.setFingerprint(ctx, key, fps[key]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Enqueue records that kind's row id changed, in the caller's transaction (for
// domains, tests and tools that change rows outside the forum's own use cases).
func Enqueue(ctx context.Context, gdb *gorm.DB, topic, field string, id int64) error {
	return outbox.Enqueue(ctx, gdb, topic, map[string]int64{field: id})
}

package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
	// Batch is how many documents are read and sent at a time (default 5000).
	Batch int
	// AfterBatch, when set, runs after each batch is sent (tests query the live index
	// there, mid-rebuild).
	AfterBatch func()
}

// RebuildStats is what a rebuild did.
type RebuildStats struct {
	Documents int64
	Elapsed   time.Duration
	// Replayed is how many outbox rows were enqueued again for changes made while
	// the rebuild read the database.
	Replayed int
}

// builder is a backend that can rebuild itself beside the live copy.
type builder interface {
	// begin prepares an empty copy; write fills it; commit makes it the live one.
	begin(ctx context.Context, synonyms map[string][]string, started time.Time) (sink, error)
}

type sink interface {
	write(ctx context.Context, docs []Document) error
	commit(ctx context.Context) error
	abort(ctx context.Context)
}

// ErrRebuildRunning is returned when another rebuild holds the lock.
var ErrRebuildRunning = errors.New("search: another rebuild is running")

// Rebuild re-creates every document of every kind from PostgreSQL into a fresh copy
// and swaps it in atomically (Meilisearch swap-indexes), so searches keep answering
// from the old copy throughout. Changes that arrive while it reads are not lost:
// their outbox rows are enqueued again once the new copy is live.
func (ix *Indexer) Rebuild(ctx context.Context, opt RebuildOptions) (*RebuildStats, error) {
	if opt.Batch <= 0 {
		opt.Batch = 5000
	}
	b, ok := ix.backend.(builder)
	if !ok {
		return nil, fmt.Errorf("search: backend %s cannot rebuild", ix.backend.Name())
	}
	unlock, err := ix.st.tryLock(ctx, "search:rebuild")
	if err != nil {
		return nil, err
	}
	defer unlock()
	begun := time.Now()
	started, err := ix.st.now(ctx)
	if err != nil {
		return nil, err
	}
	// The documents carry the category roles read now; the watcher compares with these.
	if err := ix.st.snapshotCategories(ctx); err != nil {
		return nil, err
	}
	var total int64
	for _, k := range ix.kinds {
		n, err := k.Count(ctx)
		if err != nil {
			return nil, err
		}
		total += n
	}
	syn, err := ix.st.synonymMap(ctx)
	if err != nil {
		return nil, err
	}
	s, err := b.begin(ctx, syn, started)
	if err != nil {
		return nil, err
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(progressOut(opt.Progress)),
		progressbar.OptionSetDescription("reindex"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("docs"), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetVisibility(opt.Progress != nil),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progressOut(opt.Progress)) }))
	stats := &RebuildStats{}
	for _, k := range ix.kinds {
		for after := int64(0); ; {
			docs, next, err := k.Scan(ctx, after, opt.Batch)
			if err != nil {
				s.abort(ctx)
				return nil, err
			}
			if next == 0 {
				break
			}
			for i := range docs {
				cleanDoc(&docs[i])
			}
			if err := s.write(ctx, docs); err != nil {
				s.abort(ctx)
				return nil, err
			}
			stats.Documents += int64(len(docs))
			_ = bar.Add(len(docs))
			if opt.AfterBatch != nil {
				opt.AfterBatch()
			}
			after = next
		}
	}
	if err := s.commit(ctx); err != nil {
		s.abort(ctx)
		return nil, err
	}
	_ = bar.Finish()
	if stats.Replayed, err = ix.replay(ctx, started); err != nil {
		return stats, err
	}
	stats.Elapsed = time.Since(begun)
	return stats, nil
}

func progressOut(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// replay enqueues again, once each, the search rows that were pending when the
// rebuild started or were handled since: their handlers may have written to the
// copy that was swapped out, or been overtaken by an older read of the rebuild. What
// their lock keys' fingerprints say was sent went to that copy, so it is forgotten.
func (ix *Indexer) replay(ctx context.Context, since time.Time) (int, error) {
	topics := make([]string, 0, len(ix.kinds))
	kinds := map[string]Kind{}
	for _, k := range ix.kinds {
		topics = append(topics, k.Topic())
		kinds[k.Topic()] = k
	}
	var rows []struct {
		Topic   string
		Payload string
	}
	err := db.Conn(ctx, ix.db).Raw(`SELECT DISTINCT topic, payload::text AS payload FROM outbox
		WHERE topic IN ? AND (processed_at IS NULL OR processed_at >= ?)`, topics, since).Scan(&rows).Error
	if err != nil {
		return 0, fmt.Errorf("search: changes during the rebuild: %w", err)
	}
	err = db.InTx(ctx, ix.db, func(ctx context.Context) error {
		var keys []string
		for _, r := range rows {
			if err := outbox.Enqueue(ctx, ix.db, r.Topic, rawJSON(r.Payload)); err != nil {
				return err
			}
			if id, err := kinds[r.Topic].Ref(json.RawMessage(r.Payload)); err == nil {
				key, err := kinds[r.Topic].LockKey(ctx, id)
				if err != nil {
					return err
				}
				if key != "" {
					keys = append(keys, key)
				}
			}
		}
		return ix.st.forget(ctx, keys)
	})
	return len(rows), err
}

// rawJSON passes a stored payload through Enqueue's marshalling unchanged.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

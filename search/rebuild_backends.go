package search

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/hearth-community/hearth/internal/db"
)

// maxInFlight bounds the tasks Meilisearch holds unprocessed during a rebuild, so a
// slow server applies back-pressure instead of queueing the whole database. It is deep
// enough that each batch Meilisearch starts takes many tasks at once: its fixed cost
// per batch grows with the index (measured on 1M documents: 4 tasks in flight gave
// alternating 8,000- and 2,000-document batches and 3,100 docs/s; 16 gave 20,000 and
// 10,000, and 6,200 docs/s).
const maxInFlight = 16

// meiliSink fills a fresh index beside the live one.
type meiliSink struct {
	b       *meiliBackend
	name    string
	pending []int64
}

func (b *meiliBackend) begin(ctx context.Context, synonyms map[string][]string, _ time.Time) (sink, error) {
	name := b.index + "__rebuild"
	// A rebuild that crashed may have left its index behind.
	ti, err := b.c.Meili.DeleteIndexWithContext(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("search: drop leftover %s: %w", name, err)
	}
	var te *TaskError
	if err := b.c.wait(ctx, ti.TaskUID); err != nil && !(errors.As(err, &te) && te.Code == "index_not_found") {
		return nil, err
	}
	if _, err := b.c.ensureSettings(ctx, name, settings(synonyms)); err != nil {
		return nil, err
	}
	// The live index must exist with its settings too, for the swap.
	if _, err := b.c.ensureSettings(ctx, b.index, settings(synonyms)); err != nil {
		return nil, err
	}
	return &meiliSink{b: b, name: name}, nil
}

func (s *meiliSink) write(ctx context.Context, docs []Document) error {
	tasks, err := applyMeili(ctx, s.b.c.Meili.Index(s.name), docs, nil)
	if err != nil {
		return err
	}
	s.pending = append(s.pending, tasks...)
	for len(s.pending) > maxInFlight {
		if err := s.b.c.wait(ctx, s.pending[0]); err != nil {
			return err
		}
		s.pending = s.pending[1:]
	}
	return nil
}

// commit waits for every batch, then swaps the new index in and drops the old one.
func (s *meiliSink) commit(ctx context.Context) error {
	for _, uid := range s.pending {
		if err := s.b.c.wait(ctx, uid); err != nil {
			return err
		}
	}
	ti, err := s.b.c.Meili.SwapIndexesWithContext(ctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{s.b.index, s.name}}})
	if err != nil {
		return fmt.Errorf("search: swap %s in: %w", s.name, err)
	}
	if err := s.b.c.wait(ctx, ti.TaskUID); err != nil {
		return err
	}
	if ti, err := s.b.c.Meili.DeleteIndexWithContext(ctx, s.name); err == nil {
		_ = s.b.c.wait(ctx, ti.TaskUID)
	}
	return nil
}

func (s *meiliSink) abort(ctx context.Context) {
	_, _ = s.b.c.Meili.DeleteIndexWithContext(context.WithoutCancel(ctx), s.name)
}

// pgSink upserts into the live table (readers keep their answers: each batch
// commits on its own) and at the end deletes what was not rewritten since the start.
type pgSink struct {
	b       *pgBackend
	started time.Time
}

func (b *pgBackend) begin(_ context.Context, _ map[string][]string, started time.Time) (sink, error) {
	return &pgSink{b: b, started: started}, nil
}

func (s *pgSink) write(ctx context.Context, docs []Document) error {
	return db.InTx(ctx, s.b.db, func(ctx context.Context) error {
		_, err := s.b.Apply(ctx, docs, nil)
		return err
	})
}

func (s *pgSink) commit(ctx context.Context) error {
	return db.Conn(ctx, s.b.db).Exec(`DELETE FROM search_documents WHERE indexed_at < ?`, s.started).Error
}

func (s *pgSink) abort(context.Context) {}

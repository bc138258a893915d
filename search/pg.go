package search

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// NewBackend is Meilisearch through c, or — when c is nil, because HEARTH_SEARCH is
// postgres — PostgreSQL full-text search over search_documents.
func NewBackend(gdb *gorm.DB, c *Client) Backend {
	if c == nil {
		return &pgBackend{db: gdb}
	}
	return NewMeiliBackend(c)
}

// pgBackend is the fallback: the same documents in a table with a tsvector, kept by
// the same outbox handlers. It has no typo tolerance, no synonyms and a plainer
// ranking (ts_rank_cd), which its results say (Results.Degraded).
type pgBackend struct{ db *gorm.DB }

func (b *pgBackend) Name() string { return "postgres" }

// Prepare has nothing to do: the table comes with the migrations.
func (b *pgBackend) Prepare(context.Context, map[string][]string) error { return nil }

// tsvExpr weighs title over tags over body (and the author's name), like the
// searchable-attribute order of the Meilisearch index.
const tsvExpr = `setweight(to_tsvector('english', ?), 'A') || setweight(to_tsvector('english', ?), 'B') ||
	setweight(to_tsvector('english', ?), 'C') || setweight(to_tsvector('simple', ?), 'D')`

// Apply writes in the caller's transaction (the handler's), so the rows commit with
// the fan-out state; nothing is left to track.
func (b *pgBackend) Apply(ctx context.Context, upsert []Document, remove []string) ([]int64, error) {
	conn := db.Conn(ctx, b.db)
	for i := range upsert {
		d := &upsert[i]
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		err = conn.Exec(`INSERT INTO search_documents (id, kind, category_id, read_roles, tags, status, author,
			thread_id, score, created_at, title, doc, tsv, indexed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, to_timestamp(?), ?, ?, `+tsvExpr+`, now())
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, category_id = excluded.category_id,
			  read_roles = excluded.read_roles, tags = excluded.tags, status = excluded.status,
			  author = excluded.author, thread_id = excluded.thread_id, score = excluded.score,
			  created_at = excluded.created_at, title = excluded.title, doc = excluded.doc,
			  tsv = excluded.tsv, indexed_at = now()`,
			d.ID, d.Kind, d.CategoryID, pq.StringArray(d.ReadRoles), pq.StringArray(nonNil(d.Tags)), d.Status,
			d.Author, d.ThreadID, d.Score, d.CreatedAt, d.Title, string(raw),
			bigramText(d.Title), bigramText(joinTags(d.Tags)), bigramText(d.Body), d.AuthorName).Error
		if err != nil {
			return nil, fmt.Errorf("search: store document %s: %w", d.ID, err)
		}
	}
	if len(remove) > 0 {
		if err := conn.Exec(`DELETE FROM search_documents WHERE id IN ?`, remove).Error; err != nil {
			return nil, fmt.Errorf("search: delete documents: %w", err)
		}
	}
	return nil, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func joinTags(tags []string) string {
	out := ""
	for _, t := range tags {
		out += t + " "
	}
	return out
}

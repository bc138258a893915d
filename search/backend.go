package search

import (
	"context"
	"fmt"

	"github.com/meilisearch/meilisearch-go"
)

// Backend holds the documents and answers queries: Meilisearch, or PostgreSQL
// full-text search when no Meilisearch is configured. The outbox handlers, reindex
// and the query service only ever talk to this interface.
type Backend interface {
	// Name is "meilisearch" or "postgres" (shown to clients, who may warn about quality).
	Name() string
	// Prepare makes the store ready for writes and queries (index and settings);
	// it is idempotent and cheap when nothing changed.
	Prepare(ctx context.Context, synonyms map[string][]string) error
	// Apply writes upsert and removes the documents with ids remove. It returns the
	// asynchronous tasks to track; none when the change is already durable.
	Apply(ctx context.Context, upsert []Document, remove []string) ([]int64, error)
	// Search answers q for viewer v. The visibility filter is the backend's job, and
	// every backend applies it to every query.
	Search(ctx context.Context, q *Query, v Viewer) (*Results, error)
}

// meiliBackend is the Meilisearch backend over the live index.
type meiliBackend struct {
	c     *Client
	index string
}

// NewMeiliBackend returns the Meilisearch backend for client c.
func NewMeiliBackend(c *Client) Backend {
	return &meiliBackend{c: c, index: c.Index(Index)}
}

func (b *meiliBackend) Name() string { return "meilisearch" }

func (b *meiliBackend) Prepare(ctx context.Context, synonyms map[string][]string) error {
	_, err := b.c.ensureSettings(ctx, b.index, settings(synonyms))
	return err
}

var primaryKey = "id"

func (b *meiliBackend) Apply(ctx context.Context, upsert []Document, remove []string) ([]int64, error) {
	return applyMeili(ctx, b.c.Meili.Index(b.index), upsert, remove)
}

// applyMeili sends documents in batches of sendBatch and deletions in one task each
// batch; Meilisearch queues and auto-batches consecutive tasks of one index.
func applyMeili(ctx context.Context, idx meilisearch.IndexManager, upsert []Document, remove []string) ([]int64, error) {
	var tasks []int64
	for len(upsert) > 0 {
		n := min(len(upsert), sendBatch)
		ti, err := idx.AddDocumentsWithContext(ctx, upsert[:n], &meilisearch.DocumentOptions{PrimaryKey: &primaryKey})
		if err != nil {
			return tasks, fmt.Errorf("search: add %d documents: %w", n, err)
		}
		tasks = append(tasks, ti.TaskUID)
		upsert = upsert[n:]
	}
	for len(remove) > 0 {
		n := min(len(remove), sendBatch)
		ti, err := idx.DeleteDocumentsWithContext(ctx, remove[:n], nil)
		if err != nil {
			return tasks, fmt.Errorf("search: delete %d documents: %w", n, err)
		}
		tasks = append(tasks, ti.TaskUID)
		remove = remove[n:]
	}
	return tasks, nil
}

// sendBatch is how many documents go in one request: thousands per task is where
// Meilisearch indexes fastest, and a request stays a few megabytes.
const sendBatch = 2000

package search

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Kind is the adapter that makes one kind of row searchable: which outbox topic
// announces a change, what document the row becomes, and when it must not be in the
// index at all (its visibility rule). Adding ideas, offers or storefronts is one new
// Kind in Kinds and one outbox row written by their domain on each change; the index,
// queries, tracking and reindex are shared.
type Kind interface {
	// Name is the document kind ("thread"); it prefixes document ids.
	Name() string
	// Topic is the outbox topic whose payload names a changed row.
	Topic() string
	// Ref reads the row id from an outbox payload.
	Ref(payload json.RawMessage) (int64, error)
	// LockKey names the unit whose changes must reach the index in order (a thread and
	// its replies share one); "" when the row no longer exists.
	LockKey(ctx context.Context, id int64) (string, error)
	// Sync re-reads row id (and whatever depends on it) from the database and says what
	// the index must now hold. at is when the change was written (its outbox row's
	// created_at, which the rows of one transaction share). prev is the Fingerprint of
	// the last Change sent under the same lock key ("" when unknown), so dependants are
	// rewritten only when needed.
	Sync(ctx context.Context, id int64, at time.Time, prev string) (*Change, error)
	// Count and Scan walk every document of the kind in id order (for reindex);
	// Scan returns the id to resume after, 0 at the end.
	Count(ctx context.Context) (int64, error)
	Scan(ctx context.Context, after int64, limit int) ([]Document, int64, error)
}

// Change is what one outbox message does to the index.
type Change struct {
	Upsert []Document
	// Delete lists document ids that must not be in the index (hidden, deleted,
	// no longer existing). Deleting an absent document is harmless.
	Delete []string
	// Fingerprint, when not empty, is recorded under the lock key once the change is
	// sent, and handed back to the next Sync as prev.
	Fingerprint string
}

func (c *Change) empty() bool { return len(c.Upsert) == 0 && len(c.Delete) == 0 }

// refPayload reads {"<field>": id} payloads, the shape the forum writes.
func refPayload(payload json.RawMessage, field string) (int64, error) {
	var m map[string]int64
	if err := json.Unmarshal(payload, &m); err != nil {
		return 0, fmt.Errorf("payload %s: %w", payload, err)
	}
	id := m[field]
	if id <= 0 {
		return 0, fmt.Errorf("payload %s: no %s", payload, field)
	}
	return id, nil
}

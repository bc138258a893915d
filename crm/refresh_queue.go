package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// queueBatch is how many members one crm.profile message refreshes at most: its own
// and those of other pending crm.profile rows it takes along. Small enough that a
// refresh transaction stays short (an event waits for at most about two of them).
const queueBatch = 32

// HandleProfile is the outbox handler of TopicProfile. Every event enqueues a row, so
// an active member has many; one refresh answers all of a member's rows that were
// committed before it started (their events are in it), and it takes the members of
// the oldest other pending rows along (up to queueBatch in all): unclaimed ones and
// the rest of this worker's claim, not rows another worker leased or another refresh
// has taken, so that concurrent workers seldom wait for each other. A burst of events
// costs a few batched refreshes instead of one each (see refreshMembers). A row a
// refresh has already answered is done at once.
func (s *Service) HandleProfile(ctx context.Context, m outbox.Message) error {
	var p struct {
		MemberID int64 `json:"member_id"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return fmt.Errorf("crm.profile payload: %w", err)
	}
	// a claim leases its rows until one instant: rows with this row's lease are this
	// worker's batch, to take along; rows another worker leased are left to it
	var row struct {
		Done  bool
		Lease time.Time
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT processed_at IS NOT NULL AS done, available_at AS lease FROM outbox WHERE id = ?`, m.ID).
		Scan(&row).Error; err != nil {
		return err
	}
	if row.Done {
		return nil
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		// locked until commit, so concurrent refreshes take different rows along
		var others []int64
		if err := db.Conn(ctx, s.db).Raw(`SELECT CAST(payload->>'member_id' AS bigint) FROM outbox
		                                   WHERE topic = ? AND processed_at IS NULL AND parked_at IS NULL
		                                     AND (available_at <= now() OR available_at = ?)
		                                   ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, TopicProfile, row.Lease, queueBatch-1).
			Scan(&others).Error; err != nil {
			return err
		}
		_, err := s.refreshMembers(ctx, p.MemberID, m.ID, others, false)
		return err
	})
}

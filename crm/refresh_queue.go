package crm

import (
	"context"
	"encoding/json"
	"fmt"

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
// the oldest other pending rows along (up to queueBatch in all; rows another refresh
// has taken are skipped), so a burst of events costs a few batched refreshes instead
// of one each (see refreshMembers). A row a refresh has already answered is done at
// once.
func (s *Service) HandleProfile(ctx context.Context, m outbox.Message) error {
	var p struct {
		MemberID int64 `json:"member_id"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return fmt.Errorf("crm.profile payload: %w", err)
	}
	var done bool
	if err := s.db.WithContext(ctx).Raw(`SELECT processed_at IS NOT NULL FROM outbox WHERE id = ?`, m.ID).Scan(&done).Error; err != nil {
		return err
	}
	if done {
		return nil
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		// locked until commit, so concurrent refreshes take different rows along
		var others []int64
		if err := db.Conn(ctx, s.db).Raw(`SELECT CAST(payload->>'member_id' AS bigint) FROM outbox
		                                   WHERE topic = ? AND processed_at IS NULL AND parked_at IS NULL
		                                   ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, TopicProfile, queueBatch-1).
			Scan(&others).Error; err != nil {
			return err
		}
		_, err := s.refreshMembers(ctx, p.MemberID, m.ID, others)
		return err
	})
}

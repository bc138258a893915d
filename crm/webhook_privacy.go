package crm

import (
	"context"
	"strconv"

	"github.com/hearth-community/hearth/internal/db"
)

// EraseWebhookData removes a member's e-mail address and external id from the webhook
// delivery log and from deliveries still queued, in the erasure transaction carried
// by ctx. It has the shape of an Eraser: main registers it with the other steps.
func (s *Service) EraseWebhookData(ctx context.Context, member int64) error {
	conn := db.Conn(ctx, s.db)
	id := strconv.FormatInt(member, 10)
	// erasure is rare: a scan of the log is cheaper than an index kept for it
	if err := conn.Exec(`UPDATE crm_webhook_deliveries SET payload = payload #- '{member,email}' #- '{member,external_id}'
	                      WHERE payload->'member'->>'id' = ?`, id).Error; err != nil {
		return err
	}
	return conn.Exec(`UPDATE outbox SET payload = jsonb_set(payload, '{event}', (payload->'event') #- '{member,email}' #- '{member,external_id}')
	                   WHERE topic = ? AND payload->'event'->'member'->>'id' = ?`, TopicWebhook, id).Error
}

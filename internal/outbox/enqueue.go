package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// Enqueue records a side effect of topic with payload (marshalled to JSON) in the
// transaction carried by ctx, and refuses with ErrNoTransaction when there is none, so
// an effect commits or rolls back with the change that causes it. It also NOTIFYs the
// outbox channel in that transaction: PostgreSQL delivers the notification only at
// commit, which is exactly when the row becomes visible to workers.
func Enqueue(ctx context.Context, base *gorm.DB, topic string, payload any) error {
	if !db.InTransaction(ctx) {
		return ErrNoTransaction
	}
	if topic == "" {
		return errors.New("outbox: enqueue needs a topic")
	}
	body := []byte("{}")
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("outbox: marshal %s payload: %w", topic, err)
		}
		body = b
	}
	tx := db.Conn(ctx, base)
	if err := tx.Exec(`INSERT INTO outbox (topic, payload) VALUES (?, CAST(? AS jsonb))`,
		topic, string(body)).Error; err != nil {
		return fmt.Errorf("outbox: insert %s: %w", topic, err)
	}
	// Notifications with the same payload are folded into one per transaction, so a
	// use case enqueuing many rows of one topic wakes workers once.
	if err := tx.Exec(`SELECT pg_notify('`+channel+`', ?)`, topic).Error; err != nil {
		return fmt.Errorf("outbox: notify %s: %w", topic, err)
	}
	return nil
}

package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// hookCacheTTL bounds how long an endpoint registered or removed in another process
// takes to be noticed by Append here (in this process it is immediate).
const hookCacheTTL = 2 * time.Second

// webhookJob is the payload of a TopicWebhook outbox row.
type webhookJob struct {
	WebhookID int64           `json:"webhook_id"`
	Event     json.RawMessage `json:"event"`
	// ResendOf is the delivery an admin asked to re-send, if any.
	ResendOf int64 `json:"resend_of,omitempty"`
}

// WebhookEvent is the JSON body POSTed to an endpoint: one engagement event (a stage
// change is one too, with Stage set) and the keys an external CRM matches the member on.
type WebhookEvent struct {
	Kind       Kind          `json:"kind"`
	OccurredAt time.Time     `json:"occurred_at"`
	Member     WebhookMember `json:"member"`
	Subject    *Subject      `json:"subject,omitempty"`
	Value      float64       `json:"value"`
	// Stage is the member's new lifecycle stage on crm.stage_changed.
	Stage    string   `json:"stage,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Category string   `json:"category,omitempty"`
}

// WebhookMember identifies the member in a webhook body.
type WebhookMember struct {
	ID         int64  `json:"id"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// Subject is what an event was about (a post, a purchase …).
type Subject struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// hookRef is an active endpoint as Append needs it: id and kinds.
type hookRef struct {
	id    int64
	kinds []string
}

func (h hookRef) wants(k Kind) bool {
	return slices.Contains(h.kinds, string(k)) || slices.Contains(h.kinds, AllKinds)
}

type hookSnapshot struct {
	loaded time.Time
	hooks  []hookRef
}

// hookCache keeps the active endpoints of one database for hookCacheTTL, so that
// Append, on every write path, costs no query for webhooks in the common case.
type hookCache struct {
	mu   sync.Mutex // serialises reloads; readers use snap
	snap atomic.Pointer[hookSnapshot]
}

// hookCaches maps a database (weakly, so a closed test database can be collected) to
// its cache. Append is a plain function every package calls with only the *gorm.DB,
// so the cache hangs off the database handle rather than a service.
var hookCaches sync.Map // weak.Pointer[sql.DB] → *hookCache

func hooksOf(base *gorm.DB) *hookCache {
	sqlDB, err := base.DB()
	if err != nil {
		return &hookCache{} // not cacheable: load every time
	}
	key := weak.Make(sqlDB)
	if c, ok := hookCaches.Load(key); ok {
		return c.(*hookCache)
	}
	c, _ := hookCaches.LoadOrStore(key, &hookCache{})
	return c.(*hookCache)
}

// invalidateHooks makes the next Append in this process reload the endpoints.
func invalidateHooks(base *gorm.DB) { hooksOf(base).snap.Store(nil) }

// active returns the cached endpoints, reloading them through conn when stale.
func (c *hookCache) active(conn *gorm.DB) ([]hookRef, error) {
	if s := c.snap.Load(); s != nil && time.Since(s.loaded) < hookCacheTTL {
		return s.hooks, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.snap.Load(); s != nil && time.Since(s.loaded) < hookCacheTTL {
		return s.hooks, nil
	}
	var rows []struct {
		ID    int64
		Kinds pq.StringArray `gorm:"type:text[]"`
	}
	if err := conn.Raw(`SELECT id, kinds FROM crm_webhooks WHERE active ORDER BY id`).Scan(&rows).Error; err != nil {
		return nil, err
	}
	hooks := make([]hookRef, len(rows))
	for i, r := range rows {
		hooks[i] = hookRef{id: r.ID, kinds: r.Kinds}
	}
	c.snap.Store(&hookSnapshot{loaded: time.Now(), hooks: hooks})
	return hooks, nil
}

// enqueueWebhooks queues e for every active endpoint subscribed to its kind, in the
// event's transaction. Without a matching endpoint it costs no query.
func enqueueWebhooks(ctx context.Context, base *gorm.DB, e Event) error {
	conn := db.Conn(ctx, base)
	hooks, err := hooksOf(base).active(conn)
	if err != nil {
		return err
	}
	var ids []int64
	for _, h := range hooks {
		if h.wants(e.Kind) {
			ids = append(ids, h.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	body := WebhookEvent{Kind: e.Kind, OccurredAt: e.OccurredAt.UTC(), Member: WebhookMember{ID: e.MemberID},
		Value: e.Value, Tags: e.Tags, Category: e.Category}
	if e.SubjectType != "" || e.SubjectID != 0 {
		body.Subject = &Subject{Type: e.SubjectType, ID: e.SubjectID}
	}
	if e.Kind == KindStageChanged {
		body.Stage = strings.TrimPrefix(e.SubjectType, "stage:")
	}
	var who struct {
		Email      string
		ExternalID sql.NullString
	}
	if err := conn.Raw(`SELECT u.email, p.external_id FROM users u LEFT JOIN crm_profiles p ON p.member_id = u.id AND NOT p.erased WHERE u.id = ?`,
		e.MemberID).Scan(&who).Error; err != nil {
		return err
	}
	body.Member.Email, body.Member.ExternalID = who.Email, who.ExternalID.String
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := outbox.Enqueue(ctx, base, TopicWebhook, webhookJob{WebhookID: id, Event: raw}); err != nil {
			return err
		}
	}
	return nil
}

package crm

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// TopicWebhook is the outbox topic of one delivery to one endpoint: payload
// {webhook_id, event}, where event is the JSON body to POST.
const TopicWebhook = "crm.webhook"

// AllKinds in a webhook's kinds subscribes it to every event kind.
const AllKinds = "*"

// Webhook is an endpoint an admin registered to receive engagement events and
// lifecycle stage changes. Its secret never leaves the database except to sign
// deliveries: only its last four characters are shown.
type Webhook struct {
	ID         int64          `json:"id"`
	URL        string         `json:"url"`
	Kinds      pq.StringArray `json:"kinds" gorm:"type:text[]"`
	Active     bool           `json:"active"`
	SecretHint string         `json:"secret_hint"`
	CreatedAt  time.Time      `json:"created_at"`
	CreatedBy  *int64         `json:"created_by"`
}

// WebhookInput registers an endpoint.
type WebhookInput struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Kinds  []string `json:"kinds"`
}

// Delivery is one attempt to POST one event to one endpoint.
type Delivery struct {
	ID          int64           `json:"id"`
	WebhookID   int64           `json:"webhook_id"`
	OutboxID    int64           `json:"outbox_id"`
	EventKind   string          `json:"event_kind"`
	Payload     json.RawMessage `json:"payload"`
	Attempt     int             `json:"attempt"`
	StatusCode  *int            `json:"status_code"`
	Error       string          `json:"error"`
	DurationMS  int             `json:"duration_ms"`
	DeliveredAt *time.Time      `json:"delivered_at"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Delivered reports whether the endpoint answered 2xx.
func (d Delivery) Delivered() bool { return d.DeliveredAt != nil }

// Limits of a webhook registration.
const (
	minSecret = 16
	maxSecret = 256
	maxURL    = 2000
)

// WebhookKinds lists what an endpoint may subscribe to: every engagement event kind
// (stage changes included), sorted.
func WebhookKinds() []string {
	out := make([]string, 0, len(Weights))
	for k := range Weights {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

// Validate checks the endpoint. Only http and https URLs with a host are taken, and
// no credentials in the URL (they belong in the secret). Addresses inside the
// network are not refused: see README "Webhooks" on restricting egress.
func (in *WebhookInput) Validate() error {
	f := apperr.Fields{}
	in.URL = strings.TrimSpace(in.URL)
	u, err := url.Parse(in.URL)
	switch {
	case in.URL == "":
		f.Add("url", "field.required")
	case len(in.URL) > maxURL || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "":
		f.Add("url", "crm.webhook.url_invalid")
	case u.User != nil:
		f.Add("url", "crm.webhook.url_userinfo")
	}
	switch n := utf8.RuneCountInString(in.Secret); {
	case n == 0:
		f.Add("secret", "field.required")
	case n < minSecret:
		f.Add("secret", "crm.webhook.secret_short")
	case n > maxSecret:
		f.Add("secret", "field.too_long")
	}
	kinds := map[string]bool{}
	for _, k := range in.Kinds {
		k = strings.TrimSpace(k)
		if _, ok := Weights[Kind(k)]; !ok && k != AllKinds {
			f.Add("kinds", "crm.webhook.kind_unknown")
		}
		kinds[k] = true
	}
	if len(kinds) == 0 {
		f.Add("kinds", "field.required")
	}
	in.Kinds = keys(kinds)
	slices.Sort(in.Kinds)
	return f.Err()
}

func requireAdmin(a Actor) error {
	if a.ID == 0 {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if a.Role != "admin" {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

func requireStaff(a Actor) error {
	if a.ID == 0 {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if !a.ReadsCRM() {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

const webhookColumns = `id, url, kinds, active, '…' || right(secret, 4) AS secret_hint, created_at, created_by`

// Webhooks lists the registered endpoints (marketers and admins may read them).
func (s *Service) Webhooks(ctx context.Context, a Actor) ([]Webhook, error) {
	if err := requireStaff(a); err != nil {
		return nil, err
	}
	out := []Webhook{}
	err := db.Conn(ctx, s.db).Raw(`SELECT ` + webhookColumns + ` FROM crm_webhooks ORDER BY id`).Scan(&out).Error
	return out, err
}

// CreateWebhook registers an endpoint (admins only). Events appended from now on
// are delivered to it; other processes notice it within hookCacheTTL.
func (s *Service) CreateWebhook(ctx context.Context, a Actor, in WebhookInput) (*Webhook, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	w := &Webhook{}
	err := db.Conn(ctx, s.db).Raw(`INSERT INTO crm_webhooks (url, secret, kinds, created_by) VALUES (?, ?, ?, ?) RETURNING `+webhookColumns,
		in.URL, in.Secret, pq.StringArray(in.Kinds), a.ID).Scan(w).Error
	if err != nil {
		return nil, err
	}
	invalidateHooks(s.db)
	return w, nil
}

// DeleteWebhook removes an endpoint and its delivery log (admins only). Deliveries
// still queued for it are dropped when they come up.
func (s *Service) DeleteWebhook(ctx context.Context, a Actor, id int64) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	res := db.Conn(ctx, s.db).Exec(`DELETE FROM crm_webhooks WHERE id = ?`, id)
	if res.Error != nil {
		return res.Error
	}
	invalidateHooks(s.db)
	if res.RowsAffected == 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}

const deliveryColumns = `id, webhook_id, outbox_id, event_kind, payload, attempt, status_code, error, duration_ms, delivered_at, created_at`

// Deliveries lists an endpoint's delivery log, newest first, before the delivery id
// before (0: from the newest), at most limit (1–200) rows.
func (s *Service) Deliveries(ctx context.Context, a Actor, webhook, before int64, limit int) ([]Delivery, error) {
	if err := requireStaff(a); err != nil {
		return nil, err
	}
	if err := s.webhookExists(ctx, webhook); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	out := []Delivery{}
	err := db.Conn(ctx, s.db).Raw(`SELECT `+deliveryColumns+` FROM crm_webhook_deliveries WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
		webhook, before, limit).Scan(&out).Error
	return out, err
}

// RecentDeliveries returns the newest n deliveries of every endpoint, in one query.
func (s *Service) RecentDeliveries(ctx context.Context, a Actor, n int) (map[int64][]Delivery, error) {
	if err := requireStaff(a); err != nil {
		return nil, err
	}
	var rows []Delivery
	err := db.Conn(ctx, s.db).Raw(`SELECT `+deliveryColumns+` FROM (
		   SELECT d.*, row_number() OVER (PARTITION BY webhook_id ORDER BY id DESC) AS rn FROM crm_webhook_deliveries d) x
		 WHERE rn <= ? ORDER BY webhook_id, id DESC`, n).Scan(&rows).Error
	out := map[int64][]Delivery{}
	for _, d := range rows {
		out[d.WebhookID] = append(out[d.WebhookID], d)
	}
	return out, err
}

// ResendDelivery queues the payload of a past delivery to its endpoint again (admins
// only). It goes out as a new delivery with a new X-Hearth-Delivery id, retried like
// any other.
func (s *Service) ResendDelivery(ctx context.Context, a Actor, webhook, delivery int64) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		var d Delivery
		res := db.Conn(ctx, s.db).Raw(`SELECT `+deliveryColumns+` FROM crm_webhook_deliveries WHERE id = ? AND webhook_id = ?`,
			delivery, webhook).Scan(&d)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return outbox.Enqueue(ctx, s.db, TopicWebhook, webhookJob{WebhookID: webhook, Event: d.Payload, ResendOf: d.ID})
	})
}

func (s *Service) webhookExists(ctx context.Context, id int64) error {
	var n int64
	if err := db.Conn(ctx, s.db).Raw(`SELECT count(*) FROM crm_webhooks WHERE id = ?`, id).Scan(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}

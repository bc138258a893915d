package crm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/outbox"
)

// The headers of every delivery. Receivers check the signature over
// timestamp + "." + body, refuse old timestamps (replays), and deduplicate on the
// delivery id, which stays the same across retries of one delivery.
const (
	HeaderSignature = "X-Hearth-Signature"
	HeaderTimestamp = "X-Hearth-Timestamp"
	HeaderEvent     = "X-Hearth-Event"
	HeaderDelivery  = "X-Hearth-Delivery"
)

// webhookTimeout bounds one POST; the outbox lease (60 s) comfortably exceeds it.
const webhookTimeout = 10 * time.Second

// Sign returns the X-Hearth-Signature value of body sent at unix time ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookSender POSTs queued webhook deliveries; its Handle is the outbox handler of
// TopicWebhook.
type WebhookSender struct {
	db     *gorm.DB
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// NewWebhookSender returns a sender. A nil client gets one with a 10 s timeout that
// does not follow redirects (a redirect is a failed delivery, and following it could
// lead the request somewhere the admin never registered).
func NewWebhookSender(gdb *gorm.DB, client *http.Client, log *slog.Logger) *WebhookSender {
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if log == nil {
		log = slog.Default()
	}
	return &WebhookSender{db: gdb, client: client, log: log, now: time.Now}
}

// Handle delivers one outbox row: a 2xx answer is delivered; anything else returns an
// error, so the outbox retries with backoff and parks the row after its last attempt.
// Every attempt is logged in crm_webhook_deliveries. A row whose endpoint was removed
// or paused is dropped; one already delivered (a redelivered row) is not POSTed again.
func (s *WebhookSender) Handle(ctx context.Context, m outbox.Message) error {
	var job webhookJob
	if err := json.Unmarshal(m.Payload, &job); err != nil {
		return fmt.Errorf("crm.webhook payload: %w", err)
	}
	conn := s.db.WithContext(ctx)
	var hook struct {
		URL    string
		Secret string
		Active bool
	}
	res := conn.Raw(`SELECT url, secret, active FROM crm_webhooks WHERE id = ?`, job.WebhookID).Scan(&hook)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 || !hook.Active {
		s.log.Debug("webhook delivery dropped: endpoint removed or paused", "webhook", job.WebhookID, "outbox_id", m.ID)
		return nil
	}
	var done bool
	if err := conn.Raw(`SELECT EXISTS (SELECT 1 FROM crm_webhook_deliveries WHERE outbox_id = ? AND delivered_at IS NOT NULL)`, m.ID).
		Scan(&done).Error; err != nil || done {
		return err
	}
	var head struct {
		Kind string `json:"kind"`
	}
	_ = json.Unmarshal(job.Event, &head)

	d := Delivery{WebhookID: job.WebhookID, OutboxID: m.ID, EventKind: head.Kind, Payload: job.Event, Attempt: m.Attempts}
	start := time.Now()
	status, err := s.post(ctx, hook.URL, hook.Secret, m.ID, head.Kind, job.Event)
	d.DurationMS = int(time.Since(start).Milliseconds())
	switch {
	case err != nil:
		d.Error = err.Error()
	case status < 200 || status > 299:
		d.StatusCode, d.Error = &status, "HTTP "+strconv.Itoa(status)
	default:
		d.StatusCode = &status
		now := s.now()
		d.DeliveredAt = &now
	}
	if rerr := s.record(ctx, d); rerr != nil {
		return errors.Join(fmt.Errorf("log webhook delivery: %w", rerr), errOf(d))
	}
	return errOf(d)
}

func errOf(d Delivery) error {
	if d.Delivered() {
		return nil
	}
	return fmt.Errorf("webhook %d: %s", d.WebhookID, d.Error)
}

// post sends one signed request and returns the status code. Transport errors are
// returned without the URL, which may carry a token in its query and ends up in logs.
func (s *WebhookSender) post(ctx context.Context, target, secret string, delivery int64, kind string, body []byte) (int, error) {
	ts := s.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("invalid endpoint URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hearth-Webhooks/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	req.Header.Set(HeaderEvent, kind)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(delivery, 10))
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	// drain a little so the connection can be reused; the answer itself is not kept
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// record logs the attempt, even when the handler's lease has just run out.
func (s *WebhookSender) record(ctx context.Context, d Delivery) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	msg := []rune(strings.ToValidUTF8(d.Error, "?"))
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return s.db.WithContext(rctx).Exec(
		`INSERT INTO crm_webhook_deliveries (webhook_id, outbox_id, event_kind, payload, attempt, status_code, error, duration_ms, delivered_at)
		 VALUES (?, ?, ?, CAST(? AS jsonb), ?, ?, ?, ?, ?)`,
		d.WebhookID, d.OutboxID, d.EventKind, string(d.Payload), d.Attempt, d.StatusCode, string(msg), d.DurationMS, d.DeliveredAt).Error
}

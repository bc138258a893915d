package crm_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

const hookSecret = "s3cret-for-tests-0123456789"

// receiver is a real HTTP server standing in for Salesforce or HubSpot: it checks
// every request's signature and timestamp like a receiver should, and answers 500
// to the first failFirst requests.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	failFirst int
	got       []received
}

type received struct {
	body      []byte
	status    int
	validSig  bool
	event     string
	delivery  string
	timestamp int64
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	rc := &receiver{failFirst: failFirst}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(crm.HeaderTimestamp), 10, 64)
		want := crm.Sign(hookSecret, ts, body)
		valid := hmac.Equal([]byte(r.Header.Get(crm.HeaderSignature)), []byte(want)) &&
			time.Since(time.Unix(ts, 0)).Abs() < 5*time.Minute && r.Method == http.MethodPost &&
			r.Header.Get("Content-Type") == "application/json"
		rc.mu.Lock()
		defer rc.mu.Unlock()
		status := http.StatusOK
		if !valid {
			status = http.StatusUnauthorized
		} else if len(rc.got) < rc.failFirst {
			status = http.StatusInternalServerError
		}
		rc.got = append(rc.got, received{body: body, status: status, validSig: valid, event: r.Header.Get(crm.HeaderEvent),
			delivery: r.Header.Get(crm.HeaderDelivery), timestamp: ts})
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// webhookWorker handles only webhook rows, like a `hearth worker` would.
func webhookWorker(g *gorm.DB, opt outbox.Options) *outbox.Worker {
	opt.Logger = slog.New(slog.DiscardHandler)
	return outbox.NewWorker(g, "", map[string]outbox.Handler{crm.TopicWebhook: crm.NewWebhookSender(g, nil, nil).Handle}, opt)
}

// drain runs the worker until no webhook row is due, ending every backoff in between
// as if time had passed.
func drain(t *testing.T, g *gorm.DB, w *outbox.Worker, rounds int) {
	t.Helper()
	for range rounds {
		if _, err := w.ProcessBatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		g.Exec(`UPDATE outbox SET available_at = now() WHERE topic = ? AND processed_at IS NULL AND parked_at IS NULL`, crm.TopicWebhook)
	}
}

func adminActor(t *testing.T, g *gorm.DB) crm.Actor {
	id := newMember(t, g, 1)
	g.Exec(`UPDATE users SET role = 'admin' WHERE id = ?`, id)
	return crm.Actor{ID: id, Role: "admin"}
}

type deliveryRow struct {
	OutboxID    int64
	Attempt     int
	StatusCode  *int
	Error       string
	DeliveredAt *time.Time
	EventKind   string
}

func deliveries(t *testing.T, g *gorm.DB, hook int64) []deliveryRow {
	t.Helper()
	var out []deliveryRow
	if err := g.Raw(`SELECT outbox_id, attempt, status_code, error, delivered_at, event_kind FROM crm_webhook_deliveries WHERE webhook_id = ? ORDER BY id`, hook).
		Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWebhookSignedRetriedLogged: a purchase appended while an endpoint listens for
// shop.purchase is POSTed signed; the endpoint fails twice, the outbox retries, the
// third attempt succeeds; each attempt is logged, exactly one as delivered, and the
// outbox row ends processed. Every attempt carries the same delivery id.
func TestWebhookSignedRetriedLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	rc := newReceiver(t, 2)
	hook, err := svc.CreateWebhook(ctx, adminActor(t, g), crm.WebhookInput{URL: rc.URL + "/hooks/hearth", Secret: hookSecret,
		Kinds: []string{string(crm.KindPurchase)}})
	if err != nil {
		t.Fatal(err)
	}
	m := newMember(t, g, 2)
	g.Exec(`INSERT INTO crm_profiles (member_id, external_id) VALUES (?, 'SF-0042')`, m)
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindPurchase, SubjectType: "purchase", SubjectID: 9, Value: 42.5, OccurredAt: at})
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated, SubjectType: "post", SubjectID: 3}) // not subscribed

	var rows []struct {
		ID      int64
		Payload string
	}
	g.Raw(`SELECT id, payload::text FROM outbox WHERE topic = ?`, crm.TopicWebhook).Scan(&rows)
	if len(rows) != 1 {
		t.Fatalf("%d webhook rows queued, want 1 (the purchase only)", len(rows))
	}
	drain(t, g, webhookWorker(g, outbox.Options{}), 4)

	got := rc.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (fail, fail, succeed)", len(got))
	}
	for i, r := range got {
		if !r.validSig || r.event != string(crm.KindPurchase) || r.delivery != strconv.FormatInt(rows[0].ID, 10) {
			t.Fatalf("request %d: valid signature %v, event %q, delivery %q (outbox %d)", i, r.validSig, r.event, r.delivery, rows[0].ID)
		}
	}
	var body crm.WebhookEvent
	if err := json.Unmarshal(got[2].body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Kind != crm.KindPurchase || body.Value != 42.5 || !body.OccurredAt.Equal(at) || body.Member.ID != m ||
		body.Member.ExternalID != "SF-0042" || body.Member.Email == "" || body.Subject == nil || body.Subject.ID != 9 {
		t.Fatalf("body: %s", got[2].body)
	}
	ds := deliveries(t, g, hook.ID)
	if len(ds) != 3 {
		t.Fatalf("%d deliveries logged, want 3", len(ds))
	}
	delivered := 0
	for i, d := range ds {
		if d.Attempt != i+1 || d.OutboxID != rows[0].ID || d.StatusCode == nil || d.EventKind != string(crm.KindPurchase) {
			t.Fatalf("delivery %d: %+v", i, d)
		}
		if d.DeliveredAt != nil {
			delivered++
			if *d.StatusCode != 200 || d.Error != "" {
				t.Fatalf("success logged as %+v", d)
			}
		} else if *d.StatusCode != 500 || d.Error != "HTTP 500" {
			t.Fatalf("failure logged as %+v", d)
		}
	}
	if delivered != 1 || ds[2].DeliveredAt == nil {
		t.Fatalf("%d deliveries marked delivered, want exactly the third", delivered)
	}
	var ob struct {
		Attempts    int
		ProcessedAt *time.Time
		ParkedAt    *time.Time
	}
	g.Raw(`SELECT attempts, processed_at, parked_at FROM outbox WHERE id = ?`, rows[0].ID).Scan(&ob)
	if ob.ProcessedAt == nil || ob.ParkedAt != nil || ob.Attempts != 3 {
		t.Fatalf("outbox row: %+v", ob)
	}

	// an outbox row handled again after success (a worker died before marking it) is
	// not POSTed twice
	g.Exec(`UPDATE outbox SET processed_at = NULL, available_at = now() WHERE id = ?`, rows[0].ID)
	drain(t, g, webhookWorker(g, outbox.Options{}), 1)
	if n := len(rc.requests()); n != 3 {
		t.Fatalf("redelivered row POSTed again: %d requests", n)
	}

	// re-send: the logged payload goes out again as a new delivery
	var last int64
	g.Raw(`SELECT max(id) FROM crm_webhook_deliveries`).Scan(&last)
	if err := svc.ResendDelivery(ctx, adminActor(t, g), hook.ID, last); err != nil {
		t.Fatal(err)
	}
	drain(t, g, webhookWorker(g, outbox.Options{}), 1)
	got = rc.requests()
	if len(got) != 4 || got[3].status != 200 || got[3].delivery == got[2].delivery {
		t.Fatalf("re-send: %d requests", len(got))
	}
	var a, b map[string]any
	_ = json.Unmarshal(got[2].body, &a)
	_ = json.Unmarshal(got[3].body, &b)
	if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
		t.Fatalf("re-sent body differs:\n%s\n%s", got[2].body, got[3].body)
	}
}

// TestWebhookParksAfterMaxAttempts: an endpoint that never answers 2xx gets
// MaxAttempts logged attempts, then the outbox parks the row.
func TestWebhookParksAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	rc := newReceiver(t, 1000)
	hook, err := svc.CreateWebhook(ctx, adminActor(t, g), crm.WebhookInput{URL: rc.URL, Secret: hookSecret, Kinds: []string{crm.AllKinds}})
	if err != nil {
		t.Fatal(err)
	}
	appendAt(t, g, crm.Event{MemberID: newMember(t, g, 3), Kind: crm.KindThreadCreated, SubjectType: "thread", SubjectID: 1})
	drain(t, g, webhookWorker(g, outbox.Options{MaxAttempts: 3}), 5)
	ds := deliveries(t, g, hook.ID)
	var parked int64
	g.Raw(`SELECT count(*) FROM outbox WHERE topic = ? AND parked_at IS NOT NULL AND processed_at IS NULL`, crm.TopicWebhook).Scan(&parked)
	if len(ds) != 3 || parked != 1 || len(rc.requests()) != 3 {
		t.Fatalf("deliveries %d, parked %d, requests %d; want 3, 1, 3", len(ds), parked, len(rc.requests()))
	}
	for _, d := range ds {
		if d.DeliveredAt != nil {
			t.Fatalf("a failed attempt logged as delivered: %+v", d)
		}
	}
}

// TestWebhookStageChangesAndKinds: a lifecycle stage change (a profile change) is
// delivered to endpoints subscribed to crm.stage_changed or to everything, and to
// nobody else; a deleted endpoint gets nothing more, even what was queued for it.
func TestWebhookStageChangesAndKinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	admin := adminActor(t, g)
	stages := newReceiver(t, 0)
	everything := newReceiver(t, 0)
	replies := newReceiver(t, 0)
	for _, h := range []struct {
		rc    *receiver
		kinds []string
	}{{stages, []string{string(crm.KindStageChanged)}}, {everything, []string{crm.AllKinds}}, {replies, []string{string(crm.KindReplyCreated)}}} {
		if _, err := svc.CreateWebhook(ctx, admin, crm.WebhookInput{URL: h.rc.URL, Secret: hookSecret, Kinds: h.kinds}); err != nil {
			t.Fatal(err)
		}
	}
	// a member last active 200 days ago: the refresh moves them to dormant
	m := newMember(t, g, 4)
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindThreadCreated, OccurredAt: time.Now().Add(-200 * 24 * time.Hour)})
	if err := svc.RefreshMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	drain(t, g, webhookWorker(g, outbox.Options{}), 2)
	if got := stages.requests(); len(got) != 1 || got[0].event != string(crm.KindStageChanged) {
		t.Fatalf("stage endpoint got %d requests", len(got))
	} else {
		var body crm.WebhookEvent
		_ = json.Unmarshal(got[0].body, &body)
		if body.Stage != string(crm.StageDormant) || body.Member.ID != m {
			t.Fatalf("stage change body: %s", got[0].body)
		}
	}
	if n := len(everything.requests()); n != 2 { // the thread and the stage change
		t.Fatalf("catch-all endpoint got %d requests, want 2", n)
	}
	if n := len(replies.requests()); n != 0 {
		t.Fatalf("reply endpoint got %d requests", n)
	}

	// queued for an endpoint that is then deleted: dropped, not POSTed
	list, _ := svc.Webhooks(ctx, admin)
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated})
	if err := svc.DeleteWebhook(ctx, admin, list[2].ID); err != nil {
		t.Fatal(err)
	}
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated})
	drain(t, g, webhookWorker(g, outbox.Options{}), 2)
	var pending int64
	g.Raw(`SELECT count(*) FROM outbox WHERE topic = ? AND processed_at IS NULL`, crm.TopicWebhook).Scan(&pending)
	if n := len(replies.requests()); n != 0 || pending != 0 {
		t.Fatalf("deleted endpoint got %d requests; %d rows pending", n, pending)
	}
	if n := len(everything.requests()); n != 4 {
		t.Fatalf("catch-all endpoint got %d requests, want 4", n)
	}
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    crm.WebhookInput
		field string
	}{
		{"ok", crm.WebhookInput{URL: "https://crm.example.com/h", Secret: hookSecret, Kinds: []string{"shop.purchase"}}, ""},
		{"ftp", crm.WebhookInput{URL: "ftp://crm.example.com/h", Secret: hookSecret, Kinds: []string{"*"}}, "url"},
		{"javascript", crm.WebhookInput{URL: "javascript:alert(1)", Secret: hookSecret, Kinds: []string{"*"}}, "url"},
		{"no host", crm.WebhookInput{URL: "https:///path", Secret: hookSecret, Kinds: []string{"*"}}, "url"},
		{"relative", crm.WebhookInput{URL: "/hooks", Secret: hookSecret, Kinds: []string{"*"}}, "url"},
		{"credentials", crm.WebhookInput{URL: "https://user:pw@crm.example.com/", Secret: hookSecret, Kinds: []string{"*"}}, "url"},
		{"short secret", crm.WebhookInput{URL: "https://crm.example.com/", Secret: "short", Kinds: []string{"*"}}, "secret"},
		{"no kinds", crm.WebhookInput{URL: "https://crm.example.com/", Secret: hookSecret}, "kinds"},
		{"unknown kind", crm.WebhookInput{URL: "https://crm.example.com/", Secret: hookSecret, Kinds: []string{"made.up"}}, "kinds"},
	}
	for _, c := range cases {
		err := c.in.Validate()
		f := map[string]string{}
		for _, p := range crm.RowProblems(err) {
			f[p.Column] = p.MessageID
		}
		if (c.field == "") != (err == nil) || (c.field != "" && f[c.field] == "") {
			t.Errorf("%s: %v (fields %v)", c.name, err, f)
		}
	}
}

// statements counts the SQL statements run through a *gorm.DB.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) LogMode(logger.LogLevel) logger.Interface { return s }
func (s *statements) Info(context.Context, string, ...any)     {}
func (s *statements) Warn(context.Context, string, ...any)     {}
func (s *statements) Error(context.Context, string, ...any)    {}
func (s *statements) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	s.mu.Lock()
	s.sql = append(s.sql, q)
	s.mu.Unlock()
}

// noneMention fails if a statement of the last count read table.
func (s *statements) noneMention(t *testing.T, table string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.sql {
		if strings.Contains(q, table) {
			t.Fatalf("Append queried %s: %s", table, q)
		}
	}
}

func (s *statements) count(f func()) int {
	s.mu.Lock()
	s.sql = nil
	s.mu.Unlock()
	f()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sql)
}

// TestAppendWebhookCostIsCached: Append, on every write path, reads the active
// endpoints from a cache: with endpoints for other kinds it runs exactly the
// statements it runs with none; only a subscribed endpoint adds work (the member
// lookup, the outbox row and its notify). A new endpoint is seen at once.
func TestAppendWebhookCostIsCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := testenv.DB(t)
	counter := &statements{}
	g := base.Session(&gorm.Session{Logger: counter})
	svc := crm.NewService(g, crm.DefaultParams, nil)
	admin := adminActor(t, base)
	m := newMember(t, base, 5)
	appendReply := func() {
		appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated, SubjectType: "post", SubjectID: 1})
	}
	appendReply() // warm the cache
	none := counter.count(appendReply)
	counter.noneMention(t, "crm_webhooks")
	for _, k := range []crm.Kind{crm.KindPurchase, crm.KindStageChanged} {
		if _, err := svc.CreateWebhook(ctx, admin, crm.WebhookInput{URL: "https://crm.example.com/x", Secret: hookSecret, Kinds: []string{string(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	appendReply() // the cache reloads once after a change
	if other := counter.count(appendReply); other != none {
		t.Fatalf("endpoints for other kinds: %d statements per Append, %d without endpoints", other, none)
	}
	counter.noneMention(t, "crm_webhooks")
	if _, err := svc.CreateWebhook(ctx, admin, crm.WebhookInput{URL: "https://crm.example.com/r", Secret: hookSecret,
		Kinds: []string{string(crm.KindReplyCreated)}}); err != nil {
		t.Fatal(err)
	}
	var queued int64
	first := counter.count(appendReply)
	base.Raw(`SELECT count(*) FROM outbox WHERE topic = ?`, crm.TopicWebhook).Scan(&queued)
	if queued != 1 {
		t.Fatalf("the endpoint registered a moment ago got %d rows", queued)
	}
	if subscribed := counter.count(appendReply); subscribed != none+3 {
		t.Fatalf("a subscribed endpoint: %d statements per Append, want %d + 3 (member, outbox row, notify); first after the change %d",
			subscribed, none, first)
	}
}

// TestEraseWebhookData: an erased member's e-mail and external id leave the delivery
// log and the deliveries still queued.
func TestEraseWebhookData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	rc := newReceiver(t, 0)
	if _, err := svc.CreateWebhook(ctx, adminActor(t, g), crm.WebhookInput{URL: rc.URL, Secret: hookSecret, Kinds: []string{crm.AllKinds}}); err != nil {
		t.Fatal(err)
	}
	m, other := newMember(t, g, 6), newMember(t, g, 7)
	g.Exec(`INSERT INTO crm_profiles (member_id, external_id) VALUES (?, 'SF-ERASE')`, m)
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindThreadCreated})
	appendAt(t, g, crm.Event{MemberID: other, Kind: crm.KindThreadCreated})
	drain(t, g, webhookWorker(g, outbox.Options{}), 1)
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated}) // still queued
	if err := db.InTx(ctx, g, func(ctx context.Context) error { return svc.EraseWebhookData(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	var leaks, kept int64
	g.Raw(`SELECT (SELECT count(*) FROM crm_webhook_deliveries WHERE payload::text LIKE '%SF-ERASE%' OR payload->'member'->>'email' IS NOT NULL AND payload->'member'->>'id' = ?)
	            + (SELECT count(*) FROM outbox WHERE topic = 'crm.webhook' AND (payload::text LIKE '%SF-ERASE%' OR payload->'event'->'member'->>'email' IS NOT NULL AND payload->'event'->'member'->>'id' = ?))`,
		strconv.FormatInt(m, 10), strconv.FormatInt(m, 10)).Scan(&leaks)
	g.Raw(`SELECT count(*) FROM crm_webhook_deliveries WHERE payload->'member'->>'email' IS NOT NULL`).Scan(&kept)
	if leaks != 0 || kept != 1 {
		t.Fatalf("after erasure: %d rows still name the member; %d other members' rows keep their e-mail (want 1)", leaks, kept)
	}
}

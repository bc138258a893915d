package crm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

type purchaseFigures struct {
	Purchases     int
	PurchaseTotal float64
	Events        int
	Stored        int
}

// figures reads what an import moves for one member: the profile counters, the
// shop.purchase events and the stored purchases.
func figures(t *testing.T, e *testenv.AppEnv, member int64) purchaseFigures {
	t.Helper()
	var f purchaseFigures
	e.DB.Raw(`SELECT coalesce((SELECT purchases FROM crm_profiles WHERE member_id = @m), 0) AS purchases,
	                 coalesce((SELECT purchase_total FROM crm_profiles WHERE member_id = @m), 0) AS purchase_total,
	                 (SELECT count(*) FROM crm_events WHERE member_id = @m AND kind = 'shop.purchase') AS events,
	                 (SELECT count(*) FROM crm_purchases WHERE member_id = @m) AS stored`,
		map[string]any{"m": member}).Scan(&f)
	return f
}

func TestImportPurchasesPermissions(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	rows := []map[string]any{{"external_id": "perm-1", "email": "bob@demo.hearth.local", "amount": 10, "occurred_at": "2025-01-05"}}
	for _, c := range []struct {
		email string
		want  int
	}{
		{"", 401}, {"alice@demo.hearth.local", 403}, {"moderator@demo.hearth.local", 403}, {"partner@demo.hearth.local", 403},
		{"marketer@demo.hearth.local", 200}, {"admin@demo.hearth.local", 200},
	} {
		tok := ""
		if c.email != "" {
			tok, _ = e.Login(t, c.email, demo.Password)
		}
		for _, path := range []string{"/api/v1/crm/purchases", "/api/v1/crm/attributes"} {
			body := any(rows)
			if strings.HasSuffix(path, "attributes") {
				body = []map[string]any{{"email": "bob@demo.hearth.local", "attributes": map[string]any{"tier": "gold"}}}
			}
			if r := e.API(t, http.MethodPost, path, body, tok); r.Status != c.want {
				t.Errorf("%s as %q: %d, want %d (%s)", path, c.email, r.Status, c.want, r.Body)
			}
		}
	}
}

// TestImportPurchasesCountsOnce: a batch is written with its events (the profile's
// purchase total moves), a repeat within the batch and a second import of the same
// batch are skipped and reported, never counted twice.
func TestImportPurchasesCountsOnce(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	bob, alice := userID(t, e, "bob@demo.hearth.local"), userID(t, e, "alice@demo.hearth.local")
	beforeBob, beforeAlice := figures(t, e, bob), figures(t, e, alice)
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	// recent, so that the 365-day monetary value sees them
	at := time.Now().UTC().AddDate(0, 0, -10).Truncate(time.Second)
	day := func(d int) string { return at.AddDate(0, 0, d).Format("2006-01-02") }
	batch := []map[string]any{
		{"external_id": "ord-1", "email": "BOB@demo.hearth.local", "amount": 120.5, "currency": "usd", "occurred_at": at.Format(time.RFC3339), "source": "shopify"},
		{"external_id": "ord-2", "email": "alice@demo.hearth.local", "amount": "30", "occurred_at": day(1)},
		{"external_id": "ord-1", "email": "bob@demo.hearth.local", "amount": 120.5, "occurred_at": at.Format(time.RFC3339)},
		{"external_id": "ord-3", "email": "bob@demo.hearth.local", "amount": 9.99, "occurred_at": day(2) + " 18:00:00"},
	}
	r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", batch, mk)
	if r.Status != 200 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	res := r.JSON(t)
	skipped := res["skipped"].([]any)
	if res["imported"].(float64) != 3 || res["rows"].(float64) != 4 || len(skipped) != 1 ||
		skipped[0].(map[string]any)["row"].(float64) != 2 || skipped[0].(map[string]any)["reason"] != crm.SkipDuplicateInBatch {
		t.Fatalf("result: %s", r.Body)
	}
	fb, fa := figures(t, e, bob), figures(t, e, alice)
	if fb.Purchases-beforeBob.Purchases != 2 || fb.Events-beforeBob.Events != 2 || fb.Stored-beforeBob.Stored != 2 ||
		fmt.Sprintf("%.2f", fb.PurchaseTotal-beforeBob.PurchaseTotal) != "130.49" {
		t.Fatalf("bob: before %+v after %+v", beforeBob, fb)
	}
	if fa.Purchases-beforeAlice.Purchases != 1 || fmt.Sprintf("%.2f", fa.PurchaseTotal-beforeAlice.PurchaseTotal) != "30.00" {
		t.Fatalf("alice: before %+v after %+v", beforeAlice, fa)
	}
	var stored struct {
		Currency   string
		Source     string
		OccurredAt time.Time
	}
	e.DB.Raw(`SELECT currency, source, occurred_at FROM crm_purchases WHERE external_id = 'ord-1'`).Scan(&stored)
	if stored.Currency != "USD" || stored.Source != "shopify" || !stored.OccurredAt.Equal(at) {
		t.Fatalf("stored: %+v", stored)
	}

	// the same batch again: everything skipped, nothing moves
	r = e.API(t, http.MethodPost, "/api/v1/crm/purchases", batch, mk)
	res = r.JSON(t)
	if r.Status != 200 || res["imported"].(float64) != 0 || len(res["skipped"].([]any)) != 4 {
		t.Fatalf("second import: %d %s", r.Status, r.Body)
	}
	for _, s := range res["skipped"].([]any) {
		if s.(map[string]any)["reason"] != crm.SkipAlreadyImported {
			t.Fatalf("second import skip reason: %s", r.Body)
		}
	}
	if again := figures(t, e, bob); again != fb {
		t.Fatalf("double counted: %+v then %+v", fb, again)
	}
	// the profile refresh sees the purchases too (monetary value over 365 days)
	if err := e.CRM.RefreshMember(context.Background(), bob); err != nil {
		t.Fatal(err)
	}
	var monetary float64
	e.DB.Raw(`SELECT monetary_365d FROM crm_profiles WHERE member_id = ?`, bob).Scan(&monetary)
	if monetary < 130.49 {
		t.Fatalf("monetary_365d %.2f after importing 130.49", monetary)
	}
}

// TestImportPurchasesAllOrNothing: one bad row and nothing is written; the answer
// names every problem by row and field.
func TestImportPurchasesAllOrNothing(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	future := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	batch := []map[string]any{
		{"external_id": "ok-1", "email": "bob@demo.hearth.local", "amount": 5, "occurred_at": "2025-01-01"},
		{"external_id": "x-1", "email": "nobody@example.com", "amount": 5, "occurred_at": "2025-01-01"},
		{"external_id": "x-2", "email": "bob@demo.hearth.local", "amount": "abc", "occurred_at": "2025-01-01"},
		{"external_id": "x-3", "email": "bob@demo.hearth.local", "amount": -1, "occurred_at": future},
		{"external_id": "x-4", "amount": 1, "occurred_at": "2025-01-01"},
		{"external_id": "x-5", "email": "bob@demo.hearth.local", "amount": 1, "occurred_at": "2025-01-01", "colour": "red"},
		{"external_id": "x-6", "email": "bob@demo.hearth.local", "amount": 1.005, "currency": "dollars", "occurred_at": "yesterday"},
		{"email": "bob@demo.hearth.local", "amount": 1, "occurred_at": "2025-01-01", "source": map[string]any{"a": 1}},
		{"external_id": "x-8", "member_external_id": "NO-SUCH", "amount": 1, "occurred_at": "2025-01-01"},
	}
	var before int64
	e.DB.Raw(`SELECT count(*) FROM crm_purchases`).Scan(&before)
	r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", batch, mk)
	if r.Status != 422 || r.ErrorCode(t) != "invalid" {
		t.Fatalf("bad batch: %d %s", r.Status, r.Body)
	}
	fields := r.Fields(t)
	want := map[string]string{
		"rows[1].email":              "No member matches this.",
		"rows[2].amount":             "Not a valid amount (for example 19.99).",
		"rows[3].amount":             "The amount cannot be negative.",
		"rows[3].occurred_at":        "This date is in the future.",
		"rows[4].email":              "Give the member's e-mail address or external id.",
		"rows[5].colour":             "Unknown field.",
		"rows[6].amount":             "At most two decimal places.",
		"rows[6].currency":           "Use a three-letter currency code (for example USD or CNY).",
		"rows[6].occurred_at":        "Not a valid date and time (use 2026-03-01T14:30:00Z or 2026-03-01).",
		"rows[7].external_id":        "This field is required.",
		"rows[7].source":             "Must be text, a number or true/false.",
		"rows[8].member_external_id": "No member matches this.",
	}
	for f, msg := range want {
		got, ok := fields[f]
		if !ok {
			t.Errorf("no problem reported for %s", f)
		} else if f != "rows[7].external_id" && got != msg {
			t.Errorf("%s: %q, want %q", f, got, msg)
		}
	}
	if len(fields) != len(want) {
		t.Errorf("fields: %v", fields)
	}
	var after int64
	e.DB.Raw(`SELECT count(*) FROM crm_purchases`).Scan(&after)
	if after != before {
		t.Fatalf("a rejected batch wrote %d purchases", after-before)
	}
	// translated problems
	req := jsonRequest(t, http.MethodPost, "/api/v1/crm/purchases", batch[:2], mk)
	req.Header.Set("Accept-Language", "zh-CN")
	if zr := e.Do(t, req); !strings.Contains(string(zr.Body), "没有与之匹配的会员") {
		t.Fatalf("zh problems: %s", zr.Body)
	}
	// batch limits and malformed bodies
	big := make([]map[string]any, crm.MaxBatch+1)
	for i := range big {
		big[i] = map[string]any{"external_id": fmt.Sprint("big-", i), "email": "bob@demo.hearth.local", "amount": 1, "occurred_at": "2025-01-01"}
	}
	if r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", big, mk); r.Status != 422 || r.Fields(t)["rows"] == "" {
		t.Fatalf("oversized batch: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", []any{}, mk); r.Status != 422 || r.Fields(t)["rows"] == "" {
		t.Fatalf("empty batch: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", map[string]any{"external_id": "x"}, mk); r.Status != 422 {
		t.Fatalf("object instead of array: %d %s", r.Status, r.Body)
	}
}

// TestImportAttributes: link an external id by e-mail, merge attributes, match by
// external id, remove with null; a taken external id rejects the whole batch.
func TestImportAttributes(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	bob, alice := userID(t, e, "bob@demo.hearth.local"), userID(t, e, "alice@demo.hearth.local")
	adm, _ := e.Login(t, "admin@demo.hearth.local", demo.Password)
	r := e.API(t, http.MethodPost, "/api/v1/crm/attributes", []map[string]any{
		{"email": "bob@demo.hearth.local", "external_id": "CRM-BOB", "attributes": map[string]any{"tier": "gold", "ltv": 1200.5, "vip": true}},
		{"email": "alice@demo.hearth.local", "external_id": 4711, "attributes": map[string]any{"tier": "silver"}},
	}, adm)
	if r.Status != 200 || r.JSON(t)["imported"].(float64) != 2 {
		t.Fatalf("attributes: %d %s", r.Status, r.Body)
	}
	r = e.API(t, http.MethodPost, "/api/v1/crm/attributes", []map[string]any{
		{"external_id": "CRM-BOB", "attributes": map[string]any{"tier": "platinum", "vip": nil, "big": json.Number("12345678901234567890")}},
	}, adm)
	if r.Status != 200 {
		t.Fatalf("by external id: %d %s", r.Status, r.Body)
	}
	attrs := func(m int64) (ext, js string) {
		e.DB.Raw(`SELECT coalesce(external_id, ''), attributes::text FROM crm_profiles WHERE member_id = ?`, m).Row().Scan(&ext, &js)
		return
	}
	if ext, js := attrs(bob); ext != "CRM-BOB" || js != `{"big": 12345678901234567890, "ltv": 1200.5, "tier": "platinum"}` {
		t.Fatalf("bob: %s %s", ext, js)
	}
	if ext, _ := attrs(alice); ext != "4711" {
		t.Fatalf("alice's numeric external id: %q", ext)
	}
	// purchases can now name bob by his external id
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	if r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", []map[string]any{
		{"external_id": "by-ext", "member_external_id": "CRM-BOB", "amount": 1, "occurred_at": "2025-01-01"},
		{"external_id": "by-both", "member_external_id": "4711", "email": "bob@demo.hearth.local", "amount": 1, "occurred_at": "2025-01-01"},
	}, mk); r.Status != 422 || r.Fields(t)["rows[1].member_external_id"] == "" || len(r.Fields(t)) != 1 {
		t.Fatalf("mismatched member keys: %d %s", r.Status, r.Body)
	}

	// alice cannot take bob's external id; the valid row is not written either
	_, aliceBefore := attrs(alice)
	r = e.API(t, http.MethodPost, "/api/v1/crm/attributes", []map[string]any{
		{"email": "alice@demo.hearth.local", "attributes": map[string]any{"tier": "bronze"}},
		{"email": "alice@demo.hearth.local", "external_id": "CRM-BOB"},
		{"email": "bob@demo.hearth.local", "attributes": map[string]any{"bad key!": 1, "nested": map[string]any{"a": 1}}},
		{"email": "bob@demo.hearth.local"},
		{"external_id": "NOPE", "attributes": map[string]any{"x": 1}},
	}, adm)
	f := r.Fields(t)
	if r.Status != 422 || f["rows[1].external_id"] != "This external id belongs to another member." || f["rows[2].attributes"] == "" ||
		f["rows[2].attributes.nested"] == "" || f["rows[3].attributes"] == "" || f["rows[4].external_id"] != "No member matches this." {
		t.Fatalf("bad attributes batch: %d %s", r.Status, r.Body)
	}
	if _, js := attrs(alice); js != aliceBefore {
		t.Fatalf("rejected batch changed alice: %s → %s", aliceBefore, js)
	}
}

// TestImportConcurrentlyCountsOnce: the same file imported by many importers at once
// is stored and counted exactly once.
func TestImportConcurrentlyCountsOnce(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	bob := userID(t, e, "bob@demo.hearth.local")
	before := figures(t, e, bob)
	var rows []crm.PurchaseRow
	for i := range 20 {
		rows = append(rows, crm.PurchaseRow{ExternalID: fmt.Sprint("c-", i), Email: "bob@demo.hearth.local", Amount: "2.50",
			OccurredAt: "2025-02-01T10:00:00Z"})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	imported := 0
	for range 8 {
		wg.Go(func() {
			res, err := e.CRM.ImportPurchases(context.Background(), crm.Actor{ID: 1, Role: "marketer"}, rows, crm.ImportOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			imported += res.Imported
			mu.Unlock()
		})
	}
	wg.Wait()
	after := figures(t, e, bob)
	if imported != 20 || after.Purchases-before.Purchases != 20 || after.Events-before.Events != 20 ||
		fmt.Sprintf("%.2f", after.PurchaseTotal-before.PurchaseTotal) != "50.00" {
		t.Fatalf("imported %d; before %+v after %+v", imported, before, after)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	rows := []crm.PurchaseRow{{ExternalID: "dry-1", Email: "bob@demo.hearth.local", Amount: "3", OccurredAt: "2025-01-01"}}
	res, err := e.CRM.ImportPurchases(context.Background(), crm.Operator(), rows, crm.ImportOptions{DryRun: true})
	if err != nil || res.Imported != 1 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	var n int64
	e.DB.Raw(`SELECT count(*) FROM crm_purchases WHERE external_id = 'dry-1'`).Scan(&n)
	if n != 0 {
		t.Fatal("dry run wrote a purchase")
	}
}

// jsonRequest builds an API request for headers API does not set.
func jsonRequest(t *testing.T, method, path string, body any, token string) *http.Request {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

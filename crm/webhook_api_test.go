package crm_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/outbox"
)

// TestWebhookAPI: admins register, list, read logs, re-send and delete; marketers
// only read; members and visitors are refused. The secret never comes back whole.
func TestWebhookAPI(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	rc := newReceiver(t, 1)
	tok := map[string]string{}
	for _, who := range []string{"admin", "marketer", "alice", "moderator"} {
		tok[who], _ = e.Login(t, who+"@demo.hearth.local", demo.Password)
	}
	in := map[string]any{"url": rc.URL + "/in", "secret": hookSecret, "kinds": []string{"shop.purchase", "crm.stage_changed"}}
	for who, want := range map[string]int{"": 401, "alice": 403, "moderator": 403, "marketer": 403} {
		if r := e.API(t, http.MethodPost, "/api/v1/crm/webhooks", in, tok[who]); r.Status != want {
			t.Errorf("register as %q: %d, want %d", who, r.Status, want)
		}
	}
	bad := map[string]any{"url": "file:///etc/passwd", "secret": "short", "kinds": []string{"nope"}}
	if r := e.API(t, http.MethodPost, "/api/v1/crm/webhooks", bad, tok["admin"]); r.Status != 422 ||
		r.Fields(t)["url"] == "" || r.Fields(t)["secret"] == "" || r.Fields(t)["kinds"] == "" {
		t.Fatalf("invalid endpoint: %d %s", r.Status, r.Body)
	}
	r := e.API(t, http.MethodPost, "/api/v1/crm/webhooks", in, tok["admin"])
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	created := r.JSON(t)
	id := int64(created["id"].(float64))
	if created["secret_hint"] != "…"+hookSecret[len(hookSecret)-4:] || strings.Contains(string(r.Body), hookSecret) {
		t.Fatalf("created endpoint shows its secret: %s", r.Body)
	}
	for who, want := range map[string]int{"": 401, "alice": 403, "marketer": 200, "admin": 200} {
		r := e.API(t, http.MethodGet, "/api/v1/crm/webhooks", nil, tok[who])
		if r.Status != want || strings.Contains(string(r.Body), hookSecret) {
			t.Errorf("list as %q: %d, want %d (leaks secret: %v)", who, r.Status, want, strings.Contains(string(r.Body), hookSecret))
		}
	}

	// a purchase import reaches the endpoint through the outbox; the first attempt fails
	mk := tok["marketer"]
	if r := e.API(t, http.MethodPost, "/api/v1/crm/purchases", []map[string]any{
		{"external_id": "wh-1", "email": "bob@demo.hearth.local", "amount": 15, "occurred_at": "2025-02-02"}}, mk); r.Status != 200 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	drain(t, e.DB, webhookWorker(e.DB, outbox.Options{}), 3)
	path := fmt.Sprintf("/api/v1/crm/webhooks/%d/deliveries", id)
	r = e.API(t, http.MethodGet, path, nil, mk)
	if r.Status != 200 {
		t.Fatalf("deliveries: %d %s", r.Status, r.Body)
	}
	ds := r.JSON(t)["deliveries"].([]any)
	if len(ds) != 2 || ds[0].(map[string]any)["delivered_at"] == nil || ds[1].(map[string]any)["delivered_at"] != nil ||
		ds[0].(map[string]any)["payload"].(map[string]any)["value"].(float64) != 15 {
		t.Fatalf("delivery log: %s", r.Body)
	}
	if r := e.API(t, http.MethodGet, path+"?limit=1", nil, mk); r.JSON(t)["next"].(float64) == 0 || len(r.JSON(t)["deliveries"].([]any)) != 1 {
		t.Fatalf("first page: %s", r.Body)
	}
	if r := e.API(t, http.MethodGet, path, nil, tok["alice"]); r.Status != 403 {
		t.Fatalf("member reads deliveries: %d", r.Status)
	}
	if r := e.API(t, http.MethodGet, "/api/v1/crm/webhooks/999999/deliveries", nil, mk); r.Status != 404 {
		t.Fatalf("deliveries of no endpoint: %d", r.Status)
	}
	failed := int64(ds[1].(map[string]any)["id"].(float64))
	resend := fmt.Sprintf("/api/v1/crm/webhooks/%d/deliveries/%d/resend", id, failed)
	if r := e.API(t, http.MethodPost, resend, nil, mk); r.Status != 403 {
		t.Fatalf("marketer re-sends: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/crm/webhooks/%d/deliveries/%d/resend", id+1, failed), nil, tok["admin"]); r.Status != 404 {
		t.Fatalf("re-send through another endpoint: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, resend, nil, tok["admin"]); r.Status != 202 {
		t.Fatalf("re-send: %d %s", r.Status, r.Body)
	}
	drain(t, e.DB, webhookWorker(e.DB, outbox.Options{}), 1)
	if n := len(rc.requests()); n != 3 {
		t.Fatalf("%d requests after re-send, want 3", n)
	}

	if r := e.API(t, http.MethodDelete, fmt.Sprintf("/api/v1/crm/webhooks/%d", id), nil, mk); r.Status != 403 {
		t.Fatalf("marketer deletes: %d", r.Status)
	}
	if r := e.API(t, http.MethodDelete, fmt.Sprintf("/api/v1/crm/webhooks/%d", id), nil, tok["admin"]); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodDelete, fmt.Sprintf("/api/v1/crm/webhooks/%d", id), nil, tok["admin"]); r.Status != 404 {
		t.Fatalf("delete again: %d", r.Status)
	}
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestWebhookAdminPage: the page works without JavaScript in both languages: an
// admin adds an endpoint with the form (CSRF required), sees its delivery log and
// re-sends a delivery; marketers see the page without the forms; members get 403.
func TestWebhookAdminPage(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	rc := newReceiver(t, 1)
	login := func(who string) []*http.Cookie {
		tok, _ := e.Login(t, who+"@demo.hearth.local", demo.Password)
		return []*http.Cookie{{Name: auth.AccessCookie, Value: tok}}
	}
	admin := login("admin")
	page := e.Page(t, "/admin/webhooks", admin...)
	m := csrfInput.FindSubmatch(page.Body)
	if page.Status != 200 || m == nil || page.Cookies["hearth_csrf"] == nil || !strings.Contains(string(page.Body), `action="/admin/webhooks"`) {
		t.Fatalf("admin page: %d", page.Status)
	}
	csrf := page.Cookies["hearth_csrf"]
	cookies := append(admin, csrf)
	form := url.Values{"url": {rc.URL + "/page"}, "secret": {hookSecret}, "kinds": {"shop.purchase", "crm.stage_changed"}}
	if r := e.Form(t, "/admin/webhooks", form, cookies...); r.Status != 403 {
		t.Fatalf("form without CSRF token: %d", r.Status)
	}
	bad := url.Values{"_csrf": {string(m[1])}, "url": {"gopher://x"}, "secret": {"short"}}
	if r := e.Form(t, "/admin/webhooks", bad, cookies...); r.Status != 422 ||
		!strings.Contains(string(r.Body), "Enter an http:// or https:// address.") || !strings.Contains(string(r.Body), "at least 16 characters") {
		t.Fatalf("invalid form: %d", r.Status)
	}
	form.Set("_csrf", string(m[1]))
	if r := e.Form(t, "/admin/webhooks", form, cookies...); r.Status != 303 {
		t.Fatalf("add endpoint: %d %s", r.Status, r.Body)
	}
	list, err := e.CRM.Webhooks(context.Background(), crm.Actor{ID: 1, Role: "admin"})
	if err != nil || len(list) != 1 || len(list[0].Kinds) != 2 {
		t.Fatalf("endpoints after the form: %+v %v", list, err)
	}
	// one failing delivery to show in the log
	if _, err := e.CRM.ImportPurchases(context.Background(), crm.Operator(), []crm.PurchaseRow{
		{ExternalID: "page-1", Email: "alice@demo.hearth.local", Amount: "7", OccurredAt: "2025-02-03"}}, crm.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	drain(t, e.DB, outbox.NewWorker(e.DB, "", map[string]outbox.Handler{crm.TopicWebhook: crm.NewWebhookSender(e.DB, nil, slog.New(slog.DiscardHandler)).Handle},
		outbox.Options{MaxAttempts: 1, Logger: slog.New(slog.DiscardHandler)}), 1)
	page = e.Page(t, "/admin/webhooks", cookies...)
	body := string(page.Body)
	var failed int64
	e.DB.Raw(`SELECT id FROM crm_webhook_deliveries`).Scan(&failed)
	resend := fmt.Sprintf("/admin/webhooks/%d/deliveries/%d/resend", list[0].ID, failed)
	if !strings.Contains(body, rc.URL+"/page") || !strings.Contains(body, "HTTP 500") || !strings.Contains(body, `action="`+resend+`"`) ||
		strings.Contains(body, hookSecret) || !strings.Contains(body, "…"+hookSecret[len(hookSecret)-4:]) {
		t.Fatalf("page after a failed delivery lacks the log, the re-send form or hides the secret badly:\n%s", body)
	}
	if r := e.Form(t, resend, url.Values{"_csrf": {string(m[1])}}, cookies...); r.Status != 303 {
		t.Fatalf("re-send button: %d", r.Status)
	}
	drain(t, e.DB, webhookWorker(e.DB, outbox.Options{}), 1)
	if got := rc.requests(); len(got) != 2 || got[1].status != 200 {
		t.Fatalf("re-sent delivery: %d requests", len(got))
	}

	// Chinese
	req, _ := http.NewRequest(http.MethodGet, "/admin/webhooks", nil)
	req.Header.Set("Accept-Language", "zh-CN")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if zh := e.Do(t, req); zh.Status != 200 || !strings.Contains(string(zh.Body), "投递日志") || !strings.Contains(string(zh.Body), "重新发送") {
		t.Fatalf("zh page: %d", zh.Status)
	}
	// marketers read, without forms; members are refused
	mp := e.Page(t, "/admin/webhooks", login("marketer")...)
	if mp.Status != 200 || strings.Contains(string(mp.Body), `action="/admin/webhooks"`) || strings.Contains(string(mp.Body), "/resend") ||
		!strings.Contains(string(mp.Body), "Only admins") {
		t.Fatalf("marketer page: %d", mp.Status)
	}
	if r := e.Page(t, "/admin/webhooks", login("alice")...); r.Status != 403 {
		t.Fatalf("member page: %d", r.Status)
	}
	mkCookies := append(login("marketer"), csrf)
	if r := e.Form(t, "/admin/webhooks", form, mkCookies...); r.Status != 403 {
		t.Fatalf("marketer posts the form: %d", r.Status)
	}
	del := fmt.Sprintf("/admin/webhooks/%d/delete", list[0].ID)
	if r := e.Form(t, del, url.Values{"_csrf": {string(m[1])}}, cookies...); r.Status != 303 {
		t.Fatalf("delete: %d", r.Status)
	}
	if list, _ := e.CRM.Webhooks(context.Background(), crm.Actor{ID: 1, Role: "admin"}); len(list) != 0 {
		t.Fatal("endpoint not deleted")
	}
}

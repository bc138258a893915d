package crm_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

// TestSegmentAPIRoles: only marketers and admins reach the segment API.
func TestSegmentAPIRoles(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	body := map[string]any{"rule": map[string]any{"all": []any{}}}
	cases := []struct {
		email string
		want  int
	}{
		{"", 401}, {"alice@demo.hearth.local", 403}, {"moderator@demo.hearth.local", 403},
		{"partner@demo.hearth.local", 403}, {"marketer@demo.hearth.local", 200}, {"admin@demo.hearth.local", 200},
	}
	for _, c := range cases {
		tok := ""
		if c.email != "" {
			tok, _ = e.Login(t, c.email, demo.Password)
		}
		for _, r := range []struct{ method, path string }{
			{http.MethodPost, "/api/v1/crm/segments/preview"}, {http.MethodGet, "/api/v1/crm/segments"},
			{http.MethodGet, "/api/v1/crm/dashboard"},
		} {
			var b any
			if r.method == http.MethodPost {
				b = body
			}
			if got := e.API(t, r.method, r.path, b, tok); got.Status != c.want {
				t.Errorf("%q %s %s: %d, want %d", c.email, r.method, r.path, got.Status, c.want)
			}
		}
		if c.want != 200 {
			for _, r := range []struct{ method, path string }{
				{http.MethodPost, "/api/v1/crm/segments"}, {http.MethodGet, "/api/v1/crm/segments/1"},
				{http.MethodPut, "/api/v1/crm/segments/1"}, {http.MethodDelete, "/api/v1/crm/segments/1"},
				{http.MethodGet, "/api/v1/crm/segments/1/members"},
			} {
				if got := e.API(t, r.method, r.path, map[string]any{"name": "x", "rule": map[string]any{"all": []any{}}}, tok); got.Status != c.want {
					t.Errorf("%q %s %s: %d, want %d", c.email, r.method, r.path, got.Status, c.want)
				}
			}
			page := e.Page(t, "/crm/segments", cookie(t, e, c.email))
			if (c.email == "" && page.Status != 303) || (c.email != "" && page.Status != 403) {
				t.Errorf("%q /crm/segments page: %d", c.email, page.Status)
			}
		}
	}
}

func cookie(t *testing.T, e *testenv.AppEnv, email string) *http.Cookie {
	t.Helper()
	if email == "" {
		return &http.Cookie{Name: "none", Value: "x"}
	}
	tok, _ := e.Login(t, email, demo.Password)
	return &http.Cookie{Name: "hearth_access", Value: tok}
}

// TestSegmentAPILifecycle: preview, save, read with a live count, page through the
// members, rename, refuse a duplicate name and a bad rule (naming the condition),
// delete.
func TestSegmentAPILifecycle(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	members := map[string]any{"all": []any{map[string]any{"field": "role", "op": "eq", "value": "member"}}}

	pv := e.API(t, http.MethodPost, "/api/v1/crm/segments/preview", map[string]any{"rule": members}, mk)
	if pv.Status != 200 || pv.JSON(t)["count"] != 4.0 || len(pv.JSON(t)["sample"].([]any)) != 4 {
		t.Fatalf("preview: %d %s", pv.Status, pv.Body)
	}
	s := pv.JSON(t)["sample"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "name", "handle", "stage", "churn_risk", "clv"} {
		if _, ok := s[k]; !ok {
			t.Errorf("sample member lacks %s: %v", k, s)
		}
	}

	// a bad rule: 422, the message names the third condition's field
	bad := map[string]any{"all": []any{
		map[string]any{"field": "stage", "op": "eq", "value": "growth"},
		map[string]any{"field": "churn_risk", "op": "gte", "value": 10},
		map[string]any{"field": "password_hash", "op": "eq", "value": "x"},
	}}
	r := e.API(t, http.MethodPost, "/api/v1/crm/segments/preview", map[string]any{"rule": bad}, mk)
	if f := r.Fields(t); r.Status != 422 || !strings.Contains(f["rule.all[2].field"], "Unknown field") {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}
	bad["all"].([]any)[2] = map[string]any{"field": "stage", "op": "matches", "value": "x"}
	r = e.API(t, http.MethodPost, "/api/v1/crm/segments/preview", map[string]any{"rule": bad}, mk)
	if r.Status != 422 || r.Fields(t)["rule.all[2].op"] == "" {
		t.Fatalf("unknown op: %d %s", r.Status, r.Body)
	}
	// and in Chinese
	req := mustReq(t, http.MethodPost, "/api/v1/crm/segments/preview", `{"rule":{"any":[{"field":"nope","op":"eq","value":1}]}}`, mk)
	req.Header.Set("Accept-Language", "zh-CN")
	if r := e.Do(t, req); r.Status != 422 || !strings.Contains(r.Fields(t)["rule.any[0].field"], "未知字段") {
		t.Fatalf("zh: %d %s", r.Status, r.Body)
	}

	c := e.API(t, http.MethodPost, "/api/v1/crm/segments", map[string]any{"name": "Customers", "description": "every member", "rule": members}, mk)
	if c.Status != 201 || c.JSON(t)["member_count"] != 4.0 {
		t.Fatalf("create: %d %s", c.Status, c.Body)
	}
	id := strconv.Itoa(int(c.JSON(t)["id"].(float64)))
	if d := e.API(t, http.MethodPost, "/api/v1/crm/segments", map[string]any{"name": "customers", "rule": members}, mk); d.Status != 409 {
		t.Fatalf("duplicate name: %d %s", d.Status, d.Body)
	}
	if d := e.API(t, http.MethodPost, "/api/v1/crm/segments", map[string]any{"name": " ", "rule": bad}, mk); d.Status != 422 ||
		d.Fields(t)["name"] == "" || d.Fields(t)["rule.all[2].op"] == "" {
		t.Fatalf("empty name and bad rule: %d %s", d.Status, d.Body)
	}
	g := e.API(t, http.MethodGet, "/api/v1/crm/segments/"+id, nil, mk)
	if g.Status != 200 || g.JSON(t)["member_count"] != 4.0 || !strings.Contains(string(g.Body), `"rule":{"all":[{"field":"role","op":"eq","value":"member"}]}`) {
		t.Fatalf("get: %d %s", g.Status, g.Body)
	}
	if l := e.API(t, http.MethodGet, "/api/v1/crm/segments", nil, mk); l.Status != 200 || len(l.JSON(t)["segments"].([]any)) != 1 {
		t.Fatalf("list: %d %s", l.Status, l.Body)
	}

	// keyset pages of 3: every member once, in id order
	var seen []float64
	after := "0"
	for page := 0; page < 5; page++ {
		m := e.API(t, http.MethodGet, "/api/v1/crm/segments/"+id+"/members?limit=3&after="+after, nil, mk)
		if m.Status != 200 {
			t.Fatalf("members: %d %s", m.Status, m.Body)
		}
		for _, x := range m.JSON(t)["members"].([]any) {
			seen = append(seen, x.(map[string]any)["id"].(float64))
		}
		next := m.JSON(t)["next"]
		if next == nil {
			break
		}
		after = strconv.Itoa(int(next.(float64)))
	}
	if len(seen) != 4 || !(seen[0] < seen[1] && seen[1] < seen[2] && seen[2] < seen[3]) {
		t.Fatalf("members paged: %v", seen)
	}
	if m := e.API(t, http.MethodGet, "/api/v1/crm/segments/"+id+"/members?limit=501", nil, mk); m.Status != 422 {
		t.Fatalf("limit 501: %d", m.Status)
	}

	u := e.API(t, http.MethodPut, "/api/v1/crm/segments/"+id, map[string]any{"name": "Staff", "rule": map[string]any{"all": []any{
		map[string]any{"field": "role", "op": "in", "value": []string{"admin", "marketer", "moderator"}}}}}, mk)
	if u.Status != 200 || u.JSON(t)["name"] != "Staff" {
		t.Fatalf("update: %d %s", u.Status, u.Body)
	}
	if d := e.API(t, http.MethodDelete, "/api/v1/crm/segments/"+id, nil, mk); d.Status != 204 {
		t.Fatalf("delete: %d", d.Status)
	}
	for _, r := range []*testenv.Response{
		e.API(t, http.MethodGet, "/api/v1/crm/segments/"+id, nil, mk),
		e.API(t, http.MethodDelete, "/api/v1/crm/segments/"+id, nil, mk),
		e.API(t, http.MethodGet, "/api/v1/crm/segments/"+id+"/members", nil, mk),
		e.API(t, http.MethodPut, "/api/v1/crm/segments/"+id, map[string]any{"name": "x", "rule": members}, mk),
		e.API(t, http.MethodGet, "/api/v1/crm/segments/abc", nil, mk),
	} {
		if r.Status != 404 {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
	}
}

func mustReq(t *testing.T, method, path, body, tok string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}

// pageSession is a marketer's browser session: access cookie plus CSRF cookie/token.
func pageSession(t *testing.T, e *testenv.AppEnv, email string) []*http.Cookie {
	t.Helper()
	tok, _ := e.Login(t, email, demo.Password)
	return []*http.Cookie{{Name: "hearth_access", Value: tok}, {Name: "hearth_csrf", Value: strings.Repeat("c", 43)}}
}

// TestSegmentPageWithoutJavaScript: the rule builder works with plain form posts:
// preview shows the count and sample, a bad row gets its own message, "add a
// condition" adds a row, save stores the segment and lists it with its count.
func TestSegmentPageWithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	ck := pageSession(t, e, "marketer@demo.hearth.local")
	form := func(kv ...string) url.Values {
		v := url.Values{"_csrf": {strings.Repeat("c", 43)}, "match": {"all"}, "rows": {"3"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	p := e.Page(t, "/crm/segments", ck...)
	if p.Status != 200 || !strings.Contains(string(p.Body), `name="field_2"`) || !strings.Contains(string(p.Body), `value="interests"`) {
		t.Fatalf("builder: %d", p.Status)
	}
	r := e.Form(t, "/crm/segments", form("action", "preview", "field_0", "role", "op_0", "eq", "value_0", "member",
		"field_1", "interests", "op_1", "contains_any", "value_1", "x200, app"), ck...)
	body := string(r.Body)
	if r.Status != 200 || !strings.Contains(body, "members match") || !strings.Contains(body, "/crm/members/") {
		t.Fatalf("preview: %d %s", r.Status, excerpt(body, "seg-count"))
	}
	r = e.Form(t, "/crm/segments", form("action", "preview", "field_0", "role", "op_0", "eq", "value_0", "member",
		"field_2", "churn_risk", "op_2", "gte", "value_2", "lots"), ck...)
	body = string(r.Body)
	if r.Status != 422 || !strings.Contains(body, `id="value_2-error">Give a number.`) || strings.Contains(body, `id="value_0-error"`) {
		t.Fatalf("bad row: %d %s", r.Status, excerpt(body, "value_2"))
	}
	r = e.Form(t, "/crm/segments", form("action", "add_row", "field_0", "stage", "op_0", "eq", "value_0", "growth"), ck...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `name="field_3"`) || !strings.Contains(string(r.Body), `name="rows" value="4"`) {
		t.Fatalf("add row: %d", r.Status)
	}
	r = e.Form(t, "/crm/segments", form("action", "as_json", "match", "any", "field_0", "stage", "op_0", "eq", "value_0", "growth"), ck...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `name="rule_json"`) || !strings.Contains(string(r.Body), "&#34;any&#34;") {
		t.Fatalf("as json: %d %s", r.Status, excerpt(string(r.Body), "rule_json"))
	}
	r = e.Form(t, "/crm/segments", form("action", "save", "name", "Members who like the X200", "field_0", "role", "op_0", "eq",
		"value_0", "member", "field_1", "interests", "op_1", "contains", "value_1", "x200"), ck...)
	loc := r.Header.Get("Location")
	if r.Status != 303 || !strings.HasPrefix(loc, "/crm/segments/") {
		t.Fatalf("save: %d %s", r.Status, excerpt(string(r.Body), "form-error"))
	}
	p = e.Page(t, loc, ck...)
	body = string(p.Body)
	if p.Status != 200 || !strings.Contains(body, "Members who like the X200") || !strings.Contains(body, `<option value="interests" data-ops="contains contains_any" selected>`) ||
		!strings.Contains(body, `value="x200"`) || !strings.Contains(body, "members match") {
		t.Fatalf("saved segment page: %d %s", p.Status, excerpt(body, "seg-count"))
	}
	// the JSON editor saves nested rules
	r = e.Form(t, "/crm/segments", url.Values{"_csrf": {strings.Repeat("c", 43)}, "action": {"save"}, "name": {"Nested"}, "mode": {"json"},
		"rule_json": {`{"all":[{"field":"role","op":"eq","value":"member"},{"any":[{"field":"stage","op":"eq","value":"stable"},{"field":"interests","op":"contains","value":["x200"]}]}]}`}}, ck...)
	if r.Status != 303 {
		t.Fatalf("save nested: %d %s", r.Status, excerpt(string(r.Body), "form-error"))
	}
	p = e.Page(t, r.Header.Get("Location"), ck...)
	if !strings.Contains(string(p.Body), `name="rule_json"`) || !strings.Contains(string(p.Body), "Nested") {
		t.Fatalf("nested rule not shown as JSON")
	}
	r = e.Form(t, loc, url.Values{"_csrf": {strings.Repeat("c", 43)}, "action": {"preview"}, "mode": {"json"}, "rule_json": {`{"all":[`}}, ck...)
	if r.Status != 422 || !strings.Contains(string(r.Body), "not valid JSON") {
		t.Fatalf("broken JSON: %d", r.Status)
	}
	// the live count endpoint the optional script uses
	r = e.Form(t, "/crm/segments/count", form("field_0", "role", "op_0", "eq", "value_0", "member"), ck...)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"count":4}` {
		t.Fatalf("count: %d %s", r.Status, r.Body)
	}
	// delete from the page
	r = e.Form(t, loc+"/delete", url.Values{"_csrf": {strings.Repeat("c", 43)}}, ck...)
	if r.Status != 303 || r.Header.Get("Location") != "/crm/segments" {
		t.Fatalf("delete: %d", r.Status)
	}
	p = e.Page(t, "/crm/segments", ck...)
	if strings.Contains(string(p.Body), "Members who like the X200") || !strings.Contains(string(p.Body), "Nested") {
		t.Fatal("list after delete")
	}
	// without the CSRF token nothing is saved
	v := form("action", "save", "name", "Sneaky", "field_0", "role", "op_0", "eq", "value_0", "member")
	v.Del("_csrf")
	if r := e.Form(t, "/crm/segments", v, ck...); r.Status != 403 {
		t.Fatalf("no csrf: %d", r.Status)
	}
	// in Chinese
	zh := e.Page(t, "/crm/segments", append(ck, &http.Cookie{Name: "hearth_lang", Value: "zh-Hans"})...)
	if !strings.Contains(string(zh.Body), "生命周期阶段") || !strings.Contains(string(zh.Body), "已保存的分群") {
		t.Fatal("segments page not in Chinese")
	}
}

// excerpt shows the part of a page around marker, for failure messages.
func excerpt(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return fmt.Sprintf("(%q not found; %d bytes)", marker, len(body))
	}
	return body[max(0, i-300):min(len(body), i+500)]
}

package app_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/testenv"
	"github.com/hearth-community/hearth/static"
)

// TestOpenAPIMatchesRoutes fails when a registered /api/v1 route is missing from
// static/openapi.json, or the document lists a route that does not exist.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	registered := map[string]bool{}
	for _, r := range e.Server.App.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead {
			continue
		}
		registered[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	raw, err := static.FS.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not OpenAPI 3: %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	var missing, extra []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("OpenAPI out of step with the routes:\n  registered but undocumented: %v\n  documented but not registered: %v", missing, extra)
	}
	if len(registered) < 8 {
		t.Fatalf("only %d API routes found; route listing broken?", len(registered))
	}
	if r := e.API(t, http.MethodGet, "/api/v1/openapi.json", nil, ""); r.Status != 200 || r.JSON(t)["paths"] == nil {
		t.Fatalf("serving openapi.json: %d", r.Status)
	}
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	r := e.API(t, http.MethodGet, "/api/v1/no-such-thing", nil, "")
	if r.Status != 404 || r.ErrorCode(t) != "not_found" || r.JSON(t)["error"].(map[string]any)["message"] == "" {
		t.Fatalf("API 404: %d %s", r.Status, r.Body)
	}
	p := e.Page(t, "/no-such-page")
	if p.Status != 404 || !strings.Contains(string(p.Body), "We could not find that page") || !strings.Contains(string(p.Body), "<html") {
		t.Fatalf("HTML 404: %d %s", p.Status, p.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, "/no-such-page", nil)
	req.Header.Set("Accept-Language", "zh-CN")
	if r := e.Do(t, req); !strings.Contains(string(r.Body), "找不到该页面") {
		t.Fatal("404 page not translated")
	}
	// a database failure is a generic 500: no SQL, no driver text
	sqlDB, _ := e.DB.DB()
	sqlDB.Close()
	r = e.API(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": "a@example.com", "password": "whatever-123"}, "")
	if r.Status != 500 || r.ErrorCode(t) != "internal" {
		t.Fatalf("db down: %d %s", r.Status, r.Body)
	}
	for _, leak := range []string{"sql", "SQL", "database", "closed", "pq:", "pgx"} {
		if strings.Contains(string(r.Body), leak) {
			t.Fatalf("500 leaks %q: %s", leak, r.Body)
		}
	}
	if r := e.Do(t, mustReq("/readyz")); r.Status != 503 {
		t.Fatalf("/readyz with the database closed: %d", r.Status)
	}
}

func mustReq(path string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, path, nil)
	return r
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.Do(t, mustReq(p)); r.Status != 200 {
			t.Fatalf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	e.Page(t, "/")
	m := e.Do(t, mustReq("/metrics"))
	for _, want := range []string{"# TYPE hearth_http_requests_total counter", `route="/"`, "go_goroutines"} {
		if !strings.Contains(string(m.Body), want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}
	if r := e.Page(t, "/"); r.Header.Get("X-Request-Id") == "" || r.Header.Get("Content-Security-Policy") == "" ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("missing request id or security headers: %v", r.Header)
	}
	if r := e.Do(t, mustReq("/static/css/hearth.css")); r.Status != 200 {
		t.Fatalf("css: %d", r.Status)
	}
	for _, p := range []string{"/static/../openapi.json", "/static/i18n/active.en.json", "/static/templates/layout.html"} {
		if r := e.Do(t, mustReq(p)); r.Status == 200 {
			t.Fatalf("%s is served", p)
		}
	}
}

func TestCategoriesVisibleByRole(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	if err := seed(t, e); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		email     string
		seesStaff bool
	}{
		{"", false},
		{"alice@demo.hearth.local", false},
		{"partner@demo.hearth.local", false},
		{"moderator@demo.hearth.local", true},
		{"marketer@demo.hearth.local", true},
		{"admin@demo.hearth.local", true},
	}
	for _, c := range cases {
		tok := ""
		if c.email != "" {
			tok, _ = e.Login(t, c.email, "hearth-demo-2026")
		}
		r := e.API(t, http.MethodGet, "/api/v1/categories", nil, tok)
		sees := strings.Contains(string(r.Body), `"staff"`)
		if r.Status != 200 || sees != c.seesStaff || !strings.Contains(string(r.Body), `"questions"`) {
			t.Errorf("%q: status %d, sees staff room %v, want %v", c.email, r.Status, sees, c.seesStaff)
		}
	}
	if p := e.Page(t, "/"); strings.Contains(string(p.Body), "Staff Room") {
		t.Error("visitors see the staff room on the home page")
	}
}

package crm_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

func demoApp(t *testing.T) *testenv.AppEnv {
	t.Helper()
	e := testenv.NewApp(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, e.Auth, e.Forums, e.Partners, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedContent(ctx, e.Auth, e.Forum); err != nil {
		t.Fatal(err)
	}
	if err := e.CRM.RefreshAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func userID(t *testing.T, e *testenv.AppEnv, email string) int64 {
	u, err := e.Auth.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestMember360Permissions(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	bob := userID(t, e, "bob@demo.hearth.local")
	path := "/api/v1/crm/members/" + strconv.FormatInt(bob, 10)
	cases := []struct {
		email string
		want  int
	}{
		{"", 401}, {"alice@demo.hearth.local", 403}, {"partner@demo.hearth.local", 403},
		{"moderator@demo.hearth.local", 403}, {"marketer@demo.hearth.local", 200}, {"admin@demo.hearth.local", 200},
	}
	for _, c := range cases {
		tok := ""
		if c.email != "" {
			tok, _ = e.Login(t, c.email, demo.Password)
		}
		r := e.API(t, http.MethodGet, path, nil, tok)
		if r.Status != c.want {
			t.Errorf("%q: %d, want %d", c.email, r.Status, c.want)
		}
		if c.want == 200 {
			m := r.JSON(t)
			prof := m["profile"].(map[string]any)
			if prof["event_count"].(float64) < 3 || m["timeline"] == nil || prof["stage"] == "" {
				t.Errorf("360 of bob lacks data: %s", r.Body)
			}
		}
	}
	// pages: marketer sees the 360 page with scores and reasons; a member gets 403
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	req, _ := http.NewRequest(http.MethodGet, "/crm/members/"+strconv.FormatInt(bob, 10), nil)
	req.AddCookie(&http.Cookie{Name: "hearth_access", Value: mk})
	page := e.Do(t, req)
	if page.Status != 200 || !strings.Contains(string(page.Body), "Churn risk") || !strings.Contains(string(page.Body), "Bob Smith") {
		t.Fatalf("360 page: %d", page.Status)
	}
}

func TestNotesByStaffOnly(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	bob := strconv.FormatInt(userID(t, e, "bob@demo.hearth.local"), 10)
	alice, _ := e.Login(t, "alice@demo.hearth.local", demo.Password)
	if r := e.API(t, http.MethodPost, "/api/v1/crm/members/"+bob+"/notes", map[string]string{"body": "x"}, alice); r.Status != 403 {
		t.Fatalf("member adding a note: %d", r.Status)
	}
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	if r := e.API(t, http.MethodPost, "/api/v1/crm/members/"+bob+"/notes", map[string]string{"body": " "}, mk); r.Status != 422 {
		t.Fatalf("empty note: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/crm/members/"+bob+"/notes", map[string]string{"body": "Prefers e-mail"}, mk); r.Status != 201 {
		t.Fatalf("note: %d %s", r.Status, r.Body)
	}
	r := e.API(t, http.MethodGet, "/api/v1/crm/members/"+bob, nil, mk)
	if !strings.Contains(string(r.Body), "Prefers e-mail") {
		t.Fatal("note not on the 360 view")
	}
	// bob's own view never shows staff notes
	bt, _ := e.Login(t, "bob@demo.hearth.local", demo.Password)
	own := e.API(t, http.MethodGet, "/api/v1/me/data", nil, bt)
	if own.Status != 200 || strings.Contains(string(own.Body), "Prefers e-mail") {
		t.Fatalf("own data: %d, shows notes: %v", own.Status, strings.Contains(string(own.Body), "Prefers"))
	}
}

func TestConsentExportErase(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	tok, _ := e.Login(t, "bob@demo.hearth.local", demo.Password)
	yes := true
	r := e.API(t, http.MethodPut, "/api/v1/me/consent", map[string]*bool{"email": &yes}, tok)
	if r.Status != 200 || r.JSON(t)["email"] != true {
		t.Fatalf("consent: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodPut, "/api/v1/me/consent", map[string]*bool{"email": &yes}, ""); r.Status != 401 {
		t.Fatalf("anonymous consent: %d", r.Status)
	}
	ex := e.API(t, http.MethodGet, "/api/v1/me/export", nil, tok)
	body := string(ex.Body)
	if ex.Status != 200 || !strings.Contains(body, "bob@demo.hearth.local") || !strings.Contains(body, "custom equalizer") ||
		!strings.Contains(body, `"events"`) || !strings.Contains(body, `"consent_email": true`) && !strings.Contains(body, `"consent_email":true`) {
		t.Fatalf("export: %d %.400s", ex.Status, body)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/me/erase", map[string]bool{"confirm": false}, tok); r.Status != 422 {
		t.Fatalf("erase without confirm: %d", r.Status)
	}
	bob := userID(t, e, "bob@demo.hearth.local")
	if r := e.API(t, http.MethodPost, "/api/v1/me/erase", map[string]bool{"confirm": true}, tok); r.Status != 204 {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	// personal data gone, log-in impossible
	var email, name string
	e.DB.Raw(`SELECT email, display_name FROM users WHERE id = ?`, bob).Row().Scan(&email, &name)
	if strings.Contains(email, "bob") || name != "Former member" {
		t.Fatalf("account not erased: %s %s", email, name)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": "bob@demo.hearth.local", "password": demo.Password}, ""); r.Status != 401 {
		t.Fatalf("erased member logs in: %d", r.Status)
	}
	// posts stay readable, as from a former member
	page := e.Page(t, "/t/4/x?page=1")
	if page.Status == 301 {
		page = e.Page(t, page.Header.Get("Location"))
	}
	if !strings.Contains(string(page.Body), "custom equalizer") || !strings.Contains(string(page.Body), "Former member") {
		t.Fatalf("erased member's thread: %d", page.Status)
	}
	// out of every count: a refresh ranks only the others
	if err := e.CRM.RefreshAll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var erased bool
	var core bool
	e.DB.Raw(`SELECT erased, core_member FROM crm_profiles WHERE member_id = ?`, bob).Row().Scan(&erased, &core)
	if !erased || core {
		t.Fatalf("profile erased=%v core=%v", erased, core)
	}
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	if r := e.API(t, http.MethodGet, "/api/v1/crm/members/"+strconv.FormatInt(bob, 10), nil, mk); r.Status != 404 {
		t.Fatalf("erased member's 360: %d", r.Status)
	}
}

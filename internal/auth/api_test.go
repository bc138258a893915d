package auth_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/testenv"
)

const pw = "Correct-Horse-9-battery"

func register(t *testing.T, e *testenv.AppEnv, email string) map[string]any {
	t.Helper()
	r := e.API(t, http.MethodPost, "/api/v1/auth/register",
		map[string]string{"email": email, "password": pw, "display_name": "Test Member"}, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func TestRegisterLoginMe(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	reg := register(t, e, "Ann@Example.com")
	if reg["access_token"] == "" || reg["refresh_token"] == "" {
		t.Fatalf("register returned no tokens: %v", reg)
	}
	access, _ := e.Login(t, "ann@example.com", pw)
	me := e.API(t, http.MethodGet, "/api/v1/me", nil, access)
	if me.Status != http.StatusOK || me.JSON(t)["email"] != "ann@example.com" || me.JSON(t)["role"] != "member" {
		t.Fatalf("/me: %d %s", me.Status, me.Body)
	}
	if _, leaked := me.JSON(t)["password_hash"]; leaked {
		t.Fatal("/me leaks the password hash")
	}
	// the registration appended an engagement event in its transaction
	var n int64
	e.DB.Raw("SELECT count(*) FROM crm_events WHERE kind = 'member.registered'").Scan(&n)
	if n != 1 {
		t.Fatalf("registered events = %d, want 1", n)
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "taken@example.com")
	cases := []struct {
		name   string
		body   map[string]string
		status int
		fields []string
	}{
		{"all missing", map[string]string{}, 422, []string{"email", "password", "display_name"}},
		{"bad email", map[string]string{"email": "not-an-email", "password": pw, "display_name": "Al"}, 422, []string{"email"}},
		{"short password", map[string]string{"email": "a@example.com", "password": "short", "display_name": "Al"}, 422, []string{"password"}},
		{"long password", map[string]string{"email": "a@example.com", "password": string(make([]byte, 80)), "display_name": "Al"}, 422, []string{"password"}},
		{"bad locale", map[string]string{"email": "a@example.com", "password": pw, "display_name": "Al", "locale": "fr"}, 422, []string{"locale"}},
		{"duplicate, other case", map[string]string{"email": "TAKEN@example.com", "password": pw, "display_name": "Al"}, 409, []string{"email"}},
	}
	for _, c := range cases {
		r := e.API(t, http.MethodPost, "/api/v1/auth/register", c.body, "")
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
			continue
		}
		f := r.Fields(t)
		for _, name := range c.fields {
			if f[name] == "" {
				t.Errorf("%s: no message for field %q in %s", c.name, name, r.Body)
			}
		}
	}
	var n int64
	e.DB.Raw("SELECT count(*) FROM users").Scan(&n)
	if n != 1 {
		t.Fatalf("failed registrations wrote users: %d rows", n)
	}
}

func TestMalformedJSONHasErrorShape(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	req := e.API(t, http.MethodPost, "/api/v1/auth/login", nil, "")
	if req.Status != 422 || req.ErrorCode(t) != "invalid" {
		t.Fatalf("no body: %d %s", req.Status, req.Body)
	}
}

func TestWrongPasswordAndUnknownAccount(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "bo@example.com")
	for _, body := range []map[string]string{
		{"email": "bo@example.com", "password": "wrong-password-1"},
		{"email": "nobody@example.com", "password": pw},
	} {
		r := e.API(t, http.MethodPost, "/api/v1/auth/login", body, "")
		if r.Status != http.StatusUnauthorized || r.ErrorCode(t) != "unauthenticated" {
			t.Fatalf("login %v: %d %s", body, r.Status, r.Body)
		}
		if r.JSON(t)["access_token"] != nil {
			t.Fatal("tokens returned for a failed log-in")
		}
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "cy@example.com")
	_, r1 := e.Login(t, "cy@example.com", pw)
	refresh := func(tok string) *testenv.Response {
		return e.API(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": tok}, "")
	}
	res := refresh(r1)
	if res.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", res.Status, res.Body)
	}
	r2 := res.JSON(t)["refresh_token"].(string)
	if r2 == r1 {
		t.Fatal("refresh token was not rotated")
	}
	if a := res.JSON(t)["access_token"].(string); e.API(t, http.MethodGet, "/api/v1/me", nil, a).Status != 200 {
		t.Fatal("rotated access token refused")
	}
	// r1 is spent: presenting it again is reuse, which revokes the family (r2 too)
	if got := refresh(r1); got.Status != http.StatusUnauthorized {
		t.Fatalf("reused refresh: %d, want 401", got.Status)
	}
	if got := refresh(r2); got.Status != http.StatusUnauthorized {
		t.Fatalf("family member after reuse: %d, want 401", got.Status)
	}
	// another session (family) of the same member is untouched
	_, other := e.Login(t, "cy@example.com", pw)
	if got := refresh(other); got.Status != http.StatusOK {
		t.Fatalf("unrelated session: %d", got.Status)
	}
	// tokens are stored hashed
	var plain int64
	e.DB.Raw("SELECT count(*) FROM refresh_tokens WHERE token_hash = convert_to(?, 'UTF8')", other).Scan(&plain)
	if plain != 0 {
		t.Fatal("refresh token stored in clear")
	}
}

func TestConcurrentRefreshOnlyOneWins(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "dee@example.com")
	_, r1 := e.Login(t, "dee@example.com", pw)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.API(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": r1}, "").Status == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded, want exactly 1", ok)
	}
}

func TestLogoutRevokesSession(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "ed@example.com")
	_, r := e.Login(t, "ed@example.com", pw)
	if res := e.API(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": r}, ""); res.Status != 204 {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	if res := e.API(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": r}, ""); res.Status != 401 {
		t.Fatalf("refresh after logout: %d", res.Status)
	}
	if res := e.API(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": r}, ""); res.Status != 204 {
		t.Fatalf("second logout: %d", res.Status)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "fi@example.com")
	access, oldRefresh := e.Login(t, "fi@example.com", pw)
	bad := e.API(t, http.MethodPost, "/api/v1/me/password", map[string]string{"current_password": "nope-nope-nope", "new_password": "Another-Good-Pass-1"}, access)
	if bad.Status != 422 || bad.Fields(t)["current_password"] == "" {
		t.Fatalf("wrong current password: %d %s", bad.Status, bad.Body)
	}
	short := e.API(t, http.MethodPost, "/api/v1/me/password", map[string]string{"current_password": pw, "new_password": "x"}, access)
	if short.Status != 422 || short.Fields(t)["new_password"] == "" {
		t.Fatalf("short new password: %d %s", short.Status, short.Body)
	}
	ok := e.API(t, http.MethodPost, "/api/v1/me/password", map[string]string{"current_password": pw, "new_password": "Another-Good-Pass-1"}, access)
	if ok.Status != 200 {
		t.Fatalf("change: %d %s", ok.Status, ok.Body)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": oldRefresh}, ""); r.Status != 401 {
		t.Fatalf("old session survived a password change: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": "fi@example.com", "password": pw}, ""); r.Status != 401 {
		t.Fatalf("old password still works: %d", r.Status)
	}
	e.Login(t, "fi@example.com", "Another-Good-Pass-1")
}

func TestUpdateMe(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "gu@example.com")
	access, _ := e.Login(t, "gu@example.com", pw)
	r := e.API(t, http.MethodPatch, "/api/v1/me", map[string]string{"locale": "zh-Hans", "display_name": "顾客小张"}, access)
	if r.Status != 200 || r.JSON(t)["locale"] != "zh-Hans" || r.JSON(t)["display_name"] != "顾客小张" {
		t.Fatalf("patch me: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, http.MethodPatch, "/api/v1/me", map[string]string{"locale": "xx"}, access); r.Status != 422 {
		t.Fatalf("bad locale: %d", r.Status)
	}
	// error messages follow the saved language? They follow Accept-Language for the API.
	if r := e.API(t, http.MethodPatch, "/api/v1/me", map[string]string{"locale": "en"}, ""); r.Status != 401 {
		t.Fatalf("anonymous patch: %d", r.Status)
	}
}

func TestCreateUserRoles(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	ctx := context.Background()
	if _, err := e.Auth.CreateUser(ctx, auth.NewAccount{Email: "p@example.com", Password: pw, DisplayName: "Pat", Role: auth.RolePartner}); err == nil {
		t.Fatal("partner without company accepted")
	}
	missing := int64(999)
	if _, err := e.Auth.CreateUser(ctx, auth.NewAccount{Email: "p@example.com", Password: pw, DisplayName: "Pat", Role: auth.RolePartner, PartnerID: &missing}); err == nil {
		t.Fatal("partner with unknown company accepted")
	}
	if _, err := e.Auth.CreateUser(ctx, auth.NewAccount{Email: "q@example.com", Password: pw, DisplayName: "Q", Role: "boss"}); err == nil {
		t.Fatal("unknown role accepted")
	}
	u, err := e.Auth.CreateUser(ctx, auth.NewAccount{Email: "m@example.com", Password: pw, DisplayName: "Mod", Role: auth.RoleModerator})
	if err != nil || u.Role != auth.RoleModerator {
		t.Fatalf("moderator: %v", err)
	}
	access, _ := e.Login(t, "m@example.com", pw)
	if r := e.API(t, http.MethodGet, "/api/v1/me", nil, access); r.JSON(t)["role"] != "moderator" {
		t.Fatalf("role not carried: %s", r.Body)
	}
}

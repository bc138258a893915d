package auth_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/testenv"
)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf loads a page and returns its CSRF cookie and form token.
func csrf(t *testing.T, e *testenv.AppEnv, path string) (*http.Cookie, string) {
	t.Helper()
	r := e.Page(t, path)
	m := csrfField.FindSubmatch(r.Body)
	c := r.Cookies["hearth_csrf"]
	if m == nil || c == nil {
		t.Fatalf("%s: no CSRF token in page or cookie", path)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("CSRF cookie not HttpOnly/SameSite=Lax: %+v", c)
	}
	return c, string(m[1])
}

func TestWebRegisterLoginLogout(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	cookie, token := csrf(t, e, "/register")
	r := e.Form(t, "/register", url.Values{"_csrf": {token}, "email": {"web@example.com"},
		"password": {pw}, "display_name": {"Web Member"}}, cookie)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	access, refresh := r.Cookies[auth.AccessCookie], r.Cookies[auth.RefreshCookie]
	for _, c := range []*http.Cookie{access, refresh} {
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie missing or not HttpOnly/SameSite: %+v", c)
		}
	}
	home := e.Page(t, "/", access, cookie)
	if !strings.Contains(string(home.Body), "Web Member") || !strings.Contains(string(home.Body), `id="logout"`) {
		t.Fatal("home page does not show the logged-in member")
	}
	// log out: cookies cleared and the refresh token revoked
	out := e.Form(t, "/logout", url.Values{"_csrf": {token}}, access, refresh, cookie)
	if out.Status != http.StatusSeeOther || out.Cookies[auth.AccessCookie] == nil || out.Cookies[auth.AccessCookie].Value != "" {
		t.Fatalf("logout: %d, cookies %v", out.Status, out.Cookies)
	}
	if res := e.API(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh.Value}, ""); res.Status != 401 {
		t.Fatalf("refresh token alive after web logout: %d", res.Status)
	}
	// log in through the form, to the page asked for
	in := e.Form(t, "/login", url.Values{"_csrf": {token}, "email": {"web@example.com"}, "password": {pw}, "next": {"/account"}}, cookie)
	if in.Status != http.StatusSeeOther || in.Header.Get("Location") != "/account" {
		t.Fatalf("login: %d %s", in.Status, in.Header.Get("Location"))
	}
	acct := e.Page(t, "/account", in.Cookies[auth.AccessCookie], cookie)
	if acct.Status != 200 || !strings.Contains(string(acct.Body), "web@example.com") {
		t.Fatalf("account page: %d", acct.Status)
	}
}

func TestWebFormErrors(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	cookie, token := csrf(t, e, "/register")
	r := e.Form(t, "/register", url.Values{"_csrf": {token}, "email": {"nope"}, "password": {"short"}, "display_name": {"Keep Me"}}, cookie)
	body := string(r.Body)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter a valid e-mail address") ||
		!strings.Contains(body, "Use at least 10 characters") || !strings.Contains(body, `value="Keep Me"`) {
		t.Fatalf("register form errors: %d\n%s", r.Status, body)
	}
	if strings.Contains(body, `value="short"`) {
		t.Fatal("password echoed back into the form")
	}
	// the same in Chinese
	zh := &http.Cookie{Name: "hearth_lang", Value: "zh-Hans"}
	r = e.Form(t, "/login", url.Values{"_csrf": {token}, "email": {"x@example.com"}, "password": {"wrong-password"}}, cookie, zh)
	if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "邮箱或密码不正确") {
		t.Fatalf("zh login error: %d\n%s", r.Status, r.Body)
	}
}

func TestCSRFRequiredOnForms(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	cookie, token := csrf(t, e, "/login")
	form := url.Values{"email": {"a@example.com"}, "password": {pw}, "display_name": {"Al"}}
	for _, path := range []string{"/login", "/register", "/logout", "/lang", "/account/password"} {
		if r := e.Form(t, path, form, cookie); r.Status != http.StatusForbidden {
			t.Errorf("%s without token: %d, want 403", path, r.Status)
		}
		wrong := url.Values{"_csrf": {token + "x"}}
		if r := e.Form(t, path, wrong, cookie); r.Status != http.StatusForbidden {
			t.Errorf("%s with wrong token: %d, want 403", path, r.Status)
		}
		// a token without its cookie (cross-site post) is refused too
		if r := e.Form(t, path, url.Values{"_csrf": {token}}); r.Status != http.StatusForbidden {
			t.Errorf("%s without cookie: %d, want 403", path, r.Status)
		}
	}
	// the error page is a readable page, not a stack trace
	r := e.Form(t, "/login", form, cookie)
	if !strings.Contains(string(r.Body), "Your form expired") {
		t.Fatalf("CSRF error page: %s", r.Body)
	}
	var users int64
	e.DB.Raw("SELECT count(*) FROM users").Scan(&users)
	if users != 0 {
		t.Fatal("a form without CSRF token created an account")
	}
}

func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	if r := e.Page(t, "/"); !strings.Contains(string(r.Body), "Welcome to the community") {
		t.Fatal("default language is not English")
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	if r := e.Do(t, req); !strings.Contains(string(r.Body), "欢迎来到社区") || !strings.Contains(string(r.Body), `lang="zh-Hans"`) {
		t.Fatal("Accept-Language zh-CN not honoured")
	}
	cookie, token := csrf(t, e, "/")
	r := e.Form(t, "/lang", url.Values{"_csrf": {token}, "lang": {"zh-Hans"}, "next": {"/login"}}, cookie)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" || r.Cookies["hearth_lang"].Value != "zh-Hans" {
		t.Fatalf("switch: %d %v", r.Status, r.Cookies)
	}
	if p := e.Page(t, "/login", cookie, r.Cookies["hearth_lang"]); !strings.Contains(string(p.Body), "电子邮箱") {
		t.Fatal("login page not in Chinese after switching")
	}
	if r := e.Form(t, "/lang", url.Values{"_csrf": {token}, "lang": {"xx"}}, cookie); r.Status != 422 {
		t.Fatalf("unknown language: %d", r.Status)
	}
	// an open redirect through next is not possible
	r = e.Form(t, "/lang", url.Values{"_csrf": {token}, "lang": {"en"}, "next": {"//evil.example/x"}}, cookie)
	if r.Header.Get("Location") != "/" {
		t.Fatalf("next=//evil.example redirected to %q", r.Header.Get("Location"))
	}
}

func TestWebSessionRefreshesTransparently(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	register(t, e, "slide@example.com")
	_, refresh := e.Login(t, "slide@example.com", pw)
	// no access cookie (expired), only the refresh cookie: the page still knows the member
	r := e.Page(t, "/account", &http.Cookie{Name: auth.RefreshCookie, Value: refresh})
	if r.Status != 200 || !strings.Contains(string(r.Body), "slide@example.com") {
		t.Fatalf("refresh-only session: %d", r.Status)
	}
	if r.Cookies[auth.RefreshCookie] == nil || r.Cookies[auth.RefreshCookie].Value == refresh {
		t.Fatal("refresh cookie not rotated")
	}
	// visitors are sent to log in
	if r := e.Page(t, "/account"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("visitor on /account: %d %s", r.Status, r.Header.Get("Location"))
	}
}

func TestLoginRateLimitAcrossInstances(t *testing.T) {
	t.Parallel()
	limits := auth.Limits{AccountFailures: 3, AddressAttempts: 1000, Window: time.Hour}
	a := testenv.NewApp(t, testenv.WithLimits(limits))
	b := testenv.NewApp(t, testenv.WithDB(a.DB), testenv.WithLimits(limits)) // a second `hearth serve`
	register(t, a, "rl@example.com")
	wrong := map[string]string{"email": "rl@example.com", "password": "wrong-password"}
	for i, inst := range []*testenv.AppEnv{a, b, a} {
		if r := inst.API(t, http.MethodPost, "/api/v1/auth/login", wrong, ""); r.Status != 401 {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	// the fourth attempt is refused on either instance, even with the right password
	right := map[string]string{"email": "rl@example.com", "password": pw}
	if r := b.API(t, http.MethodPost, "/api/v1/auth/login", right, ""); r.Status != http.StatusTooManyRequests || r.ErrorCode(t) != "rate_limited" {
		t.Fatalf("after 3 failures: %d %s", r.Status, r.Body)
	}
	// another account from the same address is not locked by this one
	register(t, a, "other@example.com")
	a.Login(t, "other@example.com", pw)
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t, testenv.WithLimits(auth.Limits{AccountFailures: 100, AddressAttempts: 5, Window: time.Hour}))
	for i := 0; i < 5; i++ {
		e.API(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": "u" + strings.Repeat("x", i) + "@example.com", "password": "whatever-1234"}, "")
	}
	if r := e.API(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": "new@example.com", "password": "whatever-1234"}, ""); r.Status != 429 {
		t.Fatalf("6th attempt from one address: %d, want 429", r.Status)
	}
}

package browsertest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/browsertest"
	"github.com/hearth-community/hearth/internal/testenv"
)

const password = "correct horse battery"

// site serves a fresh Hearth and returns its base URL and the app (for fixtures).
func site(t *testing.T) (*testenv.AppEnv, string) {
	t.Helper()
	env := testenv.NewApp(t)
	return env, env.Listen(t)
}

// member creates an account through the service, as an earlier visit would have.
func member(t *testing.T, env *testenv.AppEnv, name, email, locale string) {
	t.Helper()
	_, err := env.Auth.CreateUser(context.Background(), auth.NewAccount{
		DisplayName: name, Email: email, Password: password, Locale: locale, Role: auth.RoleMember})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
}

// logIn submits the log-in form and returns the status of the page it lands on.
func logIn(p *browsertest.Page, base, email, pw string) int {
	p.Visit(base + "/login")
	p.Fill("#f-email", email)
	p.Fill("#f-password", pw)
	return p.Click("#login-submit")
}

// wantLoggedIn checks the header shows the member's name and a log-out button.
func wantLoggedIn(t *testing.T, p *browsertest.Page, name, logout string) {
	t.Helper()
	if got := p.Text(`header a[href="/account"]`); got != name {
		t.Errorf("header account link = %q, want %q", got, name)
	}
	if got := p.Text("#logout"); got != logout {
		t.Errorf("log-out button = %q, want %q", got, logout)
	}
	if p.Has(`header a[href="/login"]`) {
		t.Error("header still offers Log in to a member")
	}
}

func wantPath(t *testing.T, p *browsertest.Page, status int, path string, wantStatus int) {
	t.Helper()
	if got := p.Path(); got != path || status != wantStatus {
		t.Fatalf("landed on %s with %d, want %s with %d", got, status, path, wantStatus)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	_, base := site(t)
	b := browsertest.New(t)

	b.Visit(base + "/")
	b.Click(`header a[href="/register"]`)
	b.Fill("#f-display_name", "Ada Lovelace")
	b.Fill("#f-email", "Ada@Example.com")
	b.Fill("#f-password", password)
	st := b.Click("#register-submit")

	wantPath(t, b.Page, st, "/", http.StatusOK)
	if got := b.Text("p.flash"); got != "Welcome! Your account is ready." {
		t.Errorf("flash = %q", got)
	}
	wantLoggedIn(t, b.Page, "Ada Lovelace", "Log out")

	b.Screenshot("home-member-en")
	b.Click(`header a[href="/account"]`)
	b.Screenshot("account-en")
	if got := b.Text("#account-name"); got != "Ada Lovelace" {
		t.Errorf("account name = %q", got)
	}
	if got := b.Text("#account-email"); got != "ada@example.com" {
		t.Errorf("account e-mail = %q, want it lower-cased", got)
	}
	b.NoConsoleErrors()
}

func TestRegisterInvalidEmail(t *testing.T) {
	t.Parallel()
	_, base := site(t)
	b := browsertest.New(t)

	b.Visit(base + "/register")
	b.Fill("#f-display_name", "Grace Hopper")
	b.Fill("#f-email", "grace-at-example")
	b.Fill("#f-password", password)
	st := b.Click("#register-submit")

	wantPath(t, b.Page, st, "/register", http.StatusUnprocessableEntity)
	b.Screenshot("register-invalid-email")
	if got, want := b.Text("#f-email-error"), "Enter a valid e-mail address, like name@example.com."; got != want {
		t.Errorf("e-mail error = %q, want %q", got, want)
	}
	if !b.Visible("#f-email-error") {
		t.Error("the e-mail error is not visible")
	}
	if got := b.Attr("#f-email", "aria-describedby"); got != "f-email-error" {
		t.Errorf("e-mail input aria-describedby = %q: screen readers do not hear the error", got)
	}
	// "Next to the field": just under the input, in the same column.
	in, msg := b.Box("#f-email"), b.Box("#f-email-error")
	if gap := msg.Y - in.Bottom(); gap < 0 || gap > 24 || msg.X != in.X {
		t.Errorf("e-mail error at %+v is not right under its input at %+v", msg, in)
	}
	if b.Has("#f-display_name-error") || b.Has("#f-password-error") {
		t.Error("valid fields are marked as errors")
	}
	if got := b.Text(".form-error"); got != "Please correct the highlighted fields." {
		t.Errorf("form error = %q", got)
	}
	if got := b.Value("#f-display_name"); got != "Grace Hopper" {
		t.Errorf("display name was not kept: %q", got)
	}
	if got := b.Value("#f-email"); got != "grace-at-example" {
		t.Errorf("e-mail was not kept: %q", got)
	}
	if got := b.Value("#f-password"); got != "" {
		t.Error("the password was sent back into the page")
	}
	if b.Has("#logout") {
		t.Error("an invalid registration logged the visitor in")
	}
	b.NoConsoleErrors()
}

func TestLogInAndOut(t *testing.T) {
	t.Parallel()
	env, base := site(t)
	member(t, env, "Linus", "linus@example.com", "en")
	b := browsertest.New(t)

	st := logIn(b.Page, base, "linus@example.com", password)
	wantPath(t, b.Page, st, "/", http.StatusOK)
	if got := b.Text("p.flash"); got != "Welcome back." {
		t.Errorf("flash = %q", got)
	}
	wantLoggedIn(t, b.Page, "Linus", "Log out")

	st = b.Click("#logout")
	wantPath(t, b.Page, st, "/", http.StatusOK)
	if got := b.Text("p.flash"); got != "You are logged out." {
		t.Errorf("flash = %q", got)
	}
	if got := b.Text(`header a[href="/login"]`); got != "Log in" {
		t.Errorf("header log-in link = %q", got)
	}
	if b.Has("#logout") || b.Has(`header a[href="/account"]`) {
		t.Error("the header still shows the member after logging out")
	}
	// The session is gone, not just hidden: the account page asks to log in.
	b.Visit(base + "/account")
	if got := b.Path(); got != "/login" {
		t.Errorf("/account after log-out went to %s, want /login", got)
	}
	b.NoConsoleErrors()
}

func TestLogInReturnsToPage(t *testing.T) {
	t.Parallel()
	env, base := site(t)
	member(t, env, "Margaret", "margaret@example.com", "en")
	b := browsertest.New(t)

	b.Visit(base + "/account")
	if got := b.URL(); got != base+"/login?next=%2Faccount" && got != base+"/login?next=/account" {
		t.Fatalf("visitor on /account sent to %s, want the log-in page", got)
	}
	b.Fill("#f-email", "margaret@example.com")
	b.Fill("#f-password", password)
	st := b.Click("#login-submit")
	wantPath(t, b.Page, st, "/account", http.StatusOK)
	if got := b.Text("#account-email"); got != "margaret@example.com" {
		t.Errorf("account e-mail = %q", got)
	}
}

func TestLogInWrongPassword(t *testing.T) {
	t.Parallel()
	env, base := site(t)
	member(t, env, "Barbara", "barbara@example.com", "en")
	b := browsertest.New(t)

	st := logIn(b.Page, base, "barbara@example.com", "not the password")
	wantPath(t, b.Page, st, "/login", http.StatusUnauthorized)
	b.Screenshot("login-wrong-password")
	if got, want := b.Text(".form-error"), "The e-mail or password is not right."; got != want {
		t.Errorf("form error = %q, want %q", got, want)
	}
	if !b.Visible(".form-error") {
		t.Error("the log-in error is not visible")
	}
	if got := b.Value("#f-email"); got != "barbara@example.com" {
		t.Errorf("e-mail was not kept: %q", got)
	}
	if got := b.Value("#f-password"); got != "" {
		t.Error("the wrong password was sent back into the page")
	}
	if b.Has("#logout") {
		t.Error("a wrong password logged the visitor in")
	}
	b.NoConsoleErrors()
}

// switchLanguage picks lang in the header's language switch and submits it.
func switchLanguage(t *testing.T, p *browsertest.Page, lang string) int {
	t.Helper()
	p.SetSelect("#lang-select", lang)
	return p.Click("#lang-submit")
}

// wantChinese checks the page is in Simplified Chinese, marked up as such.
func wantChinese(t *testing.T, p *browsertest.Page) {
	t.Helper()
	if got := p.Attr("html", "lang"); got != "zh-Hans" {
		t.Errorf(`<html lang> = %q, want "zh-Hans"`, got)
	}
	if got := p.Value("#lang-select"); got != "zh-Hans" {
		t.Errorf("language switch shows %q, want zh-Hans", got)
	}
}

func TestSwitchLanguageVisitor(t *testing.T) {
	t.Parallel()
	_, base := site(t)
	b := browsertest.New(t)

	b.Visit(base + "/")
	if got := b.Attr("html", "lang"); got != "en" {
		t.Fatalf(`a new visitor's <html lang> = %q, want "en"`, got)
	}
	st := switchLanguage(t, b.Page, "zh-Hans")
	wantPath(t, b.Page, st, "/", http.StatusOK)
	wantChinese(t, b.Page)
	if got := b.Text("main h1"); got != "欢迎来到社区" {
		t.Errorf("home heading = %q, want 欢迎来到社区", got)
	}
	if got := b.Text("p.flash"); got != "语言已切换。" {
		t.Errorf("flash = %q", got)
	}
	if got := b.Text(`header a[href="/login"]`); got != "登录" {
		t.Errorf("header log-in link = %q, want 登录", got)
	}
	b.Screenshot("home-zh-Hans")

	b.Reload()
	wantChinese(t, b.Page)
	if got := b.Text("main h1"); got != "欢迎来到社区" {
		t.Errorf("after a reload the heading is %q", got)
	}

	// The switch returns to the page it was used on, and back to English works.
	b.Visit(base + "/login")
	st = switchLanguage(t, b.Page, "en")
	wantPath(t, b.Page, st, "/login", http.StatusOK)
	if got := b.Attr("html", "lang"); got != "en" {
		t.Errorf(`<html lang> = %q after switching back to English`, got)
	}
	if got := b.Text("main h1"); got != "Log in" {
		t.Errorf("log-in heading = %q", got)
	}
	b.NoConsoleErrors()
}

// A member's switch applies at once, as a visitor's does (the choice is also saved
// on the account: TestMemberLanguageFollowsAccount).
func TestSwitchLanguageMember(t *testing.T) {
	t.Parallel()
	env, base := site(t)
	member(t, env, "Mei", "mei@example.com", "en")
	b := browsertest.New(t)

	logIn(b.Page, base, "mei@example.com", password)
	st := switchLanguage(t, b.Page, "zh-Hans")
	wantPath(t, b.Page, st, "/", http.StatusOK)
	b.Screenshot("home-zh-Hans-member")
	wantChinese(t, b.Page)
	wantLoggedIn(t, b.Page, "Mei", "退出登录")

	b.Reload()
	wantChinese(t, b.Page)
	if got := b.Text("main h1"); got != "欢迎来到社区" {
		t.Errorf("after a reload the heading is %q", got)
	}
	b.NoConsoleErrors()
}

// The saved choice follows the member: logging in on a browser that never chose a
// language (no cookie) shows the account's language.
func TestMemberLanguageFollowsAccount(t *testing.T) {
	t.Parallel()
	env, base := site(t)
	member(t, env, "Mei", "mei@example.com", "en")
	b := browsertest.New(t)

	logIn(b.Page, base, "mei@example.com", password)
	switchLanguage(t, b.Page, "zh-Hans")
	b.Click("#logout")

	other := b.NewPage(t)
	other.Visit(base + "/")
	if got := other.Attr("html", "lang"); got != "en" {
		t.Fatalf(`a fresh browser's <html lang> = %q, want "en"`, got)
	}
	st := logIn(other, base, "mei@example.com", password)
	wantPath(t, other, st, "/", http.StatusOK)
	wantChinese(t, other)
	if got := other.Text("main h1"); got != "欢迎来到社区" {
		t.Errorf("after logging in elsewhere the heading is %q, want the saved language", got)
	}
	wantLoggedIn(t, other, "Mei", "退出登录")

	// And on the first browser, logging out and in again keeps it too.
	logIn(b.Page, base, "mei@example.com", password)
	wantChinese(t, b.Page)
	b.NoConsoleErrors()
	other.NoConsoleErrors()
}

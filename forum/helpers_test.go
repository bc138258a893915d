package forum_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

// fenv is a full application on its own database, seeded with the demo community and
// logged in as every demo account. Accounts are named by the local part of their
// e-mail: admin, moderator, marketer, partner, alice, bob, wang, li; "" is a visitor.
type fenv struct {
	*testenv.AppEnv
	tok  map[string]string
	ids  map[string]int64
	cats map[string]int64
	// csrfCookie and csrfToken are one browser's double-submit pair for forms.
	csrfCookie *http.Cookie
	csrfToken  string
}

// moderationRefused are the logged-in accounts that must be refused moderation:
// a member, a partner, and staff who do not moderate.
var moderationRefused = []string{"alice", "partner", "marketer"}

func newEnv(t *testing.T) *fenv {
	t.Helper()
	e := &fenv{AppEnv: testenv.NewApp(t), tok: map[string]string{}, ids: map[string]int64{}, cats: map[string]int64{}}
	if err := demo.Seed(context.Background(), e.Auth, e.Forums, e.Partners, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, l := range demo.Logins {
		name, _, _ := strings.Cut(l.Email, "@")
		e.tok[name], _ = e.Login(t, l.Email, demo.Password)
		var id int64
		e.DB.Raw("SELECT id FROM users WHERE email = ?", l.Email).Scan(&id)
		if id == 0 {
			t.Fatalf("no id for %s", l.Email)
		}
		e.ids[name] = id
	}
	var cats []struct {
		ID   int64
		Slug string
	}
	e.DB.Raw("SELECT id, slug FROM forum_categories").Scan(&cats)
	for _, c := range cats {
		e.cats[c.Slug] = c.ID
	}
	if len(e.cats) != 5 {
		t.Fatalf("seeded categories: %v", e.cats)
	}
	return e
}

// call sends an API request as who ("" = visitor).
func (e *fenv) call(t *testing.T, method, path string, body any, who string) *testenv.Response {
	t.Helper()
	return e.API(t, method, path, body, e.tok[who])
}

// must fails the test unless r has the wanted status.
func must(t *testing.T, r *testenv.Response, status int, what string) *testenv.Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	return r
}

// mustErr checks an API error's status and, when field is set, that it names the field.
func mustErr(t *testing.T, r *testenv.Response, status int, field, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	if field != "" && r.Fields(t)[field] == "" {
		t.Fatalf("%s: no error on field %q: %s", what, field, r.Body)
	}
}

func decode[T any](t *testing.T, r *testenv.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.Body)
	}
	return v
}

type threadJSON struct {
	ID             int64    `json:"id"`
	CategoryID     int64    `json:"category_id"`
	AuthorID       int64    `json:"author_id"`
	Kind           string   `json:"kind"`
	Title          string   `json:"title"`
	Slug           string   `json:"slug"`
	Tags           []string `json:"tags"`
	Pinned         bool     `json:"pinned"`
	Locked         bool     `json:"locked"`
	Hidden         bool     `json:"hidden"`
	Deleted        bool     `json:"deleted"`
	ReplyCount     int      `json:"reply_count"`
	Score          int      `json:"score"`
	AcceptedPostID *int64   `json:"accepted_post_id"`
	Solved         bool     `json:"solved"`
	Unread         int      `json:"unread"`
}

type postJSON struct {
	ID           int64          `json:"id"`
	ThreadID     int64          `json:"thread_id"`
	Number       int            `json:"number"`
	AuthorID     int64          `json:"author_id"`
	Body         string         `json:"body"`
	BodyHTML     string         `json:"body_html"`
	Reactions    map[string]int `json:"reactions"`
	Hidden       bool           `json:"hidden"`
	Deleted      bool           `json:"deleted"`
	EditedAt     *time.Time     `json:"edited_at"`
	Accepted     bool           `json:"accepted"`
	Mine         []string       `json:"my_reactions"`
	AuthorHandle string         `json:"author_handle"`
	AuthorRep    int            `json:"author_reputation"`
}

type viewJSON struct {
	Thread   threadJSON `json:"thread"`
	Posts    []postJSON `json:"posts"`
	LastRead int        `json:"last_read"`
}

type listJSON struct {
	Threads []threadJSON `json:"threads"`
	Pinned  []threadJSON `json:"pinned"`
	Next    string       `json:"next"`
}

type profileJSON struct {
	ID         int64        `json:"id"`
	Handle     string       `json:"handle"`
	Reputation int          `json:"reputation"`
	Threads    int          `json:"thread_count"`
	Replies    int          `json:"reply_count"`
	Accepted   int          `json:"accepted_count"`
	Recent     []threadJSON `json:"threads"`
	Posts      []struct {
		PostID int64 `json:"post_id"`
	} `json:"replies"`
	Answers []struct {
		PostID int64 `json:"post_id"`
	} `json:"accepted_answers"`
}

type revisionsJSON struct {
	Revisions []struct {
		Revision int    `json:"revision"`
		EditorID int64  `json:"editor_id"`
		Body     string `json:"body"`
		Title    string `json:"title"`
	} `json:"revisions"`
}

// newThread starts a thread through the API and returns it.
func (e *fenv) newThread(t *testing.T, who, cat string, kind forum.ThreadKind, title, body string, tags ...string) threadJSON {
	t.Helper()
	r := e.call(t, http.MethodPost, "/api/v1/threads", forum.NewThread{CategoryID: e.cats[cat], Kind: kind,
		Title: title, Body: body, Tags: tags}, who)
	must(t, r, http.StatusCreated, "create thread "+title)
	return decode[threadJSON](t, r)
}

// reply posts a reply through the API and returns it.
func (e *fenv) reply(t *testing.T, who string, thread int64, body string) postJSON {
	t.Helper()
	r := e.call(t, http.MethodPost, fmt.Sprintf("/api/v1/threads/%d/posts", thread), map[string]any{"body": body}, who)
	must(t, r, http.StatusCreated, "reply")
	return decode[postJSON](t, r)
}

// view opens a thread through the API as who (200 expected).
func (e *fenv) view(t *testing.T, who string, thread int64) viewJSON {
	t.Helper()
	r := e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/threads/%d", thread), nil, who)
	must(t, r, http.StatusOK, "view thread as "+who)
	return decode[viewJSON](t, r)
}

func (e *fenv) list(t *testing.T, who, query string) listJSON {
	t.Helper()
	r := e.call(t, http.MethodGet, "/api/v1/threads?"+query, nil, who)
	must(t, r, http.StatusOK, "list "+query)
	return decode[listJSON](t, r)
}

func (e *fenv) profile(t *testing.T, who, handle string) profileJSON {
	t.Helper()
	r := e.call(t, http.MethodGet, "/api/v1/members/"+handle, nil, who)
	must(t, r, http.StatusOK, "profile "+handle)
	return decode[profileJSON](t, r)
}

func (e *fenv) moderate(t *testing.T, thread int64, change map[string]any) threadJSON {
	t.Helper()
	r := e.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/threads/%d", thread), change, "moderator")
	must(t, r, http.StatusOK, fmt.Sprintf("moderate thread %v", change))
	return decode[threadJSON](t, r)
}

func (e *fenv) moderatePost(t *testing.T, post int64, change map[string]any) postJSON {
	t.Helper()
	r := e.call(t, http.MethodPost, fmt.Sprintf("/api/v1/posts/%d/moderation", post), change, "moderator")
	must(t, r, http.StatusOK, fmt.Sprintf("moderate post %v", change))
	return decode[postJSON](t, r)
}

// count runs a SELECT count(*) … and returns the number.
func (e *fenv) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *fenv) reputation(t *testing.T, who string) int {
	t.Helper()
	return e.profile(t, "", who).Reputation
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// browser returns the cookies of who's browser session: the CSRF cookie (from a real
// page) and, for members, the session's access cookie.
func (e *fenv) browser(t *testing.T, who string) []*http.Cookie {
	t.Helper()
	if e.csrfCookie == nil {
		r := e.Page(t, "/login")
		m := csrfField.FindSubmatch(r.Body)
		if m == nil || r.Cookies["hearth_csrf"] == nil {
			t.Fatal("/login: no CSRF token in page or cookie")
		}
		e.csrfCookie, e.csrfToken = r.Cookies["hearth_csrf"], string(m[1])
	}
	cs := []*http.Cookie{e.csrfCookie}
	if who != "" {
		cs = append(cs, &http.Cookie{Name: auth.AccessCookie, Value: e.tok[who]})
	}
	return cs
}

// page GETs an HTML page as who.
func (e *fenv) page(t *testing.T, who, path string) *testenv.Response {
	t.Helper()
	return e.Page(t, path, e.browser(t, who)...)
}

// form posts a web form with its CSRF token as who.
func (e *fenv) form(t *testing.T, who, path string, v url.Values) *testenv.Response {
	t.Helper()
	cs := e.browser(t, who)
	if v == nil {
		v = url.Values{}
	}
	v.Set("_csrf", e.csrfToken)
	return e.Form(t, path, v, cs...)
}

// containsAll fails unless body holds every string.
func containsAll(t *testing.T, what string, body []byte, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}

// containsNone fails if body holds any of the strings.
func containsNone(t *testing.T, what string, body []byte, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(string(body), w) {
			t.Errorf("%s: must not show %q", what, w)
		}
	}
}

func ids(ts []threadJSON) map[int64]bool {
	m := map[int64]bool{}
	for _, t := range ts {
		m[t.ID] = true
	}
	return m
}

// idem posts JSON as who with an Idempotency-Key header.
func (e *fenv) idem(t *testing.T, path string, body any, who, key string) *testenv.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tok[who])
	req.Header.Set("Idempotency-Key", key)
	return e.Do(t, req)
}

var keyField = regexp.MustCompile(`name="key" value="([^"]*)"`)

// callFromGoroutine sends a JSON request off the test goroutine (where t.Fatal must
// not be called), with an Idempotency-Key when key is set. It returns the status and
// the "id" of the resource in a successful answer.
func (e *fenv) callFromGoroutine(method, path string, body any, who, key string) (int, int64, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, 0, err
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tok[who])
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := e.Server.App.Test(req, 30_000)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	raw, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode < 300 {
		err = json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, out.ID, err
}

type testResponse = testenv.Response

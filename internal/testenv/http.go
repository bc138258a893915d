package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Response is a finished test request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Cookies set by the response, by name.
	Cookies map[string]*http.Cookie
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

// ErrorCode returns error.code of an API error body ("" if none).
func (r *Response) ErrorCode(t testing.TB) string {
	t.Helper()
	var b struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// Fields returns error.fields of an API error body.
func (r *Response) Fields(t testing.TB) map[string]string {
	t.Helper()
	var b struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Fields
}

// Do sends req through the application in-process (Fiber's app.Test).
func (e *AppEnv) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	resp, err := e.Server.App.Test(req, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Cookies: map[string]*http.Cookie{}}
	for _, c := range resp.Cookies() {
		r.Cookies[c.Name] = c
	}
	return r
}

// API sends a JSON request (body may be nil) with an optional Bearer token.
func (e *AppEnv) API(t testing.TB, method, path string, body any, token string) *Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.Do(t, req)
}

// Form posts an HTML form with the given cookies.
func (e *AppEnv) Form(t testing.TB, path string, values url.Values, cookies ...*http.Cookie) *Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.Do(t, req)
}

// Page GETs a page as a browser would, with the given cookies.
func (e *AppEnv) Page(t testing.TB, path string, cookies ...*http.Cookie) *Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", "text/html")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.Do(t, req)
}

// Login logs in through the API and returns the session body.
func (e *AppEnv) Login(t testing.TB, email, password string) (access, refresh string) {
	t.Helper()
	r := e.API(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password}, "")
	if r.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	m := r.JSON(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// QueryEscape is url.QueryEscape, for building test paths.
func QueryEscape(s string) string { return url.QueryEscape(s) }

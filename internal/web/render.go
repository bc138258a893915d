package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	qt "github.com/valyala/quicktemplate"

	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/static"
)

// View is what every page template receives: the page's own Data plus what the layout
// needs. Templates translate with {{$.L.T "message.id"}}.
type View struct {
	L         *i18n.Localizer
	Lang      string
	Languages []i18n.Language
	User      *Principal
	CSRF      string
	Path      string
	Title     string
	// Description and Canonical fill the meta description and canonical link (SEO).
	Description string
	Canonical   string
	// NoTitleT means Title is already text, not a message id.
	NoTitleT bool
	// Errors maps a form field to its translated problem; Error is the form's summary.
	Errors map[string]string
	Error  string
	// Form echoes submitted values back into a form that failed validation.
	Form      map[string]string
	Flash     string
	Status    int
	RequestID string
	Data      any
}

//go:generate go run github.com/valyala/quicktemplate/qtc -file layout.qtpl

// renderer holds one parsed template set per page (partials + the page); its "content"
// goes inside the compiled layout (layout.qtpl).
type renderer struct {
	pages map[string]*template.Template
}

// htmlContent is a page's content already rendered by html/template.
type htmlContent []byte

func (h htmlContent) StreamContent(qw *qt.Writer) { qw.N().SZ(h) }
func (h htmlContent) WriteContent(w io.Writer)    { _, _ = w.Write(h) }
func (h htmlContent) Content() string             { return string(h) }

var funcs = template.FuncMap{
	"date":     Date,
	"datetime": DateTime,
	"iso":      ISO,
	"add":      func(a, b int) int { return a + b },
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	},
	"deref": func(b *bool) bool { return b != nil && *b },
	"derefInt": func(n *int) int {
		if n == nil {
			return -1
		}
		return *n
	},
	"list": func(s ...string) []string { return s },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"safe": func(s string) template.HTML { return template.HTML(s) }, // only for sanitized HTML (markup.Render)
	"has":  func(m map[string]string, k string) bool { _, ok := m[k]; return ok },
	// field describes one labelled form input with its value and error for the
	// "field" partial: field $ name type labelID autocomplete.
	"field": func(v *View, name, typ, labelID, auto string) map[string]any {
		f := map[string]any{"ID": "f-" + name, "Name": name, "Type": typ, "Label": v.L.T(labelID),
			"Auto": auto, "Required": true, "Err": v.Errors[name]}
		if typ != "password" {
			f["Value"] = v.Form[name]
		}
		return f
	},
}

func newRenderer(extra template.FuncMap) (*renderer, error) {
	r := &renderer{pages: map[string]*template.Template{}}
	all := template.FuncMap{}
	for k, f := range funcs {
		all[k] = f
	}
	for k, f := range extra {
		all[k] = f
	}
	files, err := fs.Glob(static.FS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		t, err := template.New(path.Base(f)).Funcs(all).ParseFS(static.FS, "templates/partials/*.html", f)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", f, err)
		}
		r.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return r, nil
}

// Render writes page (a file in static/templates/pages without .html) inside the
// layout. title is a message id; data is the page's own content.
func (s *Server) Render(c *fiber.Ctx, status int, page, title string, data any) error {
	return s.RenderView(c, status, page, &View{Title: title, Data: data})
}

// RenderView is Render with the form fields of v (Errors, Form, Flash) filled in.
func (s *Server) RenderView(c *fiber.Ctx, status int, page string, v *View) error {
	t, ok := s.pages.pages[page]
	if !ok {
		return fmt.Errorf("web: no page template %q", page)
	}
	s.prepare(c, status, v)
	bb := qt.AcquireByteBuffer()
	defer qt.ReleaseByteBuffer(bb)
	if err := t.ExecuteTemplate(bb, "content", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return s.send(c, status, v, htmlContent(bb.B))
}

// RenderContent is RenderView for a page whose content is compiled Go (a quicktemplate
// func implementing Content) rather than an html/template file; body may keep v to
// read the layout's fields (L, User, CSRF, Errors…), which are filled in first.
func (s *Server) RenderContent(c *fiber.Ctx, status int, v *View, body Content) error {
	s.prepare(c, status, v)
	return s.send(c, status, v, body)
}

func (s *Server) prepare(c *fiber.Ctx, status int, v *View) {
	s.fillView(c, v)
	v.Status = status
	if v.Title != "" && !v.NoTitleT {
		v.Title = v.L.T(v.Title)
	}
}

// send writes the page, the layout around body, straight into the response's own
// body buffer. (c.Send would not do for a pooled buffer: fasthttp keeps the slice it is
// given, without a copy, until the response has been written.)
func (s *Server) send(c *fiber.Ctx, status int, v *View, body Content) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Response().ResetBody()
	writelayout(c.Response().BodyWriter(), v, body)
	return nil
}

func (s *Server) fillView(c *fiber.Ctx, v *View) {
	v.Lang = Lang(c)
	v.L = s.opt.I18n.For(v.Lang)
	v.Languages = i18n.Supported
	v.User = CurrentUser(c)
	v.CSRF, _ = c.Locals(csrfLocal).(string)
	v.Path = c.Path()
	v.RequestID, _ = c.Locals("requestid").(string)
	if v.Flash == "" {
		s.takeFlash(c, v)
	}
}

// HasPage reports whether a page template exists (used by tests over every page).
func (s *Server) HasPage(name string) bool { _, ok := s.pages.pages[name]; return ok }

// Localizer returns the translator for the request's language.
func (s *Server) Localizer(c *fiber.Ctx) *i18n.Localizer { return s.opt.I18n.For(Lang(c)) }

// assets is what /static serves: static/assets only, never templates or translations.
func assets() fs.FS {
	sub, err := fs.Sub(static.FS, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Date, DateTime and ISO are how pages show times (the templates' date, datetime and
// iso functions; compiled templates call them directly).
func Date(t time.Time) string     { return t.Format("2006-01-02") }
func DateTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
func ISO(t time.Time) string      { return t.UTC().Format(time.RFC3339) }

// URL prepares a link built from data for an href attribute as html/template does:
// bytes outside the URL character set are percent-encoded (lower-case hex), then the
// result is HTML-escaped. For compiled templates: href="{%s= web.URL(x) %}".
func URL(s string) string { return escapeURL(s, "-._~!#$*,/:;=?@[]%&+") }

// QueryURL escapes a value placed in a link's query string (href="/login?next=…"):
// everything but letters, digits and -._~ is percent-encoded, as html/template does.
func QueryURL(s string) string { return escapeURL(s, "-._~") }

func escapeURL(s, keep string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte(keep, c) >= 0) && c != '&' && c != '+'
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b.WriteByte(c)
		case strings.IndexByte(keep, c) < 0:
			fmt.Fprintf(&b, "%%%02x", c)
		case c == '&':
			b.WriteString("&amp;")
		case c == '+':
			b.WriteString("&#43;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// SharedPage is a rendered response that any visitor may be sent: a page rendered for
// a visitor with a marker where the layout writes the CSRF token (SendShared splices
// in the requester's own token), or a JSON body. Caches of anonymous pages keep these.
type SharedPage struct {
	Status      int
	ContentType string
	parts       [][]byte // the body, split where the CSRF token goes
	size        int
}

// Size is the bytes the page holds.
func (p *SharedPage) Size() int { return p.size }

// csrfMarker stands for the CSRF token in shared pages: random per process and never
// sent out, so no content can contain it by design or by chance.
var csrfMarker = func() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "csrf-" + hex.EncodeToString(b)
}()

// Shareable reports whether the page of this request may be shared with other
// visitors: nobody is logged in and no flash message waits to be shown.
func Shareable(c *fiber.Ctx) bool {
	return CurrentUser(c) == nil && c.Cookies(flashCookie) == ""
}

// RenderShared renders a page as RenderContent would for this visitor, but keeps it
// (with its CSRF token left out) instead of sending it; send it with SendShared.
// Only for requests that are Shareable.
func (s *Server) RenderShared(c *fiber.Ctx, status int, v *View, body Content) *SharedPage {
	s.prepare(c, status, v)
	v.CSRF = csrfMarker
	return share(status, v, body)
}

// RenderViewShared is RenderShared for an html/template page (as RenderView).
func (s *Server) RenderViewShared(c *fiber.Ctx, status int, page string, v *View) (*SharedPage, error) {
	t, ok := s.pages.pages[page]
	if !ok {
		return nil, fmt.Errorf("web: no page template %q", page)
	}
	s.prepare(c, status, v)
	v.CSRF = csrfMarker
	bb := qt.AcquireByteBuffer()
	defer qt.ReleaseByteBuffer(bb)
	if err := t.ExecuteTemplate(bb, "content", v); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return share(status, v, htmlContent(bb.B)), nil
}

func share(status int, v *View, body Content) *SharedPage {
	bb := qt.AcquireByteBuffer()
	defer qt.ReleaseByteBuffer(bb)
	writelayout(bb, v, body)
	p := &SharedPage{Status: status, ContentType: fiber.MIMETextHTMLCharsetUTF8, size: len(bb.B)}
	for _, part := range bytes.Split(bb.B, []byte(csrfMarker)) {
		p.parts = append(p.parts, append([]byte(nil), part...))
	}
	return p
}

// JSONShared keeps a JSON body as a SharedPage.
func JSONShared(status int, body []byte) *SharedPage {
	return &SharedPage{Status: status, ContentType: fiber.MIMEApplicationJSON, parts: [][]byte{body}, size: len(body)}
}

// SendShared sends p, with the requester's CSRF token where the page had the marker.
func (s *Server) SendShared(c *fiber.Ctx, p *SharedPage) error {
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, p.ContentType)
	if len(p.parts) == 1 {
		return c.Send(p.parts[0]) // kept without a copy: a SharedPage never changes
	}
	token, _ := c.Locals(csrfLocal).(string)
	token = html.EscapeString(token)
	r := c.Response()
	r.ResetBody()
	for i, part := range p.parts {
		if i > 0 {
			r.AppendBodyString(token)
		}
		r.AppendBody(part)
	}
	return nil
}

package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

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

// renderer holds one parsed template set per page: layout + partials + the page.
type renderer struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"date":     func(t time.Time) string { return t.Format("2006-01-02") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
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

func newRenderer() (*renderer, error) {
	r := &renderer{pages: map[string]*template.Template{}}
	files, err := fs.Glob(static.FS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(static.FS,
			"templates/layout.html", "templates/partials/*.html", f)
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
	s.fillView(c, v)
	v.Status = status
	if v.Title != "" && !v.NoTitleT {
		v.Title = v.L.T(v.Title)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
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

package forum

//go:generate go run github.com/valyala/quicktemplate/qtc -dir=.

import (
	"fmt"
	"html/template"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/web"
)

// listView is what the threads template shows.
type listView struct {
	Mode       string
	Period     string
	Category   *Category
	Tag        string
	Categories []Category
	Page       *ListPage
	NextURL    string
	Reactions  []string
	CanPost    bool
	Home       bool
}

func (h *Handlers) home(c *fiber.Ctx) error {
	if web.Shareable(c) {
		return h.anon.serve(c, h.srv, anonKey(c), func() (*web.SharedPage, error) {
			view, err := h.homeView(c)
			if err != nil {
				return nil, err
			}
			return h.srv.RenderViewShared(c, fiber.StatusOK, "home", view)
		})
	}
	view, err := h.homeView(c)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "home", view)
}

func (h *Handlers) homeView(c *fiber.Ctx) (*web.View, error) {
	a := actor(c)
	cats, err := h.svc.VisibleCategories(c.UserContext(), a.Role)
	if err != nil {
		return nil, err
	}
	page, err := h.svc.List(c.UserContext(), a, ListQuery{Mode: ListLatest, After: c.Query("after")})
	if err != nil {
		return nil, err
	}
	v := &listView{Mode: ListLatest, Categories: cats, Page: page, Home: true, CanPost: a.Member()}
	if page.Next != "" {
		v.NextURL = "/latest?after=" + url.QueryEscape(page.Next)
	}
	return &web.View{Title: "home.title", Data: v, Canonical: h.baseURL + "/"}, nil
}

// anonKey is the anonymous cache's key of a page: everything its content depends on
// for a visitor (the language, the path, the page cursor).
func anonKey(c *fiber.Ctx) string {
	return "page|" + web.Lang(c) + "|" + c.Path() + "|" + c.Query("after")
}

// listPage serves /latest, /top, /unanswered, /c/:slug and /tag/:tag.
func (h *Handlers) listPage(mode string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if mode != ListTop && web.Shareable(c) { // top lists move with the clock: never cached
			return h.anon.serve(c, h.srv, anonKey(c), func() (*web.SharedPage, error) {
				view, d, err := h.listView(c, mode)
				if err != nil {
					return nil, err
				}
				return h.srv.RenderShared(c, fiber.StatusOK, view, &listPage{v: view, d: d}), nil
			})
		}
		view, d, err := h.listView(c, mode)
		if err != nil {
			return err
		}
		return h.srv.RenderContent(c, fiber.StatusOK, view, &listPage{v: view, d: d})
	}
}

func (h *Handlers) listView(c *fiber.Ctx, mode string) (*web.View, *listView, error) {
	a := actor(c)
	q := ListQuery{Mode: mode, Period: c.Query("period", "week"), After: c.Query("after"), Tag: c.Params("tag")}
	v := &listView{Mode: mode, Period: q.Period, Tag: q.Tag, CanPost: a.Member()}
	title, path := "list."+mode, c.Path()
	if mode == ListCategory {
		cat, err := h.svc.CategoryBySlug(c.UserContext(), a, c.Params("slug"))
		if err != nil {
			return nil, nil, err
		}
		q.CategoryID, v.Category = cat.ID, cat
		v.CanPost = cat.CanPost(a.Role)
	}
	page, err := h.svc.List(c.UserContext(), a, q)
	if err != nil {
		return nil, nil, err
	}
	v.Page = page
	if page.Next != "" {
		next := url.Values{"after": {page.Next}}
		if mode == ListTop {
			next.Set("period", q.Period)
		}
		v.NextURL = path + "?" + next.Encode()
	}
	view := &web.View{Title: title, Data: v, Canonical: h.baseURL + path}
	if v.Category != nil {
		view.Title, view.NoTitleT = v.Category.Label(web.Lang(c)), true
		view.Description = v.Category.Description
	}
	if mode == ListTag {
		view.Title, view.NoTitleT = "#"+q.Tag, true
	}
	return view, v, nil
}

// listPage and threadPage are the compiled pages (page_threads.qtpl, page_thread.qtpl):
// the layout's view and the page's own data.
type listPage struct {
	v *web.View
	d *listView
}

type threadPage struct {
	v *web.View
	d *threadData
}

// topPeriods are the choices of the top list, in the order the page offers them.
var topPeriods = []string{"day", "week", "month", "all"}

// TemplateFuncs gives the html/template pages (home, profile) the compiled thread rows
// and list tabs: {{threadrows $.L .Threads}}, {{listtabs $.L .Mode}}.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"threadrows": func(l *i18n.Localizer, ts []*Thread) template.HTML { return template.HTML(threadRows(l, ts)) },
		"listtabs":   func(l *i18n.Localizer, mode string) template.HTML { return template.HTML(listTabs(l, mode)) },
	}
}

// threadData is what the thread template shows.
type threadData struct {
	*ThreadView
	Reactions []string
	Emoji     map[string]string
	Key       string
	Viewer    int64
	Body      string
	ReplyTo   int64
	PageLinks []pageLink
}

type pageLink struct {
	N       int
	URL     string
	Current bool
}

func (h *Handlers) threadPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	v, err := h.svc.ThreadPage(c.UserContext(), a, id, c.QueryInt("page", 1))
	if err != nil {
		return err
	}
	if slug, _ := url.PathUnescape(c.Params("slug")); slug != v.Thread.Slug {
		// one canonical URL per thread: old or missing slugs redirect to it
		target := v.Thread.URL()
		if v.Page > 1 {
			target += fmt.Sprintf("?page=%d", v.Page)
		}
		return c.Redirect(target, fiber.StatusMovedPermanently)
	}
	return h.renderThread(c, v, nil)
}

func (h *Handlers) renderThread(c *fiber.Ctx, v *ThreadView, form *web.View) error {
	d := &threadData{ThreadView: v, Reactions: Reactions, Emoji: ReactionEmoji, Viewer: actor(c).ID}
	if v.CanReply {
		d.Key = newKey() // the reply form's idempotency key
	}
	for i := 1; i <= v.Pages; i++ {
		u := v.Thread.URL()
		if i > 1 {
			u += fmt.Sprintf("?page=%d", i)
		}
		d.PageLinks = append(d.PageLinks, pageLink{N: i, URL: u, Current: i == v.Page})
	}
	view := &web.View{Title: v.Thread.Title, NoTitleT: true, Data: d, Canonical: h.baseURL + v.Thread.URL()}
	status := fiber.StatusOK
	if form != nil {
		view.Errors, view.Error, view.Form = form.Errors, form.Error, form.Form
		d.Body = form.Form["body"]
		status = fiber.StatusUnprocessableEntity
	}
	if v.Page > 1 {
		view.Canonical += fmt.Sprintf("?page=%d", v.Page)
	}
	view.Description = v.Thread.Excerpt
	if view.Description == "" && v.FirstPost != nil { // threads written before excerpts were kept
		view.Description = h.svc.render.ExcerptHTML(v.FirstPost.BodyHTML, 160)
	}
	return h.srv.RenderContent(c, status, view, &threadPage{v: view, d: d})
}

func (h *Handlers) profilePage(c *fiber.Ctx) error {
	p, err := h.svc.Profile(c.UserContext(), actor(c), c.Params("handle"))
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "profile", &web.View{Title: p.DisplayName, NoTitleT: true, Data: p,
		Canonical: h.baseURL + "/u/" + url.PathEscape(p.Handle)})
}

// formError re-renders a compose page with the field errors of err (validation, or
// a refusal tied to a field such as a closed category), or hands any other error to
// the error handler.
func (h *Handlers) formError(c *fiber.Ctx, page string, view *web.View, err error) error {
	e := apperr.As(err)
	if e.Kind != apperr.Invalid && ((e.Kind != apperr.Forbidden && e.Kind != apperr.Conflict) || len(e.Fields) == 0) {
		return err
	}
	loc := h.srv.Localizer(c)
	view.Errors = map[string]string{}
	for f, id := range e.Fields {
		view.Errors[f] = loc.T(id)
	}
	view.Error = loc.T(e.MessageID)
	status := fiber.StatusUnprocessableEntity
	switch e.Kind {
	case apperr.Forbidden:
		status = fiber.StatusForbidden
	case apperr.Conflict:
		status = fiber.StatusConflict
	}
	return h.srv.RenderView(c, status, page, view)
}

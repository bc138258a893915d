package search

import (
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// Handlers are search's HTTP face: the JSON API, the search page, and the staff page
// for synonyms.
type Handlers struct {
	svc *Service
	srv *web.Server
}

// NewHandlers binds the search service to the web server.
func NewHandlers(svc *Service, srv *web.Server) *Handlers { return &Handlers{svc: svc, srv: srv} }

// Routes registers the API and pages. Every search runs with the asker's role: the
// service filters on it, so the handlers need no visibility checks of their own.
func (h *Handlers) Routes(app *fiber.App) {
	api := app.Group("/api/v1/search")
	api.Get("", h.apiSearch)
	api.Get("/suggest", h.apiSuggest)
	api.Get("/similar", h.apiSimilar)
	api.Get("/synonyms", web.RequireUser, h.apiSynonyms)
	api.Post("/synonyms", web.RequireUser, h.apiCreateSynonyms)
	api.Put("/synonyms/:id", web.RequireUser, h.apiUpdateSynonyms)
	api.Delete("/synonyms/:id", web.RequireUser, h.apiDeleteSynonyms)

	app.Get("/search", h.searchPage)
	// The same answers for the page's script, on the cookie session (the API takes
	// Bearer tokens only), so members get suggestions from every category they read.
	app.Get("/search/suggest", h.apiSuggest)
	app.Get("/search/similar", h.apiSimilar)
	staff := web.RequireRole("admin", "moderator", "marketer")
	app.Get("/admin/search/synonyms", staff, h.synonymsPage)
	app.Post("/admin/search/synonyms", staff, h.synonymsSubmit)
	app.Post("/admin/search/synonyms/:id", staff, h.synonymsSubmit)
}

func role(c *fiber.Ctx) string {
	if p := web.CurrentUser(c); p != nil {
		return p.Role
	}
	return ""
}

func userID(c *fiber.Ctx) int64 {
	if p := web.CurrentUser(c); p != nil {
		return p.ID
	}
	return 0
}

// parseQuery reads a search from the query string (API and page alike); category is
// a slug, dates are yyyy-mm-dd.
func (h *Handlers) parseQuery(c *fiber.Ctx) (Query, error) {
	f := apperr.Fields{}
	q := Query{Text: c.Query("q"), Kind: c.Query("kind"), Tag: c.Query("tag"), Status: c.Query("status"),
		Author: c.Query("author"), Sort: c.Query("sort"), Facets: ParseFacets(c.Query("facets"))}
	if slug := c.Query("category"); slug != "" {
		id, err := h.svc.CategoryID(c.UserContext(), role(c), slug)
		if apperr.Is(err, apperr.Invalid) {
			f.Add("category", "search.err.category")
		} else if err != nil {
			return q, err
		}
		q.CategoryID = id
	}
	switch c.Query("solved") {
	case "":
	case "true", "1", "yes":
		b := true
		q.Solved = &b
	case "false", "0", "no":
		b := false
		q.Solved = &b
	default:
		f.Add("solved", "search.err.solved")
	}
	var err error
	if q.From, err = ParseDate(c.Query("from"), false); err != nil {
		f.Add("from", "search.err.date")
	}
	if q.To, err = ParseDate(c.Query("to"), true); err != nil {
		f.Add("to", "search.err.date")
	}
	for name, dst := range map[string]*int{"page": &q.Page, "per_page": &q.PerPage} {
		if s := c.Query(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				f.Add(name, "search.err."+name)
			}
			*dst = n
		}
	}
	return q, f.Err()
}

func (h *Handlers) apiSearch(c *fiber.Ctx) error {
	q, err := h.parseQuery(c)
	if err != nil {
		return err
	}
	if c.Query("facets") == "" {
		q.Facets = slices.Clone(APIFacets)
	}
	res, err := h.svc.Search(c.UserContext(), role(c), web.Lang(c), q)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// suggestion is one header suggestion: a title and where it leads.
type suggestion struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	TitleHTML string `json:"title_html"`
	URL       string `json:"url"`
	Solved    bool   `json:"solved"`
}

func compact(res *Results) fiber.Map {
	out := make([]suggestion, len(res.Hits))
	for i, hit := range res.Hits {
		out[i] = suggestion{ID: hit.ID, Title: hit.Title, TitleHTML: hit.TitleHTML, URL: hit.URL, Solved: hit.Solved}
	}
	return fiber.Map{"hits": out, "engine": res.Engine, "degraded": res.Degraded}
}

func (h *Handlers) apiSuggest(c *fiber.Ctx) error {
	res, err := h.svc.Suggest(c.UserContext(), role(c), c.Query("q"))
	if err != nil {
		return err
	}
	return c.JSON(compact(res))
}

func (h *Handlers) apiSimilar(c *fiber.Ctx) error {
	res, err := h.svc.Similar(c.UserContext(), role(c), c.Query("title"))
	if err != nil {
		return err
	}
	return c.JSON(compact(res))
}

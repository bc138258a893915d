package search

import (
	"html/template"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/web"
)

// formFields are the query-string parameters the search page keeps from one request
// to the next (facet links, pagination).
var formFields = []string{"q", "kind", "category", "tag", "status", "solved", "author", "from", "to", "sort", "per_page"}

type pageData struct {
	Searched   bool
	Results    *Results
	Hits       []hitView
	Categories []Category
	Kinds      []option
	Statuses   []option
	Sorts      []option
	Facets     []facetGroup
	Pages      []pageLink
	PrevURL    string
	NextURL    string
	Degraded   bool
}

// hitView is a hit with its highlighted HTML typed as safe: markedHTML escaped
// everything but the <mark> elements it added.
type hitView struct {
	Hit
	TitleHTML   template.HTML
	SnippetHTML template.HTML
	Category    string
}

type option struct{ Value, Label string }

type facetGroup struct {
	Label  string
	Values []facetLink
}

type facetLink struct {
	Label  string
	Count  int64
	URL    string
	Active bool
}

type pageLink struct {
	N       int
	URL     string
	Current bool
}

func (h *Handlers) searchPage(c *fiber.Ctx) error {
	ctx, r, lang := c.UserContext(), role(c), web.Lang(c)
	loc := h.srv.Localizer(c)
	form := map[string]string{}
	vals := url.Values{}
	searched := false
	for _, k := range formFields {
		if v := c.Query(k); v != "" {
			form[k] = v
			vals.Set(k, v)
			searched = searched || (k != "sort" && k != "per_page")
		}
	}
	cats, err := h.svc.ReadableCategories(ctx, r, lang)
	if err != nil {
		return err
	}
	d := &pageData{Categories: cats, Kinds: options(loc, "search.kind_", Kinds),
		Statuses: options(loc, "search.status_", Statuses),
		Sorts:    options(loc, "search.sort_", []string{SortRelevance, SortNewest, SortVotes}),
		Degraded: h.svc.Engine() != "meilisearch"}
	view := &web.View{Title: "search.title", Data: d, Form: form}
	if !searched {
		return h.srv.RenderView(c, fiber.StatusOK, "search", view)
	}
	q, err := h.parseQuery(c)
	var res *Results
	if err == nil {
		res, err = h.svc.Search(ctx, r, lang, q)
	}
	if err != nil {
		fields, summary, ok := h.srv.FieldErrors(c, err)
		if !ok {
			return err
		}
		view.Errors, view.Error = fields, summary
		return h.srv.RenderView(c, fiber.StatusUnprocessableEntity, "search", view)
	}
	d.Searched, d.Results, d.Degraded = true, res, res.Degraded
	slugs := map[string]string{}
	names := map[int64]string{}
	for _, cat := range cats {
		slugs[strconv.FormatInt(cat.ID, 10)] = cat.Slug
		names[cat.ID] = cat.Label
	}
	for _, hit := range res.Hits {
		d.Hits = append(d.Hits, hitView{Hit: hit, TitleHTML: template.HTML(hit.TitleHTML),
			SnippetHTML: template.HTML(hit.SnippetHTML), Category: names[hit.CategoryID]})
	}
	link := func(set map[string]string) string {
		v := url.Values{}
		for k, vs := range vals {
			v[k] = vs
		}
		for k, s := range set {
			if s == "" {
				v.Del(k)
			} else {
				v.Set(k, s)
			}
		}
		return "/search?" + v.Encode()
	}
	facet := func(labelID, param string, values []FacetValue, label func(FacetValue) string, value func(FacetValue) string) {
		g := facetGroup{Label: loc.T(labelID)}
		for _, f := range values {
			val := value(f)
			active := vals.Get(param) == val
			if active {
				val = "" // the active value's link removes the filter
			}
			g.Values = append(g.Values, facetLink{Label: label(f), Count: f.Count, Active: active,
				URL: link(map[string]string{param: val, "page": ""})})
		}
		if len(g.Values) > 0 {
			d.Facets = append(d.Facets, g)
		}
	}
	self := func(f FacetValue) string { return f.Value }
	facet("search.kind", "kind", res.Facets.Kind, func(f FacetValue) string { return loc.T("search.kind_" + f.Value) }, self)
	facet("search.category", "category", res.Facets.Category, func(f FacetValue) string { return f.Label },
		func(f FacetValue) string { return slugs[f.Value] })
	facet("search.status", "status", res.Facets.Status, func(f FacetValue) string { return loc.T("search.status_" + f.Value) }, self)
	facet("search.tag", "tag", res.Facets.Tags, func(f FacetValue) string { return "#" + f.Value }, self)
	for i := max(1, res.Page-4); i <= min(res.Pages, res.Page+5); i++ {
		d.Pages = append(d.Pages, pageLink{N: i, URL: link(map[string]string{"page": strconv.Itoa(i)}), Current: i == res.Page})
	}
	if res.Page > 1 {
		d.PrevURL = link(map[string]string{"page": strconv.Itoa(res.Page - 1)})
	}
	if res.Page < res.Pages {
		d.NextURL = link(map[string]string{"page": strconv.Itoa(res.Page + 1)})
	}
	return h.srv.RenderView(c, fiber.StatusOK, "search", view)
}

func options(loc *i18n.Localizer, prefix string, values []string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: loc.T(prefix + v)}
	}
	return out
}

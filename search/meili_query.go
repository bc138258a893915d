package search

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/meilisearch/meilisearch-go"
)

// facetField is the document field behind each of FacetGroups.
var facetField = map[string]string{"kind": "kind", "category": "category_id", "tags": "tags", "status": "status"}

// pinned is the one value q's filters leave a single-valued facet group, or "": a
// facet Meilisearch need not count per value, since every match has that value.
// (Counting the category of a category search was an eighth of a broad query's cost.)
func (q *Query) pinned(g string) string {
	switch {
	case g == "kind" && q.Kind != "":
		return q.Kind
	case g == "category" && q.CategoryID > 0:
		return strconv.FormatInt(q.CategoryID, 10)
	case g == "status" && q.Status != "":
		return q.Status
	}
	return ""
}

// meiliFacets are the fields Meilisearch counts for q: the groups asked for and not
// pinned, and kind whenever a pinned group needs its count.
func meiliFacets(q *Query) []string {
	var out []string
	pinned := false
	for _, g := range FacetGroups {
		switch {
		case !q.wantsFacet(g):
		case q.pinned(g) != "":
			pinned = true
		default:
			out = append(out, facetField[g])
		}
	}
	// A pinned value's count is the number of matches, which total is not (it stops at
	// MaxHits): every document has one kind, so it is the sum of the kind counts, and
	// kind, with its two values, costs Meilisearch next to nothing to count.
	if pinned && !slices.Contains(out, "kind") {
		out = append(out, "kind")
	}
	return out
}

// hitAttributes are the stored fields a result shows.
var hitAttributes = []string{"id", "kind", "type", "ref_id", "thread_id", "title", "url", "category_id", "tags",
	"status", "solved", "author", "author_name", "created_at", "score", "replies"}

// filterQuote makes s a Meilisearch filter string literal.
func filterQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// visibilityFilter is the filter every query carries: the viewer's read roles, and no
// category the viewer may not read. A query pinned to one readable category needs no
// list of denied ones (its category filter already excludes them, and each filter
// costs Meilisearch a pass over its bitmaps); a denied one keeps the list, and finds
// nothing.
func visibilityFilter(v Viewer, category int64) []string {
	if v.All() {
		return nil
	}
	toks := v.Tokens()
	q := make([]string, len(toks))
	for i, t := range toks {
		q[i] = filterQuote(t)
	}
	out := []string{"read_roles IN [" + strings.Join(q, ", ") + "]"}
	if len(v.DeniedCategories) > 0 && (category == 0 || slices.Contains(v.DeniedCategories, category)) {
		ids := make([]string, len(v.DeniedCategories))
		for i, id := range v.DeniedCategories {
			ids[i] = strconv.FormatInt(id, 10)
		}
		out = append(out, "category_id NOT IN ["+strings.Join(ids, ", ")+"]")
	}
	return out
}

// filters is the AND of the visibility filter and the query's own filters.
func filters(q *Query, v Viewer) []string {
	f := visibilityFilter(v, q.CategoryID)
	add := func(field, value string) { f = append(f, field+" = "+filterQuote(value)) }
	if q.mode != modeFull {
		add("kind", "thread")
	} else if q.Kind != "" {
		add("kind", q.Kind)
	}
	if q.CategoryID > 0 {
		f = append(f, "category_id = "+strconv.FormatInt(q.CategoryID, 10))
	}
	if q.Tag != "" {
		add("tags", q.Tag)
	}
	if q.Status != "" {
		add("status", q.Status)
	}
	if q.Solved != nil {
		f = append(f, "solved = "+strconv.FormatBool(*q.Solved))
	}
	if q.Author != "" {
		add("author", q.Author)
	}
	if q.From != nil {
		f = append(f, "created_at >= "+strconv.FormatInt(q.From.Unix(), 10))
	}
	if q.To != nil {
		f = append(f, "created_at <= "+strconv.FormatInt(q.To.Unix(), 10))
	}
	return f
}

func (b *meiliBackend) request(q *Query, v Viewer) *meilisearch.SearchRequest {
	r := &meilisearch.SearchRequest{
		Filter:           filters(q, v),
		HighlightPreTag:  markPre,
		HighlightPostTag: markPost,
	}
	switch q.mode {
	case modeSuggest:
		r.Limit = SuggestLimit
		r.AttributesToSearchOn = []string{"title"}
		r.AttributesToHighlight = []string{"title"}
		r.AttributesToRetrieve = []string{"id", "kind", "title", "url", "solved", "status", "type", "ref_id"}
	case modeSimilar:
		// Twice the answer, so solved questions among the close matches come first.
		r.Limit = SimilarLimit * 2
		r.MatchingStrategy = meilisearch.Frequency
		r.AttributesToHighlight = []string{"title"}
		r.AttributesToRetrieve = []string{"id", "kind", "title", "url", "solved", "status", "type", "ref_id", "replies", "created_at"}
	default:
		per := int64(q.PerPage)
		r.HitsPerPage, r.Page = &per, int64(q.Page)
		r.Facets = meiliFacets(q)
		r.AttributesToHighlight = []string{"title", "body"}
		r.AttributesToCrop = []string{"body"}
		r.CropLength = 28
		r.CropMarker = "…"
		// Not the body: its cropped, highlighted part comes in _formatted anyway.
		r.AttributesToRetrieve = hitAttributes
		// An explicit order comes first (the "sort" rule leads the ranking rules), so
		// it only considers documents that match every word.
		switch {
		case q.Sort == SortNewest || (q.Sort == SortRelevance && q.Text == ""):
			r.Sort = []string{"created_at:desc"}
			r.MatchingStrategy = meilisearch.All
		case q.Sort == SortVotes:
			r.Sort = []string{"score:desc", "created_at:desc"}
			r.MatchingStrategy = meilisearch.All
		}
	}
	return r
}

// meiliAnswer is the part of Meilisearch's answer Hearth reads, decoded in one pass
// (json v2, which validates as it decodes, in about half of encoding/json's time):
// the client's generic hits (maps of raw values, each decoded again) cost Hearth more
// CPU per search than everything else it does, and under load that CPU is taken
// from Meilisearch on the same machine.
type meiliAnswer struct {
	Hits              []meiliHit                  `json:"hits"`
	TotalHits         int64                       `json:"totalHits"`
	TotalPages        int64                       `json:"totalPages"`
	FacetDistribution map[string]map[string]int64 `json:"facetDistribution"`
}

// meiliHit is a document with its highlighted, cropped fields.
type meiliHit struct {
	Document
	Formatted struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"_formatted"`
}

func (b *meiliBackend) Search(ctx context.Context, q *Query, v Viewer) (*Results, error) {
	var ans meiliAnswer
	raw, err := b.c.Meili.Index(b.index).SearchRawWithContext(ctx, q.Text, b.request(q, v))
	if err == nil {
		if err = jsonv2.Unmarshal(*raw, &ans); err != nil {
			return nil, fmt.Errorf("search: decode meilisearch answer: %w", err)
		}
	} else if isNotFound(err) {
		// Nothing indexed yet (a fresh install before its first outbox row): no hits.
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("search: meilisearch query: %w", err)
	}
	out := &Results{Query: q.Text, Sort: q.Sort, Page: q.Page, PerPage: q.PerPage, Engine: b.Name(),
		Total: ans.TotalHits, Pages: int(ans.TotalPages), Hits: make([]Hit, 0, len(ans.Hits))}
	if q.mode != modeFull {
		out.Total = int64(len(ans.Hits))
	}
	for i := range ans.Hits {
		out.Hits = append(out.Hits, ans.Hits[i].hit())
	}
	if q.mode == modeSimilar {
		out.Hits = solvedFirst(out.Hits, SimilarLimit)
		out.Total = int64(len(out.Hits))
	}
	if q.mode == modeFull {
		out.Facets = facetsOf(q, ans.FacetDistribution)
	}
	return out, nil
}

// facetsOf reads the facet groups q asked for from Meilisearch's counts; a pinned
// group holds its one value with the number of matches.
func facetsOf(q *Query, dist map[string]map[string]int64) Facets {
	var matches int64
	for _, n := range dist["kind"] {
		matches += n
	}
	group := func(g string) []FacetValue {
		if !q.wantsFacet(g) {
			return nil
		}
		if p := q.pinned(g); p != "" {
			if matches == 0 {
				return []FacetValue{}
			}
			return []FacetValue{{Value: p, Count: matches}}
		}
		return facetValues(dist[facetField[g]])
	}
	return Facets{Kind: group("kind"), Category: group("category"), Tags: group("tags"), Status: group("status")}
}

// hit is the result for h: its highlighted title and snippet where Meilisearch
// formatted them, else the escaped plain title.
func (h *meiliHit) hit() Hit {
	out := hitOf(&h.Document)
	title := h.Formatted.Title
	if title == "" {
		title = h.Title
	}
	out.TitleHTML = markedHTML(title)
	if h.Formatted.Body != "" {
		out.SnippetHTML = markedHTML(h.Formatted.Body)
	}
	return out
}

// hitOf is a hit without highlights: its caller sets TitleHTML.
func hitOf(d *Document) Hit {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return Hit{ID: d.ID, Kind: d.Kind, Type: d.Type, RefID: d.RefID, ThreadID: d.ThreadID,
		Title: d.Title, URL: d.URL, CategoryID: d.CategoryID,
		Tags: tags, Status: d.Status, Solved: d.Solved, Author: d.Author, AuthorName: d.AuthorName,
		CreatedAt: time.Unix(d.CreatedAt, 0).UTC(), Score: d.Score, Replies: d.Replies}
}

// solvedFirst keeps the relevance order but moves solved questions ahead, then cuts.
func solvedFirst(hits []Hit, n int) []Hit {
	slices.SortStableFunc(hits, func(a, b Hit) int {
		switch {
		case a.Solved == b.Solved:
			return 0
		case a.Solved:
			return -1
		}
		return 1
	})
	return hits[:min(n, len(hits))]
}

// facetValues orders a facet by count, then value.
func facetValues(m map[string]int64) []FacetValue {
	out := make([]FacetValue, 0, len(m))
	for v, n := range m {
		out = append(out, FacetValue{Value: v, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

package search

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// facetFields are the facets the search page shows, with their counts.
var facetFields = []string{"kind", "category_id", "tags", "status"}

// hitAttributes are the stored fields a result shows.
var hitAttributes = []string{"id", "kind", "type", "ref_id", "thread_id", "title", "url", "category_id", "tags",
	"status", "solved", "author", "author_name", "created_at", "score", "replies"}

// filterQuote makes s a Meilisearch filter string literal.
func filterQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// visibilityFilter is the filter every query carries: the viewer's read roles, and no
// category the viewer may not read.
func visibilityFilter(v Viewer) []string {
	if v.All() {
		return nil
	}
	toks := v.Tokens()
	q := make([]string, len(toks))
	for i, t := range toks {
		q[i] = filterQuote(t)
	}
	out := []string{"read_roles IN [" + strings.Join(q, ", ") + "]"}
	if len(v.DeniedCategories) > 0 {
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
	f := visibilityFilter(v)
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
		r.Facets = facetFields
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

func (b *meiliBackend) Search(ctx context.Context, q *Query, v Viewer) (*Results, error) {
	res, err := b.c.Meili.Index(b.index).SearchWithContext(ctx, q.Text, b.request(q, v))
	if isNotFound(err) {
		// Nothing indexed yet (a fresh install before its first outbox row): no hits.
		res, err = &meilisearch.SearchResponse{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("search: meilisearch query: %w", err)
	}
	out := &Results{Query: q.Text, Sort: q.Sort, Page: q.Page, PerPage: q.PerPage, Engine: b.Name(),
		Total: res.TotalHits, Pages: int(res.TotalPages), Hits: make([]Hit, 0, len(res.Hits))}
	if q.mode != modeFull {
		out.Total = int64(len(res.Hits))
	}
	for _, raw := range res.Hits {
		h, err := decodeHit(raw)
		if err != nil {
			return nil, err
		}
		out.Hits = append(out.Hits, h)
	}
	if q.mode == modeSimilar {
		out.Hits = solvedFirst(out.Hits, SimilarLimit)
		out.Total = int64(len(out.Hits))
	}
	if len(res.FacetDistribution) > 0 {
		var dist map[string]map[string]int64
		if err := json.Unmarshal(res.FacetDistribution, &dist); err != nil {
			return nil, fmt.Errorf("search: facets: %w", err)
		}
		out.Facets = Facets{Kind: facetValues(dist["kind"]), Category: facetValues(dist["category_id"]),
			Tags: facetValues(dist["tags"]), Status: facetValues(dist["status"])}
	}
	return out, nil
}

// decodeHit reads one hit with its _formatted (highlighted, cropped) fields.
func decodeHit(raw meilisearch.Hit) (Hit, error) {
	var d Document
	var f struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	err := raw.DecodeInto(&d)
	if fr, ok := raw["_formatted"]; ok && err == nil {
		err = json.Unmarshal(fr, &f)
	}
	if err != nil {
		return Hit{}, fmt.Errorf("search: decode hit: %w", err)
	}
	h := hitOf(&d)
	if f.Title != "" {
		h.TitleHTML = markedHTML(f.Title)
	}
	if f.Body != "" {
		h.SnippetHTML = markedHTML(f.Body)
	}
	return h, nil
}

// hitOf is a hit without highlights (escaped plain title).
func hitOf(d *Document) Hit {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return Hit{ID: d.ID, Kind: d.Kind, Type: d.Type, RefID: d.RefID, ThreadID: d.ThreadID,
		Title: d.Title, TitleHTML: markedHTML(d.Title), URL: d.URL, CategoryID: d.CategoryID,
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

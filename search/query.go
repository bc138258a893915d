package search

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearth-community/hearth/internal/apperr"
)

// Viewer is who asks, as far as visibility goes.
type Viewer struct {
	// Role is the asker's role; "" for a visitor.
	Role string
	// DeniedCategories are the categories Role may not read, read fresh from the
	// database: a guard that holds even before documents catch up with a category
	// whose read roles were just narrowed.
	DeniedCategories []int64
}

// All reports whether the viewer may read everything that is indexed (admins, as in
// the forum's CanRead).
func (v Viewer) All() bool { return v.Role == "admin" }

// Tokens are the ReadRoles values that let the viewer read a document.
func (v Viewer) Tokens() []string {
	if v.Role == "" {
		return []string{Everyone}
	}
	return []string{Everyone, v.Role}
}

// Sort orders of results.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
	SortVotes     = "votes"
)

// mode is what a query is for: the search page, header suggestions, or similar
// threads while composing.
type mode int

const (
	modeFull mode = iota
	modeSuggest
	modeSimilar
)

// Query is one search request.
type Query struct {
	Text       string     `json:"q"`
	Kind       string     `json:"kind,omitempty"`
	CategoryID int64      `json:"category_id,omitempty"`
	Tag        string     `json:"tag,omitempty"`
	Status     string     `json:"status,omitempty"`
	Solved     *bool      `json:"solved,omitempty"`
	Author     string     `json:"author,omitempty"`
	From       *time.Time `json:"from,omitempty"`
	// To is inclusive: the whole day when it comes from a date.
	To      *time.Time `json:"to,omitempty"`
	Sort    string     `json:"sort"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
	// Facets are the facet groups to count (FacetGroups); nil counts all of them and
	// an empty list none. Counting is most of what a broad query costs Meilisearch, so
	// a client that shows no facets can skip it.
	Facets []string `json:"facets,omitempty"`
	mode   mode
}

// FacetGroups are the facets a search can count, as the API names them.
var FacetGroups = []string{"kind", "category", "tags", "status"}

// APIFacets are the groups GET /api/v1/search counts when the request has no facets
// parameter: all but tags. The tag counts are the dearest group for Meilisearch (a
// sixth of a category search's time at concurrency 8, where kind and status cost next
// to nothing), so a client that shows them asks for them (facets=kind,category,tags,status);
// the search page always shows them and counts all four.
var APIFacets = []string{"kind", "category", "status"}

// wantsFacet reports whether q asks for the facet group g.
func (q *Query) wantsFacet(g string) bool {
	return q.mode == modeFull && (q.Facets == nil || slices.Contains(q.Facets, g))
}

// ParseFacets reads the facets parameter: "" (all), "none", or a comma-separated list
// of FacetGroups (Normalize rejects unknown ones).
func ParseFacets(s string) []string {
	switch s {
	case "":
		return nil
	case "none":
		return []string{}
	}
	out := []string{}
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// Limits of a query.
const (
	MaxQueryRunes  = 200
	DefaultPerPage = 20
	MaxPerPage     = 50
	// MaxHits is how deep pagination goes (Meilisearch's maxTotalHits).
	MaxHits = 1000
	// SuggestLimit and SimilarLimit size the two compact answers.
	SuggestLimit = 8
	SimilarLimit = 5
)

// Kinds documents may have; Statuses their lifecycles.
var (
	Kinds    = []string{"thread", "post"}
	Statuses = []string{"open", "unsolved", "solved"}
)

// Normalize trims and defaults q and reports field problems as an Invalid error.
func (q *Query) Normalize() error {
	f := apperr.Fields{}
	q.Text = strings.Join(strings.Fields(stripMarks(q.Text)), " ")
	if utf8.RuneCountInString(q.Text) > MaxQueryRunes {
		f.Add("q", "search.err.query_long")
	}
	q.Tag = strings.ToLower(strings.TrimSpace(q.Tag))
	q.Author = strings.TrimPrefix(strings.TrimSpace(q.Author), "@")
	if q.Kind != "" && !slices.Contains(Kinds, q.Kind) {
		f.Add("kind", "search.err.kind")
	}
	if q.Status != "" && !slices.Contains(Statuses, q.Status) {
		f.Add("status", "search.err.status")
	}
	for _, g := range q.Facets {
		if !slices.Contains(FacetGroups, g) {
			f.Add("facets", "search.err.facets")
			break
		}
	}
	switch q.Sort {
	case "":
		q.Sort = SortRelevance
	case SortRelevance, SortNewest, SortVotes:
	default:
		f.Add("sort", "search.err.sort")
	}
	if q.From != nil && q.To != nil && q.To.Before(*q.From) {
		f.Add("to", "search.err.dates")
	}
	if q.PerPage == 0 {
		q.PerPage = DefaultPerPage
	}
	if q.PerPage < 1 || q.PerPage > MaxPerPage {
		f.Add("per_page", "search.err.per_page")
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Page < 1 || (q.PerPage > 0 && q.Page*q.PerPage > MaxHits+q.PerPage) {
		f.Add("page", "search.err.page")
	}
	return f.Err()
}

// ParseDate reads a yyyy-mm-dd date (UTC); end moves it to the last second of the day.
func ParseDate(s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, err
	}
	if end {
		t = t.Add(24*time.Hour - time.Second)
	}
	return &t, nil
}

// Results is one page of answers.
type Results struct {
	Query   string `json:"q"`
	Hits    []Hit  `json:"hits"`
	Total   int64  `json:"total"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	Pages   int    `json:"pages"`
	Sort    string `json:"sort"`
	Facets  Facets `json:"facets"`
	// Engine is the backend that answered; Degraded is true for the PostgreSQL
	// fallback, whose ranking is simpler and which tolerates no typos.
	Engine   string `json:"engine"`
	Degraded bool   `json:"degraded"`
}

// Hit is one result. TitleHTML and SnippetHTML are safe HTML: everything escaped but
// the <mark> elements around the words that matched.
type Hit struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Type        string    `json:"type"`
	RefID       int64     `json:"ref_id"`
	ThreadID    int64     `json:"thread_id"`
	Title       string    `json:"title"`
	TitleHTML   string    `json:"title_html"`
	SnippetHTML string    `json:"snippet_html"`
	URL         string    `json:"url"`
	CategoryID  int64     `json:"category_id"`
	Tags        []string  `json:"tags"`
	Status      string    `json:"status"`
	Solved      bool      `json:"solved"`
	Author      string    `json:"author"`
	AuthorName  string    `json:"author_name"`
	CreatedAt   time.Time `json:"created_at"`
	Score       int       `json:"score"`
	Replies     int       `json:"replies"`
}

// Facets count the matching documents per value of the filterable fields.
type Facets struct {
	Kind     []FacetValue `json:"kind"`
	Category []FacetValue `json:"category"`
	Tags     []FacetValue `json:"tags"`
	Status   []FacetValue `json:"status"`
}

// FacetValue is one value with its count; Label is filled for categories.
type FacetValue struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Count int64  `json:"count"`
}

func pages(total int64, per int) int {
	if total > MaxHits {
		total = MaxHits
	}
	return int((total + int64(per) - 1) / int64(per))
}

package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/db"
)

// where is the fallback's filter: the same visibility rule and filters as the
// Meilisearch query, in SQL with bound parameters.
func pgWhere(q *Query, v Viewer, tsq string) (string, []any) {
	conds := []string{"TRUE"}
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if !v.All() {
		add("read_roles && ?", pq.StringArray(v.Tokens()))
		if len(v.DeniedCategories) > 0 {
			add("NOT (category_id = ANY(?))", pq.Int64Array(v.DeniedCategories))
		}
	}
	if tsq != "" {
		add("tsv @@ to_tsquery('english', ?)", tsq)
	}
	if q.mode != modeFull {
		add("kind = 'thread'")
	} else if q.Kind != "" {
		add("kind = ?", q.Kind)
	}
	if q.CategoryID > 0 {
		add("category_id = ?", q.CategoryID)
	}
	if q.Tag != "" {
		add("tags @> ?", pq.StringArray{q.Tag})
	}
	if q.Status != "" {
		add("status = ?", q.Status)
	}
	if q.Solved != nil {
		add("(status = 'solved') = ?", *q.Solved)
	}
	if q.Author != "" {
		add("author = ?", q.Author)
	}
	if q.From != nil {
		add("created_at >= ?", *q.From)
	}
	if q.To != nil {
		add("created_at <= ?", *q.To)
	}
	return strings.Join(conds, " AND "), args
}

func (b *pgBackend) Search(ctx context.Context, q *Query, v Viewer) (*Results, error) {
	op, prefix := "&", false
	switch q.mode {
	case modeSuggest:
		prefix = true
	case modeSimilar:
		op = "|"
	}
	tsq := tsquery(q.Text, op, prefix)
	where, args := pgWhere(q, v, tsq)
	order := "created_at DESC, id"
	switch {
	case q.Sort == SortVotes:
		order = "score DESC, created_at DESC, id"
	case tsq != "" && q.Sort != SortNewest:
		order = "ts_rank_cd(tsv, to_tsquery('english', ?)) DESC, created_at DESC, id"
	}
	limit, offset := q.PerPage, (q.Page-1)*q.PerPage
	switch q.mode {
	case modeSuggest:
		limit, offset = SuggestLimit, 0
	case modeSimilar:
		limit, offset = SimilarLimit*2, 0
	}
	qargs := append([]any{}, args...)
	if strings.HasPrefix(order, "ts_rank") {
		qargs = append(qargs, tsq)
	}
	var raws []string
	conn := db.Conn(ctx, b.db)
	err := conn.Raw(`SELECT doc::text FROM search_documents WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(qargs, limit, offset)...).Scan(&raws).Error
	if err != nil {
		return nil, fmt.Errorf("search: postgres query: %w", err)
	}
	out := &Results{Query: q.Text, Sort: q.Sort, Page: q.Page, PerPage: q.PerPage, Engine: b.Name(),
		Degraded: true, Hits: make([]Hit, 0, len(raws))}
	words := terms(q.Text)
	for _, raw := range raws {
		var d Document
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return nil, fmt.Errorf("search: decode document: %w", err)
		}
		h := hitOf(&d)
		h.TitleHTML = markedHTML(markTerms(d.Title, words))
		if q.mode == modeFull {
			h.SnippetHTML = markedHTML(markTerms(snippet(d.Body, words), words))
		}
		out.Hits = append(out.Hits, h)
	}
	if q.mode == modeSimilar {
		out.Hits = solvedFirst(out.Hits, SimilarLimit)
	}
	out.Total = int64(len(out.Hits))
	if q.mode == modeFull {
		if err := b.facets(ctx, q, where, args, out); err != nil {
			return nil, err
		}
		out.Pages = pages(out.Total, q.PerPage)
	}
	return out, nil
}

// facets counts the matches per kind, category, status and tag in one statement;
// the kind counts add up to the total, so it runs even when q shows no facets.
func (b *pgBackend) facets(ctx context.Context, q *Query, where string, args []any, out *Results) error {
	var rows []struct {
		F string
		V string
		N int64
	}
	all := append(append(append(append([]any{}, args...), args...), args...), args...)
	m := `(SELECT kind, category_id, status, tags FROM search_documents WHERE ` + where + `)`
	err := db.Conn(ctx, b.db).Raw(`
		SELECT 'kind' AS f, kind AS v, count(*) AS n FROM `+m+` a GROUP BY kind
		UNION ALL SELECT 'category', category_id::text, count(*) FROM `+m+` b GROUP BY category_id
		UNION ALL SELECT 'status', status, count(*) FROM `+m+` c GROUP BY status
		UNION ALL SELECT 'tags', t, count(*) FROM `+m+` d, unnest(d.tags) t GROUP BY t`, all...).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("search: postgres facets: %w", err)
	}
	maps := map[string]map[string]int64{"kind": {}, "category": {}, "status": {}, "tags": {}}
	out.Total = 0
	for _, r := range rows {
		maps[r.F][r.V] = r.N
		if r.F == "kind" {
			out.Total += r.N
		}
	}
	group := func(g string) []FacetValue {
		if !q.wantsFacet(g) {
			return nil
		}
		return facetValues(maps[g])
	}
	out.Facets = Facets{Kind: group("kind"), Category: group("category"), Status: group("status"), Tags: group("tags")}
	return nil
}

// snippet is about 160 characters of body around the first term found.
func snippet(body string, words []term) string {
	runes := []rune(body)
	lower := lowerRunes(runes)
	at := -1
	for _, w := range words {
		if i := runeIndex(lower, []rune(w.text)); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	start := max(0, at-50)
	end := min(len(runes), start+160)
	s := string(runes[start:end])
	if start > 0 {
		s = "…" + s
	}
	if end < len(runes) {
		s += "…"
	}
	return s
}

func runeIndex(s, sub []rune) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}

// markTerms wraps every case-insensitive occurrence of the terms in highlight marks.
func markTerms(s string, words []term) string {
	if len(words) == 0 {
		return s
	}
	runes := []rune(s)
	lower := lowerRunes(runes)
	hit := make([]bool, len(runes))
	for _, w := range words {
		wr := []rune(w.text)
		for i := 0; i+len(wr) <= len(lower); i++ {
			if len(wr) > 0 && string(lower[i:i+len(wr)]) == string(wr) {
				for j := i; j < i+len(wr); j++ {
					hit[j] = true
				}
			}
		}
	}
	var b strings.Builder
	for i, r := range runes {
		if hit[i] && (i == 0 || !hit[i-1]) {
			b.WriteString(markPre)
		}
		b.WriteRune(r)
		if hit[i] && (i == len(runes)-1 || !hit[i+1]) {
			b.WriteString(markPost)
		}
	}
	return b.String()
}

// lowerRunes lower-cases rune by rune, so indexes match the original runes.
func lowerRunes(rs []rune) []rune {
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[i] = unicode.ToLower(r)
	}
	return out
}

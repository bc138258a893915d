package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// Index is the name (before the client's prefix) of the one index every kind shares:
// one query ranks threads, replies and later ideas and offers together, with facets
// counted across kinds, and one swap replaces all of it on reindex.
const Index = "content"

// settings are the index settings Hearth keeps in step from code; synonyms come from
// the staff-managed table.
func settings(synonyms map[string][]string) *meilisearch.Settings {
	if synonyms == nil {
		synonyms = map[string][]string{}
	}
	return &meilisearch.Settings{
		// "sort" first: a query that asks for newest or most voted gets exactly that
		// order (relevance breaks ties); without a sort parameter the rule is inert and
		// Meilisearch's default relevance rules apply, then votes as the last tie-breaker.
		RankingRules:         []string{"sort", "words", "typo", "proximity", "attribute", "exactness", "score:desc"},
		SearchableAttributes: []string{"title", "tags", "body", "author_name"},
		DisplayedAttributes:  []string{"*"},
		// Only what queries filter on (filters() in meili_query.go): each filterable
		// attribute costs facet extraction and post-processing on every indexing batch.
		FilterableAttributes: []string{"author", "category_id", "created_at", "kind",
			"read_roles", "solved", "status", "tags"},
		SortableAttributes: []string{"created_at", "score"},
		// Measured: ~4× faster indexing than byWord, at the cost of proximity within
		// one attribute only counting "same attribute or not".
		ProximityPrecision: meilisearch.ByAttribute,
		// Restricting detection to Chinese and English: unrestricted, a short query
		// such as 关系 is detected as Japanese and segmented differently from the
		// documents, so it finds nothing (see search/chinese_test.go).
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{
			{AttributePatterns: []string{"*"}, Locales: []string{"cmn", "eng"}},
		},
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled:             true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9},
			DisableOnWords:      []string{},
			DisableOnAttributes: []string{},
		},
		Synonyms:   synonyms,
		Pagination: &meilisearch.Pagination{MaxTotalHits: 1000},
		Faceting:   &meilisearch.Faceting{MaxValuesPerFacet: 100},
		// No search within facet values (the /facet-search endpoint, unused): it is
		// rebuilt on every indexing batch, 15-35 ms each on a 1M-document index.
		// (Settings omits a false value: ensureSettings sends it on its own.)
		FacetSearch: false,
	}
}

// comparable is the part of the settings Hearth owns, in a canonical form.
func canonical(s *meilisearch.Settings) string {
	filt := slices.Clone(s.FilterableAttributes)
	sortable := slices.Clone(s.SortableAttributes)
	sort.Strings(filt)
	sort.Strings(sortable)
	syn := map[string][]string{}
	for k, v := range s.Synonyms {
		v = slices.Clone(v)
		sort.Strings(v)
		syn[k] = v
	}
	var typo any
	if s.TypoTolerance != nil {
		typo = []any{s.TypoTolerance.Enabled, s.TypoTolerance.MinWordSizeForTypos}
	}
	var pag, fac any
	if s.Pagination != nil {
		pag = s.Pagination.MaxTotalHits
	}
	if s.Faceting != nil {
		fac = s.Faceting.MaxValuesPerFacet
	}
	b, _ := json.Marshal([]any{s.RankingRules, s.SearchableAttributes, filt, sortable,
		s.ProximityPrecision, s.LocalizedAttributes, typo, syn, pag, fac, s.FacetSearch})
	return string(b)
}

// ensureSettings creates index (with primary key id) when missing and updates its
// settings when they differ from want, waiting for the tasks. Returns whether it
// changed anything.
func (c *Client) ensureSettings(ctx context.Context, index string, want *meilisearch.Settings) (bool, error) {
	idx := c.Meili.Index(index)
	cur, err := idx.GetSettingsWithContext(ctx)
	if isNotFound(err) {
		ti, err := c.Meili.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: index, PrimaryKey: "id"})
		if err != nil {
			return false, fmt.Errorf("search: create index %s: %w", index, err)
		}
		if err := c.wait(ctx, ti.TaskUID); err != nil {
			return false, err
		}
		cur = &meilisearch.Settings{FacetSearch: true} // a new index: Meilisearch's defaults
	} else if err != nil {
		return false, fmt.Errorf("search: read settings of %s: %w", index, err)
	}
	if canonical(cur) == canonical(want) {
		return false, nil
	}
	ti, err := idx.UpdateSettingsWithContext(ctx, want)
	if err != nil {
		return false, fmt.Errorf("search: update settings of %s: %w", index, err)
	}
	if err := c.wait(ctx, ti.TaskUID); err != nil {
		return false, err
	}
	if cur.FacetSearch != want.FacetSearch {
		if ti, err = idx.UpdateFacetSearchWithContext(ctx, want.FacetSearch); err != nil {
			return false, fmt.Errorf("search: update facet search of %s: %w", index, err)
		}
		return true, c.wait(ctx, ti.TaskUID)
	}
	return true, nil
}

// wait blocks until task uid finishes and turns a failed or canceled task into an error.
func (c *Client) wait(ctx context.Context, uid int64) error {
	t, err := c.Meili.WaitForTaskWithContext(ctx, uid, 20*time.Millisecond)
	if err != nil {
		return fmt.Errorf("search: wait for task %d: %w", uid, err)
	}
	if t.Status != meilisearch.TaskStatusSucceeded {
		return &TaskError{UID: uid, Status: string(t.Status), Code: t.Error.Code, Message: t.Error.Message}
	}
	return nil
}

// TaskError is a Meilisearch task that did not succeed.
type TaskError struct {
	UID                   int64
	Status, Code, Message string
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("search: meilisearch task %d %s: %s %s", e.UID, e.Status, e.Code, e.Message)
}

// isNotFound reports a Meilisearch 404 (index or document not found).
func isNotFound(err error) bool {
	var me *meilisearch.Error
	return errors.As(err, &me) && me.StatusCode == 404
}

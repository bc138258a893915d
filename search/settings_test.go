package search_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/hearth-community/hearth/search"
)

// TestSettingsAppliedAndKeptInStep: the index gets Hearth's settings from code, a
// second start changes nothing, and settings changed behind Hearth's back are put back.
func TestSettingsAppliedAndKeptInStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.ix.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	idx := e.Search.Meili.Index(e.Search.Index(search.Index))
	check := func() {
		t.Helper()
		s, err := idx.GetSettings()
		if err != nil {
			t.Fatal(err)
		}
		// Exactly what queries filter on: every other filterable attribute would cost
		// indexing time for nothing.
		if s.FacetSearch {
			t.Error("facet search is on")
		}
		filterable := slices.Sorted(slices.Values(s.FilterableAttributes))
		if !slices.Equal(filterable, []string{"author", "category_id", "created_at", "kind", "read_roles", "solved", "status", "tags"}) {
			t.Errorf("filterable: %v", s.FilterableAttributes)
		}
		if !slices.Equal(s.SortableAttributes, []string{"created_at", "score"}) || s.RankingRules[0] != "sort" ||
			s.ProximityPrecision != meilisearch.ByAttribute || s.TypoTolerance == nil || !s.TypoTolerance.Enabled ||
			len(s.LocalizedAttributes) != 1 || !slices.Equal(s.SearchableAttributes, []string{"title", "tags", "body", "author_name"}) {
			t.Errorf("settings: %+v", s)
		}
	}
	check()
	updates := func() int64 {
		res, err := e.Search.Meili.GetTasks(&meilisearch.TasksQuery{IndexUIDS: []string{e.Search.Index(search.Index)},
			Types: []meilisearch.TaskType{meilisearch.TaskTypeSettingsUpdate}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	before := updates()
	if err := e.ix.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if after := updates(); after != before {
		t.Errorf("an unchanged start updated the settings again (%d → %d tasks)", before, after)
	}
	ti, err := idx.UpdateRankingRules(&[]string{"words", "typo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Search.Meili.WaitForTask(ti.TaskUID, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := e.ix.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	check()
}

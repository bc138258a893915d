package crm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/testenv"
)

// TestRefreshReadsTheLastYear: the events a refresh aggregates, of scattered members
// (the queue) and of a dense run (RefreshAll), come from the monthly partitions of the
// last 365 days only; a rebuild reads them all.
func TestRefreshReadsTheLastYear(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	now := time.Now()
	first := now.AddDate(-2, 0, 0)
	old := "crm_events_" + now.AddDate(0, -14, 0).Format("200601") // a partition of the migrations
	recent := "crm_events_" + now.Format("200601")
	for _, tc := range []struct {
		name    string
		members []int64
		rebuild bool
	}{
		{"scattered", []int64{1, 1000, 5000}, false},
		{"dense", []int64{1, 2, 3}, false},
		{"rebuild", []int64{1, 2, 3}, true},
	} {
		ps := make([]crm.Profile, len(tc.members))
		for i, m := range tc.members {
			ps[i] = crm.Profile{MemberID: m, FirstEventAt: &first}
		}
		q, args := crm.WindowQuery(ps, now, crm.DefaultParams, false)
		if tc.rebuild {
			q, args = crm.BatchEvents(ps, time.Time{}, true)
		}
		var lines []string
		if err := g.Raw("EXPLAIN "+q, args...).Scan(&lines).Error; err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, recent) || strings.Contains(plan, old) != tc.rebuild {
			t.Errorf("%s: the plan reads %s: %v, %s: %v (want %v)\n%s", tc.name, recent, strings.Contains(plan, recent),
				old, strings.Contains(plan, old), tc.rebuild, plan)
		}
	}
}

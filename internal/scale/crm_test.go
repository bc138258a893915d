package scale_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/scale"
	"github.com/hearth-community/hearth/internal/testenv"
)

func generateCRM(t *testing.T, s scale.CRM) (*gorm.DB, map[string][2]int64) {
	t.Helper()
	g := testenv.DB(t)
	var mu sync.Mutex
	last := map[string][2]int64{}
	err := scale.GenerateCRM(context.Background(), g, s, crm.DefaultParams, func(step string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := last[step]; ok && done < p[0] {
			t.Errorf("progress of %q went backwards: %d after %d", step, done, p[0])
		}
		last[step] = [2]int64{done, total}
	})
	if err != nil {
		t.Fatalf("GenerateCRM: %v", err)
	}
	return g, last
}

func TestGenerateCRMCountsAndShape(t *testing.T) {
	t.Parallel()
	g, progress := generateCRM(t, scale.CRM{Members: 400, Events: 12_000})
	for _, step := range []string{scale.StepCRMMembers, scale.StepCRMEvents, scale.StepCRMProfiles, scale.StepCRMRanks, scale.StepCRMAnalyze} {
		if p := progress[step]; p[0] != p[1] || p[1] == 0 {
			t.Errorf("progress of %q ended at %v, want done = total > 0", step, p)
		}
	}
	count := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := g.Raw(q, args...).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	checks := []struct {
		name string
		q    string
		want int64
	}{
		{"members", `SELECT count(*) FROM users WHERE email LIKE 'gen-%@scale.hearth.local'`, 400},
		{"events (exact total)", `SELECT count(*) FROM crm_events`, 12_000},
		{"profiles", `SELECT count(*) FROM crm_profiles`, 400},
		{"members without exactly one registration at their join time", `
			SELECT count(*) FROM users u WHERE (SELECT count(*) FROM crm_events e WHERE e.member_id = u.id
			  AND e.kind = 'member.registered' AND e.occurred_at = u.created_at AND e.subject_id = u.id) <> 1`, 0},
		{"events before joining or in the future", `
			SELECT count(*) FROM crm_events e JOIN users u ON u.id = e.member_id WHERE e.occurred_at < u.created_at OR e.occurred_at > now()`, 0},
		{"events outside the monthly partitions", `SELECT count(*) FROM crm_events_default`, 0},
		{"purchase events without their purchase", `
			SELECT count(*) FROM crm_events e LEFT JOIN crm_purchases p ON p.id = e.subject_id AND p.member_id = e.member_id
			   AND p.amount = e.value AND p.occurred_at = e.occurred_at
			 WHERE e.kind = 'shop.purchase' AND (e.subject_type <> 'purchase' OR p.id IS NULL)`, 0},
		{"purchases without their event", `SELECT (SELECT count(*) FROM crm_purchases) - (SELECT count(*) FROM crm_events WHERE kind = 'shop.purchase')`, 0},
		{"events whose weight is not their kind's", `SELECT count(*) FROM crm_events WHERE weight <> CASE kind ` + weightCases() + ` END`, 0},
		{"tagged events without a category", `SELECT count(*) FROM crm_events WHERE detail ? 'tags' AND NOT detail ? 'category'`, 0},
		{"kinds that never occur", `SELECT 13 - count(DISTINCT kind) FROM crm_events`, 0},
		{"months without events (of the last 24)", `
			SELECT count(*) FROM generate_series(1, 24) i WHERE NOT EXISTS (SELECT 1 FROM crm_events
			 WHERE occurred_at >= date_trunc('month', now()) - make_interval(months => i) AND occurred_at < date_trunc('month', now()) - make_interval(months => i - 1))`, 0},
	}
	for _, c := range checks {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
	// A long tail: a few members are very active, many have a handful of events.
	var spread struct{ Median, Top float64 }
	if err := g.Raw(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY event_count) AS median, max(event_count) AS top FROM crm_profiles`).
		Scan(&spread).Error; err != nil {
		t.Fatal(err)
	}
	if spread.Top < 10*spread.Median || spread.Median < 2 {
		t.Errorf("event counts per member: median %.0f, top %.0f; want a long tail", spread.Median, spread.Top)
	}
	var stages []string
	if err := g.Raw(`SELECT DISTINCT stage FROM crm_profiles ORDER BY stage`).Scan(&stages).Error; err != nil {
		t.Fatal(err)
	}
	if len(stages) < 4 {
		t.Errorf("stages %v: want a mix of lifecycle stages", stages)
	}
	if err := scale.GenerateCRM(context.Background(), g, scale.CRM{Members: 1, Events: 1}, crm.DefaultParams, nil); !errors.Is(err, scale.ErrGenerated) {
		t.Errorf("second GenerateCRM: %v, want ErrGenerated", err)
	}
}

func weightCases() string {
	out := ""
	for k, w := range crm.Weights {
		out += fmt.Sprintf(" WHEN '%s' THEN %v", k, w)
	}
	return out
}

// TestGenerateCRMProfilesEqualRefreshed: the generated profiles are what the CRM code
// keeps: incremental fields equal RebuildIncremental, and a full refresh (RefreshAll,
// which also ranks) changes no stage and no figure.
func TestGenerateCRMProfilesEqualRefreshed(t *testing.T) {
	t.Parallel()
	g, _ := generateCRM(t, scale.CRM{Members: 300, Events: 9_000})
	ctx := context.Background()
	svc := crm.NewService(g, crm.DefaultParams, nil)
	h := crm.DefaultParams.HalfLife
	now := time.Now()
	read := func() []crm.Profile {
		var ps []crm.Profile
		if err := g.Raw(`SELECT * FROM crm_profiles ORDER BY member_id`).Scan(&ps).Error; err != nil {
			t.Fatal(err)
		}
		return ps
	}
	before := read()
	for _, p := range before {
		inc, err := svc.Incremental(ctx, p.MemberID)
		if err != nil {
			t.Fatal(err)
		}
		reb, err := svc.RebuildIncremental(ctx, p.MemberID)
		if err != nil {
			t.Fatal(err)
		}
		a, b := inc.At(now, h), reb.At(now, h)
		if inc.EventCount != reb.EventCount || inc.Purchases != reb.Purchases || math.Abs(inc.PurchaseTotal-reb.PurchaseTotal) > 0.001 ||
			math.Abs(a-b) > 1e-9*math.Max(1, b) || !inc.FirstEventAt.Equal(*reb.FirstEventAt) || !inc.LastEventAt.Equal(*reb.LastEventAt) ||
			!sameNumbers(inc.KindCounts, reb.KindCounts, 0) || !sameNumbers(inc.KindPoints, reb.KindPoints, 1e-9) ||
			derefInt(inc.NPS) != derefInt(reb.NPS) || fmt.Sprint(inc.NPSAt) != fmt.Sprint(reb.NPSAt) {
			t.Fatalf("member %d: generated %+v (eng %.9f) != rebuilt %+v (eng %.9f)", p.MemberID, inc, a, reb, b)
		}
	}
	if err := svc.RefreshAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	after := read()
	var bad []string
	for i, x := range before {
		y := after[i]
		for _, d := range profileDiffs(x, y, now, h) {
			bad = append(bad, fmt.Sprintf("member %d: %s", x.MemberID, d))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d differences between generated and refreshed profiles, first: %v", len(bad), bad[:min(len(bad), 80)])
	}
	var changes int64
	if err := g.Raw(`SELECT count(*) FROM crm_stage_history`).Scan(&changes).Error; err != nil {
		t.Fatal(err)
	}
	if changes != 0 {
		t.Errorf("the refresh changed %d stages", changes)
	}
}

func profileDiffs(x, y crm.Profile, now time.Time, h time.Duration) []string {
	var out []string
	diff := func(name string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			out = append(out, fmt.Sprintf("%s %v != refreshed %v", name, a, b))
		}
	}
	near := func(name string, a, b, tol float64) {
		if math.Abs(a-b) > tol {
			out = append(out, fmt.Sprintf("%s %v != refreshed %v", name, a, b))
		}
	}
	diff("events_90d", x.Events90d, y.Events90d)
	diff("events_prev_90d", x.EventsPrev90d, y.EventsPrev90d)
	near("monetary_365d", x.Monetary365d, y.Monetary365d, 0.001)
	diff("stage", x.Stage, y.Stage)
	diff("churn_risk", x.ChurnRisk, y.ChurnRisk)
	near("clv", x.CLV, y.CLV, 0.011)
	diff("advocate", x.Advocate, y.Advocate)
	diff("csat", deref(x.CSAT), deref(y.CSAT))
	diff("nps", derefInt(x.NPS), derefInt(y.NPS))
	diff("interests", x.Interests, y.Interests)
	diff("rfm", []any{x.RScore, x.FScore, x.MScore, x.RFMSegment}, []any{y.RScore, y.FScore, y.MScore, y.RFMSegment})
	diff("clv_percentile", x.CLVPercentile, y.CLVPercentile)
	diff("core_member", x.CoreMember, y.CoreMember)
	a := crm.Incremental{Engagement: x.Engagement, EngagementAt: x.EngagementAt}.At(now, h)
	b := crm.Incremental{Engagement: y.Engagement, EngagementAt: y.EngagementAt}.At(now, h)
	near("engagement", a, b, 1e-9*math.Max(1, b))
	var wx, wy map[string]float64
	_ = json.Unmarshal(x.InterestWeights, &wx)
	_ = json.Unmarshal(y.InterestWeights, &wy)
	if len(wx) != len(wy) {
		out = append(out, fmt.Sprintf("interest_weights %v != refreshed %v", wx, wy))
	}
	for k, v := range wx {
		near("interest weight "+k, v, wy[k], 0.1001)
	}
	var ex, ey crm.Explanation
	_ = json.Unmarshal(x.Factors, &ex)
	_ = json.Unmarshal(y.Factors, &ey)
	diff("stage reason", ex.Stage, ey.Stage)
	diff("churn factors", ex.Churn, ey.Churn)
	diff("clv factors", ex.CLV, ey.CLV)
	key := func(f crm.Factor) string { return f.Key }
	if !slices.Equal(mapSlice(ex.Engagement, key), mapSlice(ey.Engagement, key)) && len(ex.Engagement) == len(ey.Engagement) {
		// equal points may come in either order; compare as sets below
		slices.SortFunc(ex.Engagement, func(a, b crm.Factor) int { return cmpStr(a.Key, b.Key) })
		slices.SortFunc(ey.Engagement, func(a, b crm.Factor) int { return cmpStr(a.Key, b.Key) })
	}
	if len(ex.Engagement) != len(ey.Engagement) {
		out = append(out, fmt.Sprintf("engagement factors %v != refreshed %v", ex.Engagement, ey.Engagement))
		return out
	}
	for i, f := range ex.Engagement {
		g := ey.Engagement[i]
		if f.Key != g.Key || f.Value != g.Value || math.Abs(f.Points-g.Points) > 0.1001 {
			out = append(out, fmt.Sprintf("engagement factor %v != refreshed %v", f, g))
		}
	}
	return out
}

// sameNumbers reports whether two JSON objects of numbers have the same keys and values
// equal within the relative tolerance tol.
func sameNumbers(a, b []byte, tol float64) bool {
	var x, y map[string]float64
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil || len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if w, ok := y[k]; !ok || math.Abs(v-w) > tol*math.Max(1, math.Abs(w)) {
			return false
		}
	}
	return true
}

func deref(p *float64) any {
	if p == nil {
		return "null"
	}
	return math.Round(*p*1e9) / 1e9
}

func derefInt(p *int) any {
	if p == nil {
		return "null"
	}
	return *p
}

func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

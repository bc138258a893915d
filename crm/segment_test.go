package crm_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/testenv"
)

var marketer = crm.Actor{ID: 1, Role: "marketer"}

// profileFixture is a member whose profile fields the test sets directly.
type profileFixture struct {
	name string
	cols map[string]any
}

// fixtures creates one member per fixture with a profile (one event) and the given
// columns, and returns their ids by name.
func fixtures(t *testing.T, g *gorm.DB, fs []profileFixture) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for i, f := range fs {
		m := newMember(t, g, i)
		appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindLoggedIn, OccurredAt: time.Now().Add(-time.Hour)})
		if len(f.cols) > 0 {
			if err := g.Table("crm_profiles").Where("member_id = ?", m).Updates(f.cols).Error; err != nil {
				t.Fatal(err)
			}
		}
		ids[f.name] = m
	}
	return ids
}

func rule(t *testing.T, js string) crm.Rule {
	t.Helper()
	var r crm.Rule
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSegmentCounts: rules over every kind of field count exactly the members they
// describe, the sample is the most valuable of them, and erased members never count.
func TestSegmentCounts(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	now := time.Now()
	ids := fixtures(t, g, []profileFixture{
		{"ann", map[string]any{"stage": "stable", "churn_risk": 10, "clv": 500, "clv_percentile": 95, "core_member": true,
			"interests": "{x200,app}", "consent_email": true, "purchases": 4, "monetary_365d": 900, "rfm_segment": "champions"}},
		{"ben", map[string]any{"stage": "decline", "churn_risk": 70, "clv": 300, "clv_percentile": 80, "interests": "{x200}",
			"last_event_at": now.AddDate(0, 0, -45), "purchases": 2, "rfm_segment": "at_risk"}},
		{"cy", map[string]any{"stage": "growth", "churn_risk": 20, "clv": 50, "interests": "{app,category:ideas}", "advocate": true}},
		{"dee", map[string]any{"stage": "dormant", "churn_risk": 90, "clv": 0, "last_event_at": now.AddDate(0, 0, -200), "consent_inapp": false}},
		{"eve", map[string]any{"stage": "decline", "churn_risk": 80, "clv": 900, "interests": "{x200}", "erased": true}},
	})
	// ann is a busy member: her engagement is high; the others have one log-in
	for i := 0; i < 20; i++ {
		appendAt(t, g, crm.Event{MemberID: ids["ann"], Kind: crm.KindThreadCreated, OccurredAt: now.Add(-time.Duration(i) * time.Hour)})
	}
	cases := []struct {
		rule string
		want []string // in sample order: by CLV
	}{
		{`{"all":[]}`, []string{"ann", "ben", "cy", "dee"}},
		{`{"all":[{"field":"stage","op":"eq","value":"decline"}]}`, []string{"ben"}},
		{`{"all":[{"field":"stage","op":"in","value":["growth","stable"]}]}`, []string{"ann", "cy"}},
		{`{"all":[{"field":"stage","op":"not_in","value":["growth","stable"]}]}`, []string{"ben", "dee"}},
		{`{"all":[{"field":"interests","op":"contains","value":["x200","app"]}]}`, []string{"ann"}},
		{`{"all":[{"field":"interests","op":"contains_any","value":["X200","category:ideas"]}]}`, []string{"ann", "ben", "cy"}},
		{`{"all":[{"field":"churn_risk","op":"gte","value":50},{"field":"clv","op":"gt","value":0}]}`, []string{"ben"}},
		{`{"any":[{"field":"core_member","op":"eq","value":true},{"field":"advocate","op":"eq","value":true}]}`, []string{"ann", "cy"}},
		{`{"all":[{"field":"last_active_days","op":"gt","value":30}]}`, []string{"ben", "dee"}},
		{`{"all":[{"field":"last_active_days","op":"lte","value":30}]}`, []string{"ann", "cy"}},
		{`{"all":[{"field":"consent_email","op":"eq","value":true}]}`, []string{"ann"}},
		{`{"all":[{"field":"consent_inapp","op":"eq","value":false}]}`, []string{"dee"}},
		{`{"all":[{"field":"purchases","op":"gte","value":2},{"field":"clv_percentile","op":"gte","value":90}]}`, []string{"ann"}},
		{`{"all":[{"field":"monetary_365d","op":"gt","value":100}]}`, []string{"ann"}},
		{`{"all":[{"field":"rfm_segment","op":"eq","value":"at_risk"}]}`, []string{"ben"}},
		{`{"all":[{"field":"engagement","op":"gt","value":20}]}`, []string{"ann"}},
		{`{"all":[{"field":"engagement","op":"lt","value":2}]}`, []string{"ben", "cy", "dee"}},
		{`{"all":[{"field":"joined_days","op":"lt","value":1},{"field":"role","op":"eq","value":"member"}]}`, []string{"ann", "ben", "cy", "dee"}},
		{`{"all":[{"field":"role","op":"ne","value":"member"}]}`, nil},
		{`{"all":[{"field":"stage","op":"eq","value":"decline"},{"any":[{"field":"clv","op":"gte","value":250},{"field":"advocate","op":"eq","value":true}]}]}`, []string{"ben"}},
	}
	names := map[int64]string{}
	for n, id := range ids {
		names[id] = n
	}
	segs := svc.Segments()
	for _, c := range cases {
		p, err := segs.Preview(ctx, marketer, rule(t, c.rule))
		if err != nil {
			t.Fatalf("%s: %v", c.rule, err)
		}
		var got []string
		for _, m := range p.Sample {
			got = append(got, names[m.ID])
		}
		if p.Count != int64(len(c.want)) || !slices.Equal(got, c.want) {
			t.Errorf("%s: count %d sample %v, want %v", c.rule, p.Count, got, c.want)
		}
	}
	if _, err := segs.Preview(ctx, crm.Actor{ID: 9, Role: "member"}, crm.Rule{}); err == nil {
		t.Error("a member previewed a segment")
	}
}

// TestSegmentInterestsUseTheGINIndex: on a table of realistic size and spread, the
// count of an interests rule is served by the GIN index crm_segment_filters_interests —
// which "= ANY(interests)" could never use.
func TestSegmentInterestsUseTheGINIndex(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	segs := crm.NewService(g, crm.DefaultParams, nil).Segments()
	ctx := context.Background()
	// 20,000 profiles; one in a thousand is interested in "rare"
	if err := g.Exec(`WITH u AS (
	                    INSERT INTO users (email, password_hash, display_name, handle)
	                    SELECT 'gin' || i || '@example.com', '!', 'M' || i, 'gin' || i FROM generate_series(1, 20000) i RETURNING id)
	                  INSERT INTO crm_profiles (member_id, interests, stage)
	                  SELECT id, CASE WHEN id % 1000 = 0 THEN '{rare,x200}'::text[] ELSE '{x200,app}'::text[] END,
	                         (ARRAY['exploration','growth','stable','decline','dormant'])[1 + id % 5]
	                    FROM u`).Error; err != nil {
		t.Fatal(err)
	}
	if err := g.Exec(`ANALYZE crm_segment_filters`).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{
		`{"all":[{"field":"interests","op":"contains","value":["rare"]}]}`,
		`{"all":[{"field":"interests","op":"contains_any","value":["rare","other"]}]}`,
		`{"all":[{"field":"interests","op":"contains","value":["rare","x200"]},{"field":"stage","op":"eq","value":"growth"}]}`,
	} {
		plan, err := segs.Plan(ctx, rule(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "crm_segment_filters_interests") { // small tables may still be scanned: price that out
			err = db.InTx(ctx, g, func(ctx context.Context) error {
				if err := db.Conn(ctx, g).Exec(`SET LOCAL enable_seqscan = off`).Error; err != nil {
					return err
				}
				plan, err = segs.Plan(ctx, rule(t, r))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(plan, "crm_segment_filters_interests") {
			t.Errorf("%s does not use the GIN index:\n%s", r, plan)
		}
	}
	p, err := segs.Preview(ctx, marketer, rule(t, `{"all":[{"field":"interests","op":"contains","value":["rare"]}]}`))
	if err != nil || p.Count != 20 || len(p.Sample) != crm.SampleSize {
		t.Fatalf("rare: %v %d %d", err, p.Count, len(p.Sample))
	}
}

// TestSegmentInjection: hostile strings as values and field names are refused or
// bound as data; the tables are intact and the refusal names the condition.
func TestSegmentInjection(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	segs := crm.NewService(g, crm.DefaultParams, nil).Segments()
	ctx := context.Background()
	fixtures(t, g, []profileFixture{{"a", map[string]any{"interests": "{x200}"}}})
	hostile := []string{`'; DROP TABLE crm_profiles; --`, `x200' OR '1'='1`, `x200") OR TRUE --`, `$1`, `?`, `@now`, `\'`}
	for _, h := range hostile {
		p, err := segs.Preview(ctx, marketer, crm.Rule{All: []crm.Rule{{Field: "interests", Op: "contains_any", Value: []any{h}}}})
		if err != nil || p.Count != 0 {
			t.Errorf("tag %q: %v %+v (a bound value matches nothing)", h, err, p)
		}
		for _, r := range []crm.Rule{
			{All: []crm.Rule{{Field: h, Op: "eq", Value: "x"}}},
			{All: []crm.Rule{{Field: "stage", Op: h, Value: "growth"}}},
			{All: []crm.Rule{{Field: "stage", Op: "eq", Value: h}}},
			{All: []crm.Rule{{Field: "churn_risk", Op: "gt", Value: h}}},
		} {
			if _, err := segs.Preview(ctx, marketer, r); err == nil {
				t.Errorf("%+v accepted", r)
			}
		}
	}
	var n int64
	if err := g.Raw(`SELECT count(*) FROM crm_profiles`).Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("profiles after the attempts: %d %v", n, err)
	}
}

// TestSegmentLabelsInBothLanguages: every field, operator and value type the builder
// offers has its label in English and Chinese (the page builds these ids).
func TestSegmentLabelsInBothLanguages(t *testing.T) {
	for _, lang := range []string{"en", "zh-Hans"} {
		ids, err := i18n.MessageIDs(lang)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range crm.SegmentFields {
			want = append(want, "crm.seg.field."+f.Name, "crm.seg.type."+f.Type())
		}
		for _, op := range crm.SegmentOps {
			want = append(want, "crm.seg.op."+op)
		}
		for _, m := range []string{"clv", "purchase_total", "engagement"} {
			want = append(want, "crm.dash.metric."+m)
		}
		for _, id := range want {
			if ids[id] == "" {
				t.Errorf("%s lacks %s", lang, id)
			}
		}
	}
}

// filterCols are the rule fields crm_segment_filters copies from crm_profiles;
// profileCols the same read from crm_profiles.
const (
	filterCols = `member_id, last_event_at, last_active_on, engagement, engagement_at, events_90d, purchases, churn_risk,
	clv_percentile, r_score, f_score, m_score, core_member, advocate, consent_email, consent_inapp, clv, purchase_total,
	monetary_365d, stage, rfm_segment, interests`
	profileCols = `member_id, last_event_at, (last_event_at AT TIME ZONE 'UTC')::date, engagement, engagement_at, events_90d,
	purchases, churn_risk, clv_percentile, r_score, f_score, m_score, core_member, advocate, consent_email, consent_inapp, clv,
	purchase_total, monetary_365d, stage, rfm_segment, interests`
)

// sameFilters fails unless crm_segment_filters holds exactly the rule fields of every
// profile that is not erased (and nothing else).
func sameFilters(t *testing.T, g *gorm.DB, step string) {
	t.Helper()
	var diff int64
	if err := g.Raw(`SELECT count(*) FROM (
	                   (SELECT ` + profileCols + ` FROM crm_profiles WHERE NOT erased EXCEPT SELECT ` + filterCols + ` FROM crm_segment_filters)
	                   UNION ALL
	                   (SELECT ` + filterCols + ` FROM crm_segment_filters EXCEPT SELECT ` + profileCols + ` FROM crm_profiles WHERE NOT erased)) d`).
		Scan(&diff).Error; err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Fatalf("%s: %d rows of crm_segment_filters differ from crm_profiles", step, diff)
	}
}

// TestSegmentFiltersFollowProfiles: the narrow copy segments count from stays equal to
// the profiles through events (purchases included), scheduled refreshes, rebuilds,
// consent changes, staff edits and erasure, and an erased member leaves it.
func TestSegmentFiltersFollowProfiles(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	now := time.Now()
	var members []int64
	for i := range 6 {
		m := newMember(t, g, 100+i)
		members = append(members, m)
		for j := range 3 + i*4 {
			k := kinds[(i+j)%len(kinds)]
			e := crm.Event{MemberID: m, Kind: k, OccurredAt: now.Add(-time.Duration((i*37+j*11)%300) * 24 * time.Hour)}
			if k == crm.KindPurchase {
				e.Value = float64(10 + j)
			}
			appendAt(t, g, e)
		}
	}
	sameFilters(t, g, "events")
	if err := svc.RefreshAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sameFilters(t, g, "refresh all")
	// last_active_days counts exactly the members whose last event is on the right side
	// of now − N days (the day column only narrows the search), at every N and operator
	segs := svc.Segments()
	for _, days := range []int{0, 1, 11, 37, 48, 120, 299} {
		for op, cmp := range map[string]string{"gt": "<", "gte": "<=", "lt": ">", "lte": ">="} {
			n, err := segs.CountRule(ctx, marketer, crm.Rule{All: []crm.Rule{{Field: "last_active_days", Op: op, Value: days}}})
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			cut := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
			never := map[bool]string{true: " OR last_event_at IS NULL", false: ""}[op == "gt" || op == "gte"]
			g.Raw(`SELECT count(*) FROM crm_profiles WHERE NOT erased AND (last_event_at `+cmp+` ?`+never+`)`, cut).Scan(&want)
			if n != want {
				t.Errorf("last_active_days %s %d: %d members, want %d", op, days, n, want)
			}
		}
	}
	if err := svc.Rebuild(ctx, members[2]); err != nil {
		t.Fatal(err)
	}
	sameFilters(t, g, "rebuild")
	yes := true
	if _, err := svc.SetConsent(ctx, crm.Actor{ID: members[1], Role: "member"}, crm.Consent{Email: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := g.Exec(`UPDATE crm_profiles SET attributes = '{"tier":"gold"}', interests = '{battery,x200}', churn_risk = 64
	                   WHERE member_id = ?`, members[3]).Error; err != nil {
		t.Fatal(err)
	}
	sameFilters(t, g, "consent and edits")
	r := rule(t, `{"all":[{"field":"interests","op":"contains","value":["battery"]},{"field":"churn_risk","op":"gte","value":60}]}`)
	if n, err := segs.CountRule(ctx, marketer, r); err != nil || n != 1 {
		t.Fatalf("count before erasure: %d %v", n, err)
	}
	if err := svc.Erase(ctx, crm.Actor{ID: members[3], Role: "member"}, &crm.Privacy{}); err != nil {
		t.Fatal(err)
	}
	sameFilters(t, g, "erasure")
	var left int64
	g.Raw(`SELECT count(*) FROM crm_segment_filters WHERE member_id = ?`, members[3]).Scan(&left)
	if n, err := segs.CountRule(ctx, marketer, r); err != nil || n != 0 || left != 0 {
		t.Fatalf("erased member still counted: count %d, filter rows %d, %v", n, left, err)
	}
	// an event for the erased member (a late delivery) does not bring them back
	appendAt(t, g, crm.Event{MemberID: members[3], Kind: crm.KindLoggedIn, OccurredAt: now})
	if err := svc.RebuildAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sameFilters(t, g, "rebuild all after erasure")
}

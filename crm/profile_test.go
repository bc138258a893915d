package crm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/testenv"
)

// newMember inserts a bare account row for CRM tests.
func newMember(t *testing.T, g *gorm.DB, n int) int64 {
	t.Helper()
	var id int64
	if err := g.Raw(`INSERT INTO users (email, password_hash, display_name, handle) VALUES (?, '!', ?, ?) RETURNING id`,
		fmt.Sprintf("m%d-%d@example.com", n, rand.IntN(1e9)), fmt.Sprintf("Member %d", n), fmt.Sprintf("m%d_%d", n, rand.IntN(1e9))).
		Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

func appendAt(t *testing.T, g *gorm.DB, e crm.Event) {
	t.Helper()
	if err := db.InTx(context.Background(), g, func(ctx context.Context) error { return crm.Append(ctx, g, e) }); err != nil {
		t.Fatal(err)
	}
}

var kinds = []crm.Kind{crm.KindThreadCreated, crm.KindReplyCreated, crm.KindAnswerAccepted, crm.KindReactionGiven,
	crm.KindReactionReceived, crm.KindPurchase, crm.KindLoggedIn, crm.KindStageChanged, crm.KindNPSAnswered}

// TestRebuildEqualsIncremental: on random event streams (random kinds, values and
// times, in random order), the profile kept event by event equals the one rebuilt
// from the events.
func TestRebuildEqualsIncremental(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	now := time.Now()
	for trial := 0; trial < 12; trial++ {
		m := newMember(t, g, trial)
		n := 1 + rand.IntN(40)
		for i := 0; i < n; i++ {
			k := kinds[rand.IntN(len(kinds))]
			e := crm.Event{MemberID: m, Kind: k, OccurredAt: now.Add(-time.Duration(rand.IntN(400*24)) * time.Hour)}
			switch k {
			case crm.KindPurchase:
				e.Value = float64(rand.IntN(50000)) / 100
			case crm.KindNPSAnswered:
				e.Value = float64(rand.IntN(11))
			}
			appendAt(t, g, e)
		}
		inc, err := svc.Incremental(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		reb, err := svc.RebuildIncremental(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		h := crm.DefaultParams.HalfLife
		a, b := inc.At(now, h), reb.At(now, h)
		if !sameIncremental(inc, reb, now) {
			t.Fatalf("trial %d (%d events): incremental %+v (eng %.9f) != rebuilt %+v (eng %.9f)", trial, n, inc, a, reb, b)
		}
		// and a refresh (which re-bases the score) keeps them equal
		if err := svc.RefreshAll(ctx, nil); err != nil {
			t.Fatal(err)
		}
		inc2, _ := svc.Incremental(ctx, m)
		if math.Abs(inc2.At(now, h)-b) > 1e-6*math.Max(1, b) {
			t.Fatalf("after refresh: %.9f vs %.9f", inc2.At(now, h), b)
		}
		inc2.Engagement, inc2.EngagementAt = reb.Engagement, reb.EngagementAt // compared just above
		if !sameIncremental(inc2, reb, now) {
			t.Fatalf("after refresh: incremental %+v != rebuilt %+v", inc2, reb)
		}
	}
}

// sameIncremental reports whether two readings of the incremental fields agree (the
// engagement scores compared at now; the points of each kind, all-time figures kept
// for the refresh, at the last event).
func sameIncremental(inc, reb crm.Incremental, now time.Time) bool {
	h := crm.DefaultParams.HalfLife
	a, b := inc.At(now, h), reb.At(now, h)
	return inc.EventCount == reb.EventCount && inc.Purchases == reb.Purchases &&
		math.Abs(inc.PurchaseTotal-reb.PurchaseTotal) <= 0.001 && math.Abs(a-b) <= 1e-9*math.Max(1, b) &&
		sameTime(inc.FirstEventAt, reb.FirstEventAt) && sameTime(inc.LastEventAt, reb.LastEventAt) &&
		sameJSON(inc.KindCounts, reb.KindCounts, 0) && sameJSON(inc.KindPoints, reb.KindPoints, 1e-9) &&
		sameTime(inc.NPSAt, reb.NPSAt) && (inc.NPS == nil) == (reb.NPS == nil) && (inc.NPS == nil || *inc.NPS == *reb.NPS)
}

// sameJSON reports whether two JSON objects of numbers have the same keys and values
// equal within the relative tolerance tol (nothing at all reads as {}: no profile).
func sameJSON(a, b []byte, tol float64) bool {
	var x, y map[string]float64
	for _, z := range []struct {
		js []byte
		m  *map[string]float64
	}{{a, &x}, {b, &y}} {
		if len(z.js) > 0 && json.Unmarshal(z.js, z.m) != nil {
			return false
		}
	}
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok || math.Abs(v-w) > tol*math.Max(1, math.Abs(w)) {
			return false
		}
	}
	return true
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Sub(*b).Abs() < time.Microsecond
}

// TestRefreshStageAndChurn: a member active long ago and quiet now is in decline or
// dormant, with the reasons on the profile, and the stage change is recorded.
func TestRefreshStageAndChurn(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	signals := &crm.Signals{}
	signals.Register("always", func(ctx context.Context, _ *gorm.DB, members []int64, _ crm.Params) (map[int64]crm.Factor, error) {
		out := map[int64]crm.Factor{}
		for _, m := range members {
			out[m] = crm.Factor{Key: "crm.factor.unresolved", Points: 12, Value: 2}
		}
		return out, nil
	})
	svc := crm.NewService(g, crm.DefaultParams, signals)
	ctx := context.Background()
	m := newMember(t, g, 1)
	now := time.Now()
	for i := 0; i < 30; i++ { // busy 100–170 days ago
		appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated, OccurredAt: now.Add(-time.Duration(100+i*2) * 24 * time.Hour)})
	}
	appendAt(t, g, crm.Event{MemberID: m, Kind: crm.KindReplyCreated, OccurredAt: now.Add(-41 * 24 * time.Hour)})
	if err := svc.RefreshMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	view, err := svc.Member(ctx, crm.Actor{ID: m, Role: "member"}, m)
	if err != nil {
		t.Fatal(err)
	}
	p := view.Profile
	if p.Events90d != 1 || p.EventsPrev90d != 30 {
		t.Fatalf("windowed counts read back as %d / %d, want 1 / 30", p.Events90d, p.EventsPrev90d)
	}
	if p.Stage != crm.StageDecline || p.ChurnRisk < 50 {
		t.Fatalf("stage %s churn %d, want decline and high risk", p.Stage, p.ChurnRisk)
	}
	keys := map[string]bool{}
	for _, f := range view.Explanation.Churn {
		keys[f.Key] = true
	}
	if !keys["crm.factor.recency"] || !keys["crm.factor.trend"] || !keys["crm.factor.unresolved"] {
		t.Fatalf("churn factors %+v", view.Explanation.Churn)
	}
	if len(view.History) != 1 || view.History[0].ToStage != "decline" {
		t.Fatalf("history %+v", view.History)
	}
	var changes int64
	g.Raw(`SELECT count(*) FROM crm_events WHERE member_id = ? AND kind = 'crm.stage_changed'`, m).Scan(&changes)
	if changes != 1 {
		t.Fatalf("stage change events %d", changes)
	}
	// the stage-change event is not activity: recency is unchanged
	if p.LastEventAt == nil || now.Sub(*p.LastEventAt) < 40*24*time.Hour {
		t.Fatalf("stage change moved last activity: %v", p.LastEventAt)
	}
	if len(view.Explanation.Engagement) == 0 || view.Explanation.Stage == "" {
		t.Fatalf("explanation %+v", view.Explanation)
	}
}

// TestCoreMembersAreTopFifth: the core flag marks the top 20% by value.
func TestCoreMembersAreTopFifth(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 10; i++ {
		m := newMember(t, g, i)
		ids = append(ids, m)
		if err := db.InTx(ctx, g, func(ctx context.Context) error {
			if err := db.Conn(ctx, g).Exec(`INSERT INTO crm_purchases (member_id, external_id, amount, occurred_at) VALUES (?, ?, ?, now())`,
				m, fmt.Sprintf("o-%d", m), (i+1)*100).Error; err != nil {
				return err
			}
			return crm.Append(ctx, g, crm.Event{MemberID: m, Kind: crm.KindPurchase, Value: float64((i + 1) * 100)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.RefreshAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var core []int64
	g.Raw(`SELECT member_id FROM crm_profiles WHERE core_member ORDER BY member_id`).Scan(&core)
	if len(core) != 2 || core[0] != ids[8] || core[1] != ids[9] {
		t.Fatalf("core members %v, want the two biggest spenders %v", core, ids[8:])
	}
	var seg string
	g.Raw(`SELECT rfm_segment FROM crm_profiles WHERE member_id = ?`, ids[9]).Scan(&seg)
	if seg == "" || seg == "unscored" {
		t.Fatalf("no RFM segment: %q", seg)
	}
}

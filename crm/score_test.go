package crm

import (
	"math"
	"testing"
	"time"
)

func TestStageOf(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	p := DefaultParams
	cases := []struct {
		name string
		a    Activity
		want Stage
	}{
		{"no events", Activity{Now: now}, StageDormant},
		{"idle 100 days", Activity{Now: now, FirstEventAt: now.Add(-400 * day), LastEventAt: now.Add(-100 * day), EventCount: 50}, StageDormant},
		{"new member", Activity{Now: now, FirstEventAt: now.Add(-5 * day), LastEventAt: now, EventCount: 12, Events90d: 12}, StageExploration},
		{"few events", Activity{Now: now, FirstEventAt: now.Add(-200 * day), LastEventAt: now, EventCount: 3, Events90d: 3}, StageExploration},
		{"falling", Activity{Now: now, FirstEventAt: now.Add(-300 * day), LastEventAt: now.Add(-2 * day), EventCount: 60, Events90d: 5, EventsPrev90: 30}, StageDecline},
		{"rising", Activity{Now: now, FirstEventAt: now.Add(-300 * day), LastEventAt: now, EventCount: 60, Events90d: 40, EventsPrev90: 10}, StageGrowth},
		{"steady", Activity{Now: now, FirstEventAt: now.Add(-300 * day), LastEventAt: now, EventCount: 60, Events90d: 20, EventsPrev90: 20}, StageStable},
	}
	for _, c := range cases {
		got, why := StageOf(c.a, p)
		if got != c.want || why == "" {
			t.Errorf("%s: %s (%q), want %s", c.name, got, why, c.want)
		}
	}
}

func TestChurnRiskExplainsItself(t *testing.T) {
	now := time.Now()
	a := Activity{Now: now, LastEventAt: now.Add(-41 * 24 * time.Hour), Events90d: 4, EventsPrev90: 20, EventCount: 40}
	risk, fs := ChurnRisk(a, DefaultParams, []Factor{{"crm.factor.unresolved", 12, 2}})
	sum := 0.0
	keys := map[string]bool{}
	for _, f := range fs {
		sum += f.Points
		keys[f.Key] = true
	}
	if risk != int(sum) || !keys["crm.factor.recency"] || !keys["crm.factor.trend"] || !keys["crm.factor.unresolved"] {
		t.Fatalf("risk %d from %+v", risk, fs)
	}
	if r, _ := ChurnRisk(Activity{Now: now, LastEventAt: now, Events90d: 10, EventsPrev90: 10}, DefaultParams, nil); r != 0 {
		t.Fatalf("active member risk %d", r)
	}
	big := []Factor{{"x", 90, 0}, {"y", 90, 0}}
	if r, _ := ChurnRisk(a, DefaultParams, big); r != 100 {
		t.Fatalf("risk not capped: %d", r)
	}
}

// TestCLVFormula checks CLV = Σ_{t=1..H} m·r^t/(1+d)^t against a hand computation.
func TestCLVFormula(t *testing.T) {
	p := DefaultParams
	got := CLV(1000, 20, 0, p) // m = 300, r = 0.8, d = 0.1, H = 5
	want := 0.0
	for i := 1; i <= 5; i++ {
		want += 300 * math.Pow(0.8, float64(i)) / math.Pow(1.1, float64(i))
	}
	if math.Abs(got-math.Round(want*100)/100) > 0.005 {
		t.Fatalf("CLV = %v, want %v", got, want)
	}
	if CLV(1000, 90, 0, p) >= got {
		t.Fatal("a member more likely to churn should be worth less")
	}
	p.ReferralValue = 50
	if CLV(0, 0, 2, p) != 100 {
		t.Fatal("referral value not added")
	}
}

func TestRFMSegments(t *testing.T) {
	cases := map[[3]int]string{{5, 5, 5}: "champions", {3, 5, 1}: "loyal", {5, 1, 1}: "new", {4, 3, 2}: "potential_loyalist",
		{1, 4, 4}: "at_risk", {1, 1, 1}: "hibernating", {3, 2, 2}: "needs_attention", {0, 0, 0}: "unscored"}
	for in, want := range cases {
		if got := RFMSegment(in[0], in[1], in[2]); got != want {
			t.Errorf("RFM %v = %s, want %s", in, got, want)
		}
	}
}

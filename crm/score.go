package crm

import (
	"fmt"
	"math"
	"time"
)

// Stage is a lifecycle stage (the four stages of the CRM literature, plus dormant).
type Stage string

// The lifecycle stages.
const (
	StageExploration Stage = "exploration"
	StageGrowth      Stage = "growth"
	StageStable      Stage = "stable"
	StageDecline     Stage = "decline"
	StageDormant     Stage = "dormant"
)

// Stages in display order.
var Stages = []Stage{StageExploration, StageGrowth, StageStable, StageDecline, StageDormant}

// Factor is one reason behind a score: what was seen and how many points it gave.
type Factor struct {
	Key    string  `json:"key"`    // message id of the reason, e.g. crm.factor.recency
	Points float64 `json:"points"` // contribution to the score
	Value  float64 `json:"value"`  // the observed figure (days, percent, count …)
}

// Activity is what the lifecycle and churn rules look at.
type Activity struct {
	Now          time.Time
	FirstEventAt time.Time
	LastEventAt  time.Time
	EventCount   int
	Events90d    int
	EventsPrev90 int
}

// daysSince is whole days from t to now (0 when t is zero).
func daysSince(t, now time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return math.Floor(now.Sub(t).Hours() / 24)
}

// StageOf applies the lifecycle rules in order. The reason is a message id with its
// figures ("crm.why.decline|5|30"), translated where it is shown (i18n Localizer.Reason).
func StageOf(a Activity, p Params) (Stage, string) {
	idle := daysSince(a.LastEventAt, a.Now)
	switch {
	case a.EventCount == 0 || idle >= float64(p.DormantDays):
		return StageDormant, fmt.Sprintf("crm.why.dormant|%.0f", idle)
	case daysSince(a.FirstEventAt, a.Now) < float64(p.NewMemberDays) || a.EventCount < p.NewMemberEvents:
		return StageExploration, "crm.why.exploration"
	case a.EventsPrev90 >= p.MinBaseline && float64(a.Events90d) < p.DeclineRatio*float64(a.EventsPrev90):
		return StageDecline, fmt.Sprintf("crm.why.decline|%d|%d", a.Events90d, a.EventsPrev90)
	case float64(a.Events90d) > p.GrowthRatio*float64(max(a.EventsPrev90, 1)):
		return StageGrowth, fmt.Sprintf("crm.why.growth|%d|%d", a.Events90d, a.EventsPrev90)
	default:
		return StageStable, "crm.why.stable"
	}
}

// ChurnRisk scores 0–100 from recency, the member's own trend and the community
// signals, returning every factor that added points.
func ChurnRisk(a Activity, p Params, signals []Factor) (int, []Factor) {
	var fs []Factor
	idle := daysSince(a.LastEventAt, a.Now)
	switch {
	case idle > 60:
		fs = append(fs, Factor{"crm.factor.recency", 35, idle})
	case idle > 30:
		fs = append(fs, Factor{"crm.factor.recency", 20, idle})
	case idle > 14:
		fs = append(fs, Factor{"crm.factor.recency", 10, idle})
	}
	if a.EventsPrev90 >= p.MinBaseline && a.Events90d < a.EventsPrev90 {
		drop := 100 * float64(a.EventsPrev90-a.Events90d) / float64(a.EventsPrev90)
		if drop >= 25 {
			fs = append(fs, Factor{"crm.factor.trend", math.Round(drop / 100 * 30), math.Round(drop)})
		}
	}
	fs = append(fs, signals...)
	total := 0.0
	for _, f := range fs {
		total += f.Points
	}
	return int(math.Min(100, math.Round(total))), fs
}

// CLV is the present value of the margin a member is expected to bring:
// Σ_{t=1..H} m·r^t/(1+d)^t plus referral value, where m is yearly margin and r the
// yearly retention probability (1 − churn risk, bounded away from 0 and 1).
func CLV(yearlyRevenue float64, churnRisk int, referrals int, p Params) float64 {
	m := yearlyRevenue * p.Margin
	r := retention(churnRisk)
	v := 0.0
	for t := 1; t <= p.HorizonYears; t++ {
		v += m * math.Pow(r, float64(t)) / math.Pow(1+p.DiscountRate, float64(t))
	}
	return math.Round((v+float64(referrals)*p.ReferralValue)*100) / 100
}

// RFMSegment names a member from recency, frequency and monetary quintiles (1–5),
// by the same rules rankAll compiles to SQL.
func RFMSegment(r, f, m int) string {
	if r == 0 && f == 0 && m == 0 {
		return "unscored"
	}
	for _, x := range rfmRules {
		if r >= x.rMin && r <= x.rMax && f >= x.fMin && f <= x.fMax && m >= x.mMin {
			return x.name
		}
	}
	return "needs_attention"
}

// decay is 2^(−age/halfLife).
func decay(age, halfLife time.Duration) float64 {
	return math.Pow(0.5, age.Seconds()/halfLife.Seconds())
}

// retention is the yearly retention probability CLV uses: 1 − churn risk, kept away
// from 0 and 1 so no member is worth nothing or forever.
func retention(churnRisk int) float64 {
	return math.Min(0.95, math.Max(0.05, 1-float64(churnRisk)/100))
}

package crm

import (
	"context"
	"math"
	"time"
)

// DashboardWeeks is how many weeks the trend charts cover, the current one included.
const DashboardWeeks = 12

// Dashboard is what marketers see at /crm: the state of the member base and how it
// moves. Every figure leaves erased members out.
type Dashboard struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Members counts profiles; Equity is customer equity, the sum of CLV (DESIGN.md).
	Members    int64   `json:"members"`
	Equity     float64 `json:"customer_equity"`
	AverageCLV float64 `json:"average_clv"`
	// Stages is members per lifecycle stage at the end of each of the last 12 weeks
	// (the current week: now).
	Stages []StageWeek `json:"stages_by_week"`
	// Engagement is the weekly sum of event weights (engagement trend).
	Engagement []EngagementWeek `json:"engagement_by_week"`
	Pareto     Pareto           `json:"pareto"`
	CLV        []CLVBucket      `json:"clv_distribution"`
	// AtRisk are valuable members likely to leave: churn risk ≥ AtRiskChurn, by CLV.
	AtRisk   []AtRiskMember     `json:"at_risk"`
	Response []ResponseCategory `json:"response_times"`
}

// StageWeek is the number of members in each stage at the end of one week. Week is
// the Monday the week starts (UTC); Replayed marks counts rebuilt from the events
// because no snapshot was taken that week; Missing marks a week with neither.
type StageWeek struct {
	Week     time.Time     `json:"week"`
	Counts   map[Stage]int `json:"counts"`
	Replayed bool          `json:"replayed,omitempty"`
	Missing  bool          `json:"missing,omitempty"`
}

// EngagementWeek is one week of engagement: the sum of event weights, the number of
// events and of distinct active members.
type EngagementWeek struct {
	Week    time.Time `json:"week"`
	Weight  float64   `json:"weight"`
	Events  int64     `json:"events"`
	Members int64     `json:"active_members"`
}

// Pareto is the cumulative share of value held by the most valuable members (the
// 80/20 rule). Metric is the value measured: "clv", or "purchase_total" when no
// member has CLV yet, or "engagement" when nobody has bought anything; "" when there
// is no value at all. TopShare is the share (0–100) the top 20 % of members bring.
type Pareto struct {
	Metric   string        `json:"metric"`
	Total    float64       `json:"total"`
	Members  int64         `json:"members"`
	TopShare float64       `json:"top20_share"`
	Points   []ParetoPoint `json:"points"`
}

// ParetoPoint says that the top MembersPct % of members hold ValuePct % of value.
type ParetoPoint struct {
	MembersPct float64 `json:"members_pct"`
	ValuePct   float64 `json:"value_pct"`
}

// CLVBucket counts members whose CLV is in [From, To); the first bucket is CLV = 0.
type CLVBucket struct {
	From    float64 `json:"from"`
	To      float64 `json:"to"`
	Members int64   `json:"members"`
}

// AtRiskMember is a valuable member with a high churn risk.
type AtRiskMember struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Handle      string     `json:"handle"`
	Stage       Stage      `json:"stage"`
	ChurnRisk   int        `json:"churn_risk"`
	CLV         float64    `json:"clv"`
	Engagement  float64    `json:"engagement"`
	LastEventAt *time.Time `json:"last_event_at"`
}

// ResponseCategory is how fast questions in one category were answered over the last
// ResponseWindow: seconds to the first reply by someone other than the asker, and to
// the answer the asker accepted, as median and 90th percentile (nil without data).
type ResponseCategory struct {
	CategoryID    int64    `json:"category_id"`
	Slug          string   `json:"slug"`
	Name          string   `json:"name"`
	NameZh        string   `json:"name_zh"`
	Questions     int64    `json:"questions"`
	Replied       int64    `json:"replied"`
	Accepted      int64    `json:"accepted"`
	FirstReplyP50 *float64 `json:"first_reply_p50_seconds"`
	FirstReplyP90 *float64 `json:"first_reply_p90_seconds"`
	AcceptedP50   *float64 `json:"accepted_p50_seconds"`
	AcceptedP90   *float64 `json:"accepted_p90_seconds"`
}

// Dashboard thresholds.
const (
	AtRiskChurn    = 50 // churn risk from which a valuable member is listed as at risk
	AtRiskListSize = 20
	ResponseWindow = 90 * 24 * time.Hour
	clvBuckets     = 8 // buckets of positive CLV in the distribution
)

// Dashboard gathers the marketer dashboard (marketers and admins).
func (s *Service) Dashboard(ctx context.Context, a Actor) (*Dashboard, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	now := s.now()
	d := &Dashboard{GeneratedAt: now}
	var err error
	if d.Members, d.Equity, err = reportEquity(ctx, s.db); err != nil {
		return nil, err
	}
	if d.Members > 0 {
		d.AverageCLV = math.Round(d.Equity/float64(d.Members)*100) / 100
	}
	weeks := dashboardWeeks(now)
	if d.Stages, err = reportStageWeeks(ctx, s.db, weeks); err != nil {
		return nil, err
	}
	if d.Engagement, err = reportEngagementWeeks(ctx, s.db, weeks, now); err != nil {
		return nil, err
	}
	if d.Pareto, err = reportPareto(ctx, s.db, now, s.params.HalfLife); err != nil {
		return nil, err
	}
	if d.CLV, err = reportCLVBuckets(ctx, s.db); err != nil {
		return nil, err
	}
	if d.AtRisk, err = reportAtRisk(ctx, s.db, now, s.params.HalfLife); err != nil {
		return nil, err
	}
	if d.Response, err = reportResponseTimes(ctx, s.db, now.Add(-ResponseWindow)); err != nil {
		return nil, err
	}
	return d, nil
}

// weekStart is the Monday 00:00 UTC of t's week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// dashboardWeeks lists the Mondays of the last DashboardWeeks weeks, oldest first.
func dashboardWeeks(now time.Time) []time.Time {
	cur := weekStart(now)
	out := make([]time.Time, DashboardWeeks)
	for i := range out {
		out[i] = cur.AddDate(0, 0, -7*(DashboardWeeks-1-i))
	}
	return out
}

// topShare interpolates the Pareto curve at 20 % of members.
func topShare(points []ParetoPoint) float64 {
	prev := ParetoPoint{}
	for _, p := range points {
		if p.MembersPct >= 20 {
			if p.MembersPct == prev.MembersPct {
				return p.ValuePct
			}
			v := prev.ValuePct + (p.ValuePct-prev.ValuePct)*(20-prev.MembersPct)/(p.MembersPct-prev.MembersPct)
			return math.Round(v*10) / 10
		}
		prev = p
	}
	return prev.ValuePct
}

// niceStep rounds a bucket width up to 1, 2 or 5 times a power of ten, so that the
// distribution's edges read well (0–50, 50–100 …).
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

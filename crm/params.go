package crm

import "time"

// Params are the CRM model's tunable figures (DESIGN.md "CRM model"). Defaults come
// from the literature the product is built on; staff-facing settings may override them.
type Params struct {
	// HalfLife of the engagement score: an event counts half as much after it.
	HalfLife time.Duration
	// Lifecycle thresholds.
	NewMemberDays   int     // exploration: first seen within this many days …
	NewMemberEvents int     // … or fewer events than this
	DormantDays     int     // dormant: no activity for this many days
	DeclineRatio    float64 // decline: last 90 days below this share of the 90 days before
	GrowthRatio     float64 // growth: last 90 days above this multiple of the 90 days before
	MinBaseline     int     // decline/growth need at least this many events in the baseline
	// CLV = Σ_{t=1..Horizon} m·r^t/(1+d)^t + referral value.
	Margin        float64 // share of purchase value that is margin
	DiscountRate  float64 // d, per year
	HorizonYears  int
	ReferralValue float64 // per member referred (no referrals are tracked yet)
	// Advocates: members with at least this many accepted answers in a year.
	AdvocateAnswers int
	// Unresolved questions older than this count as a churn signal.
	UnresolvedAfter time.Duration
}

// DefaultParams are the figures Hearth starts with.
var DefaultParams = Params{
	HalfLife:        30 * 24 * time.Hour,
	NewMemberDays:   30,
	NewMemberEvents: 5,
	DormantDays:     90,
	DeclineRatio:    0.5,
	GrowthRatio:     1.25,
	MinBaseline:     4,
	Margin:          0.3,
	DiscountRate:    0.1,
	HorizonYears:    5,
	ReferralValue:   0,
	AdvocateAnswers: 3,
	UnresolvedAfter: 7 * 24 * time.Hour,
}

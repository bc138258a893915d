package crm

import (
	"encoding/json"
	"time"

	"github.com/lib/pq"
)

// Profile is a member's CRM profile: what the community knows about them and why.
type Profile struct {
	MemberID        int64           `json:"member_id"`
	EventCount      int             `json:"event_count"`
	FirstEventAt    *time.Time      `json:"first_event_at"`
	LastEventAt     *time.Time      `json:"last_event_at"`
	Engagement      float64         `json:"-"`
	EngagementAt    *time.Time      `json:"-"`
	Purchases       int             `json:"purchases"`
	PurchaseTotal   float64         `json:"purchase_total"`
	LastPurchaseAt  *time.Time      `json:"last_purchase_at"`
	Events90d       int             `json:"events_90d" gorm:"column:events_90d"`
	EventsPrev90d   int             `json:"events_prev_90d" gorm:"column:events_prev_90d"`
	Monetary365d    float64         `json:"monetary_365d" gorm:"column:monetary_365d"`
	RScore          int             `json:"r_score"`
	FScore          int             `json:"f_score"`
	MScore          int             `json:"m_score"`
	RFMSegment      string          `json:"rfm_segment"`
	CLV             float64         `json:"clv"`
	CLVPercentile   int             `json:"clv_percentile"`
	ChurnRisk       int             `json:"churn_risk"`
	Stage           Stage           `json:"stage"`
	StageSince      time.Time       `json:"stage_since"`
	CoreMember      bool            `json:"core_member"`
	Advocate        bool            `json:"advocate"`
	CSAT            *float64        `json:"csat"`
	NPS             *int            `json:"nps"`
	Interests       pq.StringArray  `json:"interests" gorm:"type:text[]"`
	InterestWeights json.RawMessage `json:"interest_weights"`
	Factors         json.RawMessage `json:"factors"`
	ConsentEmail    bool            `json:"consent_email"`
	ConsentInapp    bool            `json:"consent_inapp"`
	ExternalID      *string         `json:"external_id"`
	Attributes      json.RawMessage `json:"attributes"`
	Erased          bool            `json:"-"`
	RefreshedAt     *time.Time      `json:"refreshed_at"`
	// all-time figures kept by Append (bumpProfile) for the refresh: engagement points
	// of each kind decayed to LastEventAt, events of each kind, the latest NPS answer's time
	KindPoints json.RawMessage `json:"-"`
	KindCounts json.RawMessage `json:"-"`
	NPSAt      *time.Time      `json:"-" gorm:"column:nps_at"`
	// EngagementNow is the decayed engagement score at read time.
	EngagementNow float64 `json:"engagement_score" gorm:"-"`
}

// TableName keeps GORM on the crm-owned table.
func (Profile) TableName() string { return "crm_profiles" }

// Explanation lists the reasons behind each score on a profile.
type Explanation struct {
	Engagement []Factor `json:"engagement"`
	Churn      []Factor `json:"churn"`
	CLV        []Factor `json:"clv"`
	Stage      string   `json:"stage"`
}

// kindTotals reads the all-time engagement points (decayed to LastEventAt) and event
// counts of each kind kept on the profile.
func (p *Profile) kindTotals() (points map[string]float64, counts map[string]int) {
	if len(p.KindPoints) > 0 {
		_ = json.Unmarshal(p.KindPoints, &points)
	}
	if len(p.KindCounts) > 0 {
		_ = json.Unmarshal(p.KindCounts, &counts)
	}
	return points, counts
}

// engagementAt decays the stored score to now.
func (p *Profile) engagementAt(now time.Time, halfLife time.Duration) float64 {
	if p.EngagementAt == nil {
		return 0
	}
	return p.Engagement * decay(now.Sub(*p.EngagementAt), halfLife)
}

package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/db"
)

// windowed are the figures a refresh reads from the member's events and purchases.
type windowed struct {
	Events90d     int
	EventsPrev90d int
	Monetary365d  float64
	Accepted365d  int
}

// RefreshMember recomputes one member's windowed figures, lifecycle stage, churn risk
// with its factors, CLV, advocate flag and interests. A stage change is recorded in
// the history and as an event, in the same transaction.
func (s *Service) RefreshMember(ctx context.Context, member int64) error {
	now := s.now()
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := db.Conn(ctx, s.db)
		var p Profile
		res := conn.Raw(`SELECT * FROM crm_profiles WHERE member_id = ? FOR UPDATE`, member).Scan(&p)
		if res.Error != nil || res.RowsAffected == 0 || p.Erased {
			return res.Error
		}
		var w windowed
		if err := conn.Raw(
			`SELECT count(*) FILTER (WHERE occurred_at > CAST(@now AS timestamptz) - interval '90 days') AS events90d,
			        count(*) FILTER (WHERE kind = @acc AND occurred_at > CAST(@now AS timestamptz) - interval '365 days') AS accepted365d
			   FROM crm_events WHERE member_id = @m AND kind <> @stage AND occurred_at > CAST(@now AS timestamptz) - interval '365 days'
			        AND occurred_at <= @now`,
			map[string]any{"m": member, "now": now, "acc": string(KindAnswerAccepted), "stage": string(KindStageChanged)}).
			Scan(&w).Error; err != nil {
			return err
		}
		if err := conn.Raw(`SELECT count(*) FROM crm_events WHERE member_id = ? AND kind <> ?
		                      AND occurred_at > CAST(? AS timestamptz) - interval '180 days' AND occurred_at <= CAST(? AS timestamptz) - interval '90 days'`,
			member, string(KindStageChanged), now, now).Scan(&w.EventsPrev90d).Error; err != nil {
			return err
		}
		// satisfaction (CSAT: share of answers rated helpful, last year) and the latest
		// NPS answer are kept apart from loyalty, which repeat behaviour measures
		var sat struct {
			CSAT *float64
			NPS  *int
		}
		if err := conn.Raw(
			`SELECT (SELECT 100 * avg(value) FROM (SELECT DISTINCT ON (subject_id) value FROM crm_events
			            WHERE member_id = @m AND kind = @rated AND occurred_at > CAST(@now AS timestamptz) - interval '365 days'
			            ORDER BY subject_id, occurred_at DESC) latest) AS csat,
			        (SELECT value::int FROM crm_events WHERE member_id = @m AND kind = @nps ORDER BY occurred_at DESC LIMIT 1) AS nps`,
			map[string]any{"m": member, "now": now, "rated": string(KindAnswerRated), "nps": string(KindNPSAnswered)}).Scan(&sat).Error; err != nil {
			return err
		}
		if err := conn.Raw(`SELECT coalesce(sum(amount), 0) FROM crm_purchases WHERE member_id = ? AND occurred_at > CAST(? AS timestamptz) - interval '365 days'`,
			member, now).Scan(&w.Monetary365d).Error; err != nil {
			return err
		}
		act := Activity{Now: now, EventCount: p.EventCount, Events90d: w.Events90d, EventsPrev90: w.EventsPrev90d}
		if p.FirstEventAt != nil {
			act.FirstEventAt = *p.FirstEventAt
		}
		if p.LastEventAt != nil {
			act.LastEventAt = *p.LastEventAt
		}
		stage, stageWhy := StageOf(act, s.params)
		signals, err := s.signals.evaluate(ctx, s.db, member, s.params)
		if err != nil {
			return fmt.Errorf("churn signals: %w", err)
		}
		churn, churnFactors := ChurnRisk(act, s.params, signals)
		clv := CLV(w.Monetary365d, churn, 0, s.params)
		engFactors, err := s.engagementFactors(ctx, member, now)
		if err != nil {
			return err
		}
		tags, weights, err := s.interests(ctx, member, now)
		if err != nil {
			return err
		}
		factors, _ := json.Marshal(Explanation{Engagement: engFactors, Churn: churnFactors, Stage: stageWhy,
			CLV: []Factor{{"crm.factor.revenue", 0, w.Monetary365d}, {"crm.factor.retention", 0, math.Round(100 * retention(churn))}}})
		wj, _ := json.Marshal(weights)
		cols := map[string]any{"events_90d": w.Events90d, "events_prev_90d": w.EventsPrev90d, "monetary_365d": w.Monetary365d,
			"churn_risk": churn, "clv": clv, "advocate": w.Accepted365d >= s.params.AdvocateAnswers,
			"interests": pq.StringArray(tags), "interest_weights": string(wj), "factors": string(factors),
			"refreshed_at": now, "updated_at": now, "csat": sat.CSAT, "nps": sat.NPS}
		if stage != p.Stage {
			cols["stage"], cols["stage_since"] = string(stage), now
			if err := conn.Exec(`INSERT INTO crm_stage_history (member_id, from_stage, to_stage, reason, changed_at) VALUES (?, ?, ?, ?, ?)`,
				member, string(p.Stage), string(stage), stageWhy, now).Error; err != nil {
				return err
			}
			if err := Append(ctx, s.db, Event{MemberID: member, Kind: KindStageChanged, SubjectType: "stage:" + string(stage), OccurredAt: now}); err != nil {
				return err
			}
		}
		return conn.Table("crm_profiles").Where("member_id = ?", member).Updates(cols).Error
	})
}

// engagementFactors splits the decayed engagement score by event kind.
func (s *Service) engagementFactors(ctx context.Context, member int64, now time.Time) ([]Factor, error) {
	var rows []struct {
		Kind   string
		Points float64
		N      float64
	}
	err := db.Conn(ctx, s.db).Raw(
		`SELECT kind, sum(weight * power(0.5, greatest(0, extract(epoch FROM ? - occurred_at)) / ?)) AS points, count(*) AS n
		   FROM crm_events WHERE member_id = ? AND weight > 0 GROUP BY kind ORDER BY points DESC`,
		now, s.params.HalfLife.Seconds(), member).Scan(&rows).Error
	out := make([]Factor, 0, len(rows))
	for _, r := range rows {
		out = append(out, Factor{Key: "crm.kind." + r.Kind, Points: math.Round(r.Points*10) / 10, Value: r.N})
	}
	return out, err
}

// interests weighs the tags and categories of a member's events over the last year
// (decayed like engagement) and keeps the top five.
func (s *Service) interests(ctx context.Context, member int64, now time.Time) ([]string, map[string]float64, error) {
	var rows []struct {
		Tag    string
		Weight float64
	}
	err := db.Conn(ctx, s.db).Raw(
		`SELECT x.tag, sum(e.weight * power(0.5, greatest(0, extract(epoch FROM ? - e.occurred_at)) / ?)) AS weight
		   FROM crm_events e,
		        LATERAL (SELECT jsonb_array_elements_text(coalesce(e.detail->'tags', '[]')) AS tag
		                 UNION ALL SELECT 'category:' || (e.detail->>'category') WHERE (e.detail->>'category') IS NOT NULL) x
		  WHERE e.member_id = ? AND e.occurred_at > CAST(? AS timestamptz) - interval '365 days'
		  GROUP BY x.tag`, now, s.params.HalfLife.Seconds(), member, now).Scan(&rows).Error
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].Weight > rows[j].Weight || (rows[i].Weight == rows[j].Weight && rows[i].Tag < rows[j].Tag)
	})
	weights := map[string]float64{}
	tags := []string{}
	for i, r := range rows {
		if i >= 5 {
			break
		}
		weights[r.Tag] = math.Round(r.Weight*10) / 10
		tags = append(tags, strings.ToLower(r.Tag))
	}
	return tags, weights, nil
}

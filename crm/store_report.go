package crm

import (
	"context"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// The dashboard's read-only report queries. Every one leaves erased profiles out; the
// forum tables are only read (response times), never written.

func reportEquity(ctx context.Context, gdb *gorm.DB) (members int64, equity float64, err error) {
	err = db.Conn(ctx, gdb).Raw(`SELECT count(*), coalesce(sum(clv), 0) FROM crm_profiles WHERE NOT erased`).
		Row().Scan(&members, &equity)
	if err != nil {
		err = fmt.Errorf("customer equity: %w", err)
	}
	return members, equity, err
}

// reportStageWeeks reads the last snapshot of each past week from crm_stage_daily and
// counts the current week live from the profiles (crm_profiles_stage).
func reportStageWeeks(ctx context.Context, gdb *gorm.DB, weeks []time.Time) ([]StageWeek, error) {
	var snaps []struct {
		Week     time.Time
		Stage    string
		Members  int
		Replayed bool
	}
	conn := db.Conn(ctx, gdb)
	cur := weeks[len(weeks)-1]
	if err := conn.Raw(`SELECT DISTINCT ON (1, stage) date_trunc('week', day)::date AS week, stage, members, replayed
	                      FROM crm_stage_daily WHERE day >= CAST(? AS date) AND day < CAST(? AS date)
	                     ORDER BY 1, stage, day DESC`, isoDay(weeks[0]), isoDay(cur)).Scan(&snaps).Error; err != nil {
		return nil, fmt.Errorf("stage snapshots: %w", err)
	}
	out := make([]StageWeek, len(weeks))
	at := map[int64]int{}
	for i, w := range weeks {
		out[i] = StageWeek{Week: w, Counts: map[Stage]int{}, Missing: true}
		at[w.Unix()] = i
	}
	for _, s := range snaps {
		i, ok := at[weekStart(s.Week).Unix()]
		if !ok {
			continue
		}
		out[i].Counts[Stage(s.Stage)] = s.Members
		out[i].Replayed = out[i].Replayed || s.Replayed
		out[i].Missing = false
	}
	live, err := stageCounts(ctx, gdb)
	if err != nil {
		return nil, err
	}
	out[len(out)-1] = StageWeek{Week: cur, Counts: live}
	for i := range out { // every stage present, 0 when none
		for _, st := range Stages {
			if _, ok := out[i].Counts[st]; !ok {
				out[i].Counts[st] = 0
			}
		}
	}
	return out, nil
}

// stageCounts counts today's members per stage.
func stageCounts(ctx context.Context, gdb *gorm.DB) (map[Stage]int, error) {
	var rows []struct {
		Stage string
		N     int
	}
	if err := db.Conn(ctx, gdb).Raw(`SELECT stage, count(*) AS n FROM crm_profiles WHERE NOT erased GROUP BY stage`).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("stage counts: %w", err)
	}
	out := map[Stage]int{}
	for _, st := range Stages {
		out[st] = 0
	}
	for _, r := range rows {
		out[Stage(r.Stage)] = r.N
	}
	return out, nil
}

// reportEngagementWeeks sums event weights per week. Stage changes weigh nothing and
// are left out of the event and member counts too.
func reportEngagementWeeks(ctx context.Context, gdb *gorm.DB, weeks []time.Time, now time.Time) ([]EngagementWeek, error) {
	var rows []EngagementWeek
	err := db.Conn(ctx, gdb).Raw(
		`SELECT date_trunc('week', e.occurred_at AT TIME ZONE 'UTC') AS week, sum(e.weight) AS weight,
		        count(*) AS events, count(DISTINCT e.member_id) AS members
		   FROM crm_events e
		  WHERE e.occurred_at >= ? AND e.occurred_at <= ? AND e.kind <> ?
		    AND NOT EXISTS (SELECT 1 FROM crm_profiles p WHERE p.member_id = e.member_id AND p.erased)
		  GROUP BY 1`, weeks[0], now, string(KindStageChanged)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("engagement trend: %w", err)
	}
	out := make([]EngagementWeek, len(weeks))
	at := map[int64]int{}
	for i, w := range weeks {
		out[i] = EngagementWeek{Week: w}
		at[w.Unix()] = i
	}
	for _, r := range rows {
		if i, ok := at[weekStart(r.Week).Unix()]; ok {
			r.Week, r.Weight = weeks[i], math.Round(r.Weight*10)/10
			out[i] = r
		}
	}
	return out, nil
}

// paretoMetrics are the value measures the Pareto curve may use, in order of
// preference; the SQL is fixed here, never taken from a request.
var paretoMetrics = []struct{ name, expr string }{
	{"clv", "p.clv"},
	{"purchase_total", "p.purchase_total"},
	{"engagement", engagementExpr},
}

// reportPareto sorts members by value (the first metric anyone has) and returns the
// cumulative share of value at each percent of members.
func reportPareto(ctx context.Context, gdb *gorm.DB, now time.Time, halfLife time.Duration) (Pareto, error) {
	conn := db.Conn(ctx, gdb)
	var sums struct {
		N               int64
		CLV, Total, Eng float64
	}
	if err := conn.Raw(`SELECT count(*) AS n, coalesce(sum(p.clv), 0) AS clv, coalesce(sum(p.purchase_total), 0) AS total,
	                           coalesce(sum(`+engagementExpr+`), 0) AS eng
	                      FROM crm_profiles p WHERE NOT p.erased`, now, halfLife.Seconds()).Scan(&sums).Error; err != nil {
		return Pareto{}, fmt.Errorf("pareto totals: %w", err)
	}
	out := Pareto{Members: sums.N, Points: []ParetoPoint{}}
	var args []any
	for i, total := range []float64{sums.CLV, sums.Total, sums.Eng} {
		if total > 0 {
			out.Metric, out.Total = paretoMetrics[i].name, total
			if i == 2 {
				args = []any{now, halfLife.Seconds()}
			}
			break
		}
	}
	if out.Metric == "" {
		return out, nil
	}
	expr := ""
	for _, m := range paretoMetrics {
		if m.name == out.Metric {
			expr = m.expr
		}
	}
	var rows []struct {
		Rn  int64
		Cum float64
	}
	// one row per percent of members: the running total at the last member within it
	err := conn.Raw(`WITH v AS (SELECT `+expr+` AS v FROM crm_profiles p WHERE NOT p.erased),
	                      r AS (SELECT row_number() OVER w AS rn, sum(v) OVER w AS cum FROM v
	                            WINDOW w AS (ORDER BY v DESC ROWS UNBOUNDED PRECEDING))
	                 SELECT max(rn) AS rn, max(cum) AS cum FROM r GROUP BY ceil(rn * 100.0 / ?) ORDER BY 1`,
		append(args, sums.N)...).Scan(&rows).Error
	if err != nil {
		return Pareto{}, fmt.Errorf("pareto curve: %w", err)
	}
	out.Points = append(out.Points, ParetoPoint{})
	for _, r := range rows {
		out.Points = append(out.Points, ParetoPoint{
			MembersPct: math.Round(float64(r.Rn)/float64(sums.N)*1000) / 10,
			ValuePct:   math.Round(r.Cum/out.Total*1000) / 10})
	}
	out.TopShare = topShare(out.Points)
	out.Total = math.Round(out.Total*100) / 100
	return out, nil
}

// reportCLVBuckets counts members with no CLV, then splits positive CLV into up to
// clvBuckets equal buckets of a round width.
func reportCLVBuckets(ctx context.Context, gdb *gorm.DB) ([]CLVBucket, error) {
	conn := db.Conn(ctx, gdb)
	var head struct {
		Zero int64
		Top  float64
	}
	if err := conn.Raw(`SELECT count(*) FILTER (WHERE clv <= 0) AS zero, coalesce(max(clv), 0) AS top
	                      FROM crm_profiles WHERE NOT erased`).Scan(&head).Error; err != nil {
		return nil, fmt.Errorf("clv distribution: %w", err)
	}
	out := []CLVBucket{{From: 0, To: 0, Members: head.Zero}}
	if head.Top <= 0 {
		return out, nil
	}
	step := niceStep(head.Top / clvBuckets)
	n := int(math.Max(1, math.Ceil(head.Top/step)))
	var rows []struct {
		B int
		N int64
	}
	if err := conn.Raw(`SELECT least(floor(clv / ?)::int, ?) AS b, count(*) AS n FROM crm_profiles
	                     WHERE NOT erased AND clv > 0 GROUP BY 1`, step, n-1).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("clv distribution: %w", err)
	}
	for i := 0; i < n; i++ {
		out = append(out, CLVBucket{From: float64(i) * step, To: float64(i+1) * step})
	}
	for _, r := range rows {
		out[r.B+1].Members = r.N
	}
	return out, nil
}

// reportAtRisk lists valuable members at risk: churn risk ≥ AtRiskChurn, by CLV then
// engagement, leaving out members with neither value nor engagement to lose.
func reportAtRisk(ctx context.Context, gdb *gorm.DB, now time.Time, halfLife time.Duration) ([]AtRiskMember, error) {
	out := []AtRiskMember{}
	err := db.Conn(ctx, gdb).Raw(
		`SELECT * FROM (
		   SELECT p.member_id AS id, u.display_name AS name, u.handle, p.stage, p.churn_risk, p.clv,
		          round(CAST(`+engagementExpr+` AS numeric), 1) AS engagement, p.last_event_at
		     FROM crm_profiles p JOIN users u ON u.id = p.member_id
		    WHERE NOT p.erased AND p.churn_risk >= ?) x
		  WHERE x.clv > 0 OR x.engagement >= 1
		  ORDER BY x.clv DESC, x.engagement DESC, x.id LIMIT ?`,
		now, halfLife.Seconds(), AtRiskChurn, AtRiskListSize).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("members at risk: %w", err)
	}
	return out, nil
}

// reportResponseTimes measures questions asked since since, per category: time from
// the question to the first visible reply by someone else, and to the accepted answer.
func reportResponseTimes(ctx context.Context, gdb *gorm.DB, since time.Time) ([]ResponseCategory, error) {
	out := []ResponseCategory{}
	err := db.Conn(ctx, gdb).Raw(
		`WITH q AS (
		   SELECT t.id, t.category_id,
		          extract(epoch FROM (SELECT min(r.created_at) FROM forum_posts r
		                               WHERE r.thread_id = t.id AND r.number > 1 AND r.deleted_at IS NULL AND NOT r.hidden
		                                 AND r.author_id <> t.author_id) - t.created_at) AS first_reply,
		          extract(epoch FROM (SELECT a.created_at FROM forum_posts a WHERE a.id = t.accepted_post_id) - t.created_at) AS accepted
		     FROM forum_threads t
		    WHERE t.kind = 'question' AND t.deleted_at IS NULL AND NOT t.hidden AND t.created_at >= ?)
		 SELECT c.id AS category_id, c.slug, c.name, c.name_zh, count(*) AS questions,
		        count(q.first_reply) AS replied, count(q.accepted) AS accepted,
		        percentile_cont(0.5) WITHIN GROUP (ORDER BY q.first_reply) AS first_reply_p50,
		        percentile_cont(0.9) WITHIN GROUP (ORDER BY q.first_reply) AS first_reply_p90,
		        percentile_cont(0.5) WITHIN GROUP (ORDER BY q.accepted) AS accepted_p50,
		        percentile_cont(0.9) WITHIN GROUP (ORDER BY q.accepted) AS accepted_p90
		   FROM q JOIN forum_categories c ON c.id = q.category_id
		  GROUP BY c.id ORDER BY c.position, c.id`, since).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("response times: %w", err)
	}
	return out, nil
}

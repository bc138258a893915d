package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// A refresh recomputes members' windowed figures, lifecycle stage, churn risk with its
// factors, CLV, advocate flag, satisfaction and interests. The all-time figures it
// needs are on the profile (kept by Append); the windowed ones (events of the last 90
// days and the 90 before, accepted answers, CSAT and interests of the last year) are
// aggregated by PostgreSQL over the last year's events for a whole batch of members in
// one query, the rest is computed in Go (derive), and the batch is written back in
// one statement, so refreshing one member or a thousand costs about the same number of
// statements.

// refreshEvent is one event as a rebuild reads it.
type refreshEvent struct {
	MemberID   int64
	Kind       Kind
	Weight     float64
	Value      float64
	OccurredAt time.Time
}

// refreshInput is what derive needs about one member besides the profile.
type refreshInput struct {
	events90d     int                // events of the last 90 days (stage changes are not activity)
	eventsPrev90d int                // … of the 90 days before
	accepted      int                // accepted answers of the last 365 days
	csat          *float64           // share of answers rated helpful, last 365 days
	tags          map[string]float64 // tags and categories of the last 365 days' events, decayed to now
	monetary      float64            // purchases of the last 365 days
	signals       []Factor           // community signals that fired
	events        []refreshEvent     // a rebuild's: every event
}

// refreshed is the outcome of derive: the profile's refreshed columns.
type refreshed struct {
	MemberID        int64           `json:"member_id"`
	Events90d       int             `json:"events_90d"`
	EventsPrev90d   int             `json:"events_prev_90d"`
	Monetary365d    float64         `json:"monetary_365d"`
	ChurnRisk       int             `json:"churn_risk"`
	CLV             float64         `json:"clv"`
	Advocate        bool            `json:"advocate"`
	Interests       []string        `json:"interests"`
	InterestWeights json.RawMessage `json:"interest_weights"`
	Factors         json.RawMessage `json:"factors"`
	CSAT            *float64        `json:"csat"`
	Stage           Stage           `json:"stage"`
	StageSince      time.Time       `json:"stage_since"`
	// stage change, when there is one
	changed  bool
	from     Stage
	stageWhy string
}

// days is n days before t; the SQL of the segment compiler and the reports use
// interval 'n days' in UTC, which is the same instant.
func days(t time.Time, n int) time.Time { return t.Add(-time.Duration(n) * 24 * time.Hour) }

// derive computes a member's refreshed figures at now from the profile (its all-time
// figures: counters, first and last event, engagement points per kind, latest NPS) and
// the windowed figures of its last year's events.
func derive(p Profile, in refreshInput, now time.Time, params Params) refreshed {
	e90, prev90 := in.events90d, in.eventsPrev90d
	r := refreshed{MemberID: p.MemberID, Events90d: e90, EventsPrev90d: prev90, Monetary365d: in.monetary,
		Advocate: in.accepted >= params.AdvocateAnswers, Stage: p.Stage, StageSince: p.StageSince, CSAT: in.csat}
	act := Activity{Now: now, EventCount: p.EventCount, Events90d: e90, EventsPrev90: prev90}
	if p.FirstEventAt != nil {
		act.FirstEventAt = *p.FirstEventAt
	}
	if p.LastEventAt != nil {
		act.LastEventAt = *p.LastEventAt
	}
	stage, stageWhy := StageOf(act, params)
	churn, churnFactors := ChurnRisk(act, params, in.signals)
	r.ChurnRisk, r.CLV = churn, CLV(in.monetary, churn, 0, params)
	if stage != p.Stage {
		r.changed, r.from, r.stageWhy = true, p.Stage, stageWhy
		r.Stage, r.StageSince = stage, now
	}
	// engagement split by event kind, largest first: the all-time points the profile
	// keeps decayed to the last event, decayed on to now
	points, counts := p.kindTotals()
	f := 1.0
	if p.LastEventAt != nil {
		f = math.Pow(0.5, math.Max(0, now.Sub(*p.LastEventAt).Seconds())/params.HalfLife.Seconds())
	}
	engFactors := make([]Factor, 0, len(counts))
	for k, n := range counts {
		engFactors = append(engFactors, Factor{Key: "crm.kind." + k, Points: points[k] * f, Value: float64(n)})
	}
	sort.Slice(engFactors, func(i, j int) bool {
		a, b := engFactors[i], engFactors[j]
		return a.Points > b.Points || (a.Points == b.Points && a.Key < b.Key)
	})
	for i := range engFactors {
		engFactors[i].Points = math.Round(engFactors[i].Points*10) / 10
	}
	// interests: the tags and categories of the last year's events, decayed like
	// engagement; the top five
	tagWeights := in.tags
	tags := make([]string, 0, len(tagWeights))
	for t := range tagWeights {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool {
		a, b := tagWeights[tags[i]], tagWeights[tags[j]]
		return a > b || (a == b && tags[i] < tags[j])
	})
	weights := map[string]float64{}
	r.Interests = []string{}
	for _, t := range tags[:min(len(tags), 5)] {
		weights[t] = math.Round(tagWeights[t]*10) / 10
		r.Interests = append(r.Interests, strings.ToLower(t))
	}
	factors, _ := json.Marshal(Explanation{Engagement: engFactors, Churn: churnFactors, Stage: stageWhy,
		CLV: []Factor{{"crm.factor.revenue", 0, in.monetary}, {"crm.factor.retention", 0, math.Round(100 * retention(churn))}}})
	wj, _ := json.Marshal(weights)
	r.Factors, r.InterestWeights = factors, wj
	return r
}

// batchEvents is a query (and its arguments) of the events of the profiles ps at or
// after from, for a refresh (trusting the profile's first_event_at) or a rebuild (not).
// from is a constant of the statement, so the planner leaves out the partitions before
// it: a refresh reads the 13 monthly partitions of the last year instead of every one
// since the first member joined.
func batchEvents(ps []Profile, from time.Time, rebuild bool) (string, []any) {
	const cols = `e.member_id, e.kind, e.subject_id, e.weight, e.value, e.occurred_at, e.detail`
	members := make([]int64, len(ps))
	since := make([]string, len(ps))
	for i, p := range ps {
		members[i] = p.MemberID
		since[i] = "-infinity"
		if p.FirstEventAt != nil && !rebuild {
			since[i] = p.FirstEventAt.Format(time.RFC3339Nano)
		}
	}
	ids := pq.Int64Array(members)
	if lo, hi := slices.Min(members), slices.Max(members); hi-lo < 2*int64(len(members)) {
		// a dense run of members (RefreshAll): one range scan of crm_events_member per
		// partition, restricted to the members asked for
		return `SELECT ` + cols + ` FROM crm_events e WHERE e.member_id BETWEEN ? AND ? AND e.member_id = ANY(?) AND e.occurred_at > ?`,
			[]any{lo, hi, ids, from}
	}
	// members scattered (the queue): per member, only the partitions from its first
	// event on too (run-time partition pruning); every event of a profile is at or
	// after its first_event_at but stage changes, which weigh nothing and carry no tags
	return `SELECT ` + cols + ` FROM unnest(CAST(? AS bigint[]), CAST(? AS timestamptz[])) AS m(id, since)
	         CROSS JOIN LATERAL (SELECT * FROM crm_events WHERE member_id = m.id AND occurred_at >= m.since AND occurred_at > ?) e`,
		[]any{ids, pq.StringArray(since), from}
}

// windowQuery is the statement (and its arguments) aggregating, per member of ps, the
// windowed figures of a refresh at now from the last 365 days of events: events of
// the last 90 days and of the 90 before (stage changes are not activity), accepted
// answers, CSAT (the latest rating of each rated answer) and the tags and categories
// with their weights decayed to now. One row per member with events in the year.
func windowQuery(ps []Profile, now time.Time, params Params, rebuild bool) (string, []any) {
	events, args := batchEvents(ps, days(now, 365), rebuild)
	return `WITH e AS MATERIALIZED (` + events + `),
	     a AS (SELECT member_id,
	                  count(*) FILTER (WHERE kind <> ? AND occurred_at > ? AND occurred_at <= ?) AS events90d,
	                  count(*) FILTER (WHERE kind <> ? AND occurred_at > ? AND occurred_at <= ?) AS events_prev90d,
	                  count(*) FILTER (WHERE kind = ? AND occurred_at <= ?) AS accepted
	             FROM e GROUP BY member_id),
	     sat AS (SELECT member_id, 100 * avg(value) AS csat
	               FROM (SELECT DISTINCT ON (member_id, subject_id) member_id, CAST(value AS float8) AS value FROM e
	                      WHERE kind = ? ORDER BY member_id, subject_id, occurred_at DESC) l
	              GROUP BY member_id),
	     tags AS (SELECT member_id, jsonb_object_agg(tag, w) AS tags
	                FROM (SELECT e.member_id, t.tag,
	                             sum(e.weight * power(0.5, greatest(0, date_part('epoch', CAST(? AS timestamptz) - e.occurred_at)) / ?)) AS w
	                        FROM e, LATERAL (SELECT jsonb_array_elements_text(coalesce(e.detail->'tags', '[]'))
	                                         UNION ALL SELECT 'category:' || (e.detail->>'category') WHERE e.detail->>'category' IS NOT NULL) t(tag)
	                       GROUP BY e.member_id, t.tag) x
	               GROUP BY member_id)
	SELECT a.member_id, a.events90d, a.events_prev90d, a.accepted, sat.csat, tags.tags
	  FROM a LEFT JOIN sat USING (member_id) LEFT JOIN tags USING (member_id)`,
		append(args, string(KindStageChanged), days(now, 90), now, string(KindStageChanged), days(now, 180), days(now, 90),
			string(KindAnswerAccepted), now, string(KindAnswerRated), now, params.HalfLife.Seconds())
}

// loadInputs reads, for the profiles' members, the windowed figures of their last
// year's events (windowQuery), last year's purchases and the community signals, in
// one query each; with rebuild, every event too (for rebuildIncremental).
func (s *Service) loadInputs(ctx context.Context, conn *gorm.DB, ps []Profile, now time.Time, rebuild bool) (map[int64]*refreshInput, error) {
	in := make(map[int64]*refreshInput, len(ps))
	members := make([]int64, len(ps))
	for i, p := range ps {
		in[p.MemberID] = &refreshInput{}
		members[i] = p.MemberID
	}
	ids := pq.Int64Array(members)
	q, args := windowQuery(ps, now, s.params, rebuild)
	var windows []struct {
		MemberID      int64
		Events90d     int `gorm:"column:events90d"`
		EventsPrev90d int `gorm:"column:events_prev90d"`
		Accepted      int
		CSAT          *float64 `gorm:"column:csat"`
		Tags          []byte
	}
	if err := conn.Raw(q, args...).Scan(&windows).Error; err != nil {
		return nil, err
	}
	for _, w := range windows {
		x := in[w.MemberID]
		if x == nil {
			continue
		}
		x.events90d, x.eventsPrev90d, x.accepted, x.csat = w.Events90d, w.EventsPrev90d, w.Accepted, w.CSAT
		if len(w.Tags) > 0 {
			if err := json.Unmarshal(w.Tags, &x.tags); err != nil {
				return nil, err
			}
		}
	}
	if rebuild {
		q, args := batchEvents(ps, time.Time{}, true)
		rows, err := conn.Raw(`SELECT e.member_id, e.kind, e.weight, CAST(e.value AS float8), e.occurred_at FROM (`+q+`) e`, args...).Rows()
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var e refreshEvent
			var kind string
			if err := rows.Scan(&e.MemberID, &kind, &e.Weight, &e.Value, &e.OccurredAt); err != nil {
				return nil, err
			}
			e.Kind = Kind(kind)
			if x := in[e.MemberID]; x != nil {
				x.events = append(x.events, e)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var money []struct {
		MemberID int64
		Total    float64
	}
	if err := conn.Raw(`SELECT member_id, sum(amount)::float8 AS total FROM crm_purchases
	                     WHERE member_id = ANY(?) AND occurred_at > ? GROUP BY member_id`, ids, days(now, 365)).
		Scan(&money).Error; err != nil {
		return nil, err
	}
	for _, m := range money {
		in[m.MemberID].monetary = m.Total
	}
	signals, err := s.signals.evaluate(ctx, s.db, members, s.params)
	if err != nil {
		return nil, fmt.Errorf("churn signals: %w", err)
	}
	for m, fs := range signals {
		in[m].signals = fs
	}
	return in, nil
}

// refreshMembers refreshes, in the transaction in ctx, the member own (0: none) and
// those of others no other refresh holds, and reports who was refreshed. Refreshes
// take a per-member advisory lock among themselves (own waits for it, the others are
// tried), so two never record the same stage change; actions appending events never
// wait for it. Profile rows are locked only for the final write: own waiting (while
// no other profile is held), the others SKIP LOCKED, so an action touching several
// profiles can never deadlock with a batch; a member skipped that way is left out.
// The pending crm.profile rows of the refreshed members are read before their events
// and marked processed with the write: the refresh answers them (all but those another
// transaction holds, which never waits here; ownRow, when not 0, is the row that asked
// for own: answered while own's lock was awaited, own needs no refresh). With rebuild,
// the incremental fields are recomputed from the events too (Rebuild).
func (s *Service) refreshMembers(ctx context.Context, own, ownRow int64, others []int64, rebuild bool) (map[int64]bool, error) {
	conn := db.Conn(ctx, s.db)
	if own != 0 {
		if err := conn.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('crm.refresh:' || CAST(? AS bigint), 0))`, own).Error; err != nil {
			return nil, err
		}
		// the refresh that held the lock may have answered ownRow meanwhile
		var answered bool
		if ownRow != 0 {
			if err := conn.Raw(`SELECT processed_at IS NOT NULL FROM outbox WHERE id = ?`, ownRow).Scan(&answered).Error; err != nil {
				return nil, err
			}
		}
		if answered {
			own = 0
		}
	}
	others = slices.DeleteFunc(slices.Clone(others), func(m int64) bool { return m == own })
	slices.Sort(others)
	others = slices.Compact(others)
	var members []int64
	if len(others) > 0 {
		if err := conn.Raw(`SELECT m FROM unnest(CAST(? AS bigint[])) AS m
		                     WHERE pg_try_advisory_xact_lock(hashtextextended('crm.refresh:' || m, 0)) ORDER BY m`,
			pq.Int64Array(others)).Scan(&members).Error; err != nil {
			return nil, err
		}
	}
	if own != 0 {
		members = append(members, own)
	}
	if len(members) == 0 {
		return nil, nil
	}
	var answered []struct{ ID, MemberID int64 }
	if err := conn.Raw(`SELECT id, CAST(payload->>'member_id' AS bigint) AS member_id FROM outbox
	                     WHERE topic = ? AND processed_at IS NULL AND parked_at IS NULL
	                       AND CAST(payload->>'member_id' AS bigint) = ANY(?)`, TopicProfile, pq.Int64Array(members)).
		Scan(&answered).Error; err != nil {
		return nil, err
	}
	// taken after that read: every row answered committed before refreshed_at, and
	// every event committed before it is read below
	now := s.refreshNow()
	var ps []Profile
	if err := conn.Raw(`SELECT * FROM crm_profiles WHERE member_id = ANY(?) AND NOT erased`, pq.Int64Array(members)).
		Scan(&ps).Error; err != nil {
		return nil, err
	}
	done := map[int64]bool{}
	if len(ps) > 0 {
		lock := func() error {
			var locked []int64
			if own != 0 {
				if err := conn.Raw(`SELECT member_id FROM crm_profiles WHERE member_id = ? FOR UPDATE`, own).Scan(&locked).Error; err != nil {
					return err
				}
			}
			if len(members) > 1 || own == 0 {
				var more []int64
				if err := conn.Raw(`SELECT member_id FROM crm_profiles WHERE member_id = ANY(?) AND member_id <> ? ORDER BY member_id FOR UPDATE SKIP LOCKED`,
					pq.Int64Array(members), own).Scan(&more).Error; err != nil {
					return err
				}
				locked = append(locked, more...)
			}
			for _, m := range locked {
				done[m] = true
			}
			ps = slices.DeleteFunc(ps, func(p Profile) bool { return !done[p.MemberID] })
			return nil
		}
		// a rebuild overwrites the counters Append moves, so it holds the profiles
		// before reading the events; a refresh only at the write
		if rebuild {
			if err := lock(); err != nil {
				return nil, err
			}
		}
		in, err := s.loadInputs(ctx, conn, ps, now, rebuild)
		if err != nil {
			return nil, err
		}
		if !rebuild {
			if err := lock(); err != nil {
				return nil, err
			}
		}
		if err := s.writeRefreshed(ctx, ps, in, now, rebuild); err != nil {
			return nil, err
		}
	}
	if own != 0 {
		done[own] = true // refreshed, or without a profile to refresh
	}
	var rows []int64
	for _, r := range answered {
		if done[r.MemberID] {
			rows = append(rows, r.ID)
		}
	}
	if len(rows) > 0 {
		if err := conn.Exec(`UPDATE outbox SET processed_at = now() WHERE id IN (
		                       SELECT id FROM outbox WHERE id = ANY(?) AND processed_at IS NULL FOR UPDATE SKIP LOCKED)`,
			pq.Int64Array(rows)).Error; err != nil {
			return nil, err
		}
	}
	return done, nil
}

// writeRefreshed derives the locked profiles' figures at now and writes them back in
// one statement; stage changes go to the history and the timeline.
func (s *Service) writeRefreshed(ctx context.Context, ps []Profile, in map[int64]*refreshInput, now time.Time, rebuild bool) error {
	if len(ps) == 0 {
		return nil
	}
	conn := db.Conn(ctx, s.db)
	out := make([]refreshed, len(ps))
	var incs []rebuilt
	for i, p := range ps {
		if rebuild {
			inc := rebuildIncremental(p.MemberID, in[p.MemberID].events, s.params.HalfLife)
			incs = append(incs, inc)
			inc.apply(&p)
		}
		out[i] = derive(p, *in[p.MemberID], now, s.params)
		if r := out[i]; r.changed {
			if err := conn.Exec(`INSERT INTO crm_stage_history (member_id, from_stage, to_stage, reason, changed_at) VALUES (?, ?, ?, ?, ?)`,
				r.MemberID, string(r.from), string(r.Stage), r.stageWhy, now).Error; err != nil {
				return err
			}
			if err := Append(ctx, s.db, Event{MemberID: r.MemberID, Kind: KindStageChanged, SubjectType: "stage:" + string(r.Stage), OccurredAt: now}); err != nil {
				return err
			}
		}
	}
	if rebuild {
		batch, err := json.Marshal(incs)
		if err != nil {
			return err
		}
		if err := conn.Exec(
			`UPDATE crm_profiles p SET event_count = x.event_count, first_event_at = x.first_event_at, last_event_at = x.last_event_at,
			        engagement = x.engagement, engagement_at = x.engagement_at, purchases = x.purchases, purchase_total = x.purchase_total,
			        kind_points = x.kind_points, kind_counts = x.kind_counts, nps = x.nps, nps_at = x.nps_at
			   FROM jsonb_to_recordset(CAST(? AS jsonb)) AS x(member_id bigint, event_count integer, first_event_at timestamptz,
			        last_event_at timestamptz, engagement double precision, engagement_at timestamptz, purchases integer, purchase_total numeric,
			        kind_points jsonb, kind_counts jsonb, nps smallint, nps_at timestamptz)
			  WHERE p.member_id = x.member_id`, string(batch)).Error; err != nil {
			return err
		}
	}
	batch, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return conn.Exec(
		`UPDATE crm_profiles p SET events_90d = x.events_90d, events_prev_90d = x.events_prev_90d, monetary_365d = x.monetary_365d,
		        churn_risk = x.churn_risk, clv = x.clv, advocate = x.advocate, interests = x.interests,
		        interest_weights = x.interest_weights, factors = x.factors, csat = x.csat,
		        stage = x.stage, stage_since = x.stage_since, refreshed_at = ?, updated_at = ?
		   FROM jsonb_to_recordset(CAST(? AS jsonb)) AS x(member_id bigint, events_90d integer, events_prev_90d integer,
		        monetary_365d numeric, churn_risk smallint, clv numeric, advocate boolean, interests text[],
		        interest_weights jsonb, factors jsonb, csat double precision, stage text, stage_since timestamptz)
		  WHERE p.member_id = x.member_id AND NOT p.erased`, now, now, string(batch)).Error
}

// refreshNow is the time a refresh is taken at: every event committed before it is in
// the refresh (its statements start later), which refreshed_at then records.
func (s *Service) refreshNow() time.Time { return s.now().Truncate(time.Microsecond) }

// RefreshMember recomputes one member's windowed figures, lifecycle stage, churn risk
// with its factors, CLV, advocate flag and interests. A stage change is recorded in
// the history and as an event, in the same transaction.
func (s *Service) RefreshMember(ctx context.Context, member int64) error {
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		_, err := s.refreshMembers(ctx, member, 0, nil, false)
		return err
	})
}

// rebuilt is a member's incremental fields recomputed from their events.
type rebuilt struct {
	MemberID      int64              `json:"member_id"`
	EventCount    int                `json:"event_count"`
	FirstEventAt  *time.Time         `json:"first_event_at"`
	LastEventAt   *time.Time         `json:"last_event_at"`
	Engagement    float64            `json:"engagement"`
	EngagementAt  *time.Time         `json:"engagement_at"`
	Purchases     int                `json:"purchases"`
	PurchaseTotal float64            `json:"purchase_total"`
	KindPoints    map[string]float64 `json:"kind_points"`
	KindCounts    map[string]int     `json:"kind_counts"`
	NPS           *int               `json:"nps"`
	NPSAt         *time.Time         `json:"nps_at"`
}

// rebuildIncremental computes, from all of a member's events, the fields Append keeps
// event by event (as RebuildIncremental does in SQL): stage changes are not activity,
// and the engagement score and the points of each kind are decayed to the last event.
func rebuildIncremental(member int64, events []refreshEvent, halfLife time.Duration) rebuilt {
	r := rebuilt{MemberID: member, KindPoints: map[string]float64{}, KindCounts: map[string]int{}}
	for _, e := range events {
		if e.Kind == KindStageChanged {
			continue
		}
		r.EventCount++
		r.KindCounts[string(e.Kind)]++
		if r.FirstEventAt == nil || e.OccurredAt.Before(*r.FirstEventAt) {
			r.FirstEventAt = &e.OccurredAt
		}
		if r.LastEventAt == nil || e.OccurredAt.After(*r.LastEventAt) {
			r.LastEventAt = &e.OccurredAt
		}
		if e.Kind == KindPurchase {
			r.Purchases++
			r.PurchaseTotal += e.Value
		}
		if v := int(math.Round(e.Value)); e.Kind == KindNPSAnswered &&
			(r.NPSAt == nil || e.OccurredAt.After(*r.NPSAt) || e.OccurredAt.Equal(*r.NPSAt) && v > *r.NPS) {
			r.NPS, r.NPSAt = &v, &e.OccurredAt
		}
	}
	if r.LastEventAt != nil {
		for _, e := range events {
			if e.Kind != KindStageChanged {
				x := e.Weight * decay(r.LastEventAt.Sub(e.OccurredAt), halfLife)
				r.Engagement += x
				r.KindPoints[string(e.Kind)] += x
			}
		}
		r.EngagementAt = r.LastEventAt
	}
	return r
}

// apply puts the rebuilt fields on the profile p (as derive reads them).
func (r rebuilt) apply(p *Profile) {
	p.EventCount, p.FirstEventAt, p.LastEventAt = r.EventCount, r.FirstEventAt, r.LastEventAt
	p.KindPoints, _ = json.Marshal(r.KindPoints)
	p.KindCounts, _ = json.Marshal(r.KindCounts)
	p.NPS, p.NPSAt = r.NPS, r.NPSAt
}

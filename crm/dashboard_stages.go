package crm

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/db"
)

// Members per stage over time come from crm_stage_daily, one row per stage per day,
// rather than from crm_stage_history: the history holds a row per member per change,
// so "stage of every member at the end of each of 12 weeks" would be a lateral lookup
// per member per week (12 million index probes at a million members) on every
// dashboard view, while the snapshot is 60 rows. The scheduled refresh, which already
// visits every profile, writes today's row (RefreshReports). Weeks before the first
// snapshot are replayed once from the events with the same lifecycle rules (StageOf),
// so a new installation or the demo shows a real trend rather than a single point.

// RefreshReports is what the scheduled refresh runs after every profile is current:
// today's stage snapshot, the replay of any past dashboard week that has none, and the
// kept counts of saved segments.
func (s *Service) RefreshReports(ctx context.Context) error {
	if err := s.SnapshotStages(ctx); err != nil {
		return err
	}
	if err := s.ReplayStages(ctx); err != nil {
		return err
	}
	return s.Segments().Recount(ctx)
}

func isoDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// SnapshotStages records today's (UTC) members per stage; later runs the same day
// overwrite it.
func (s *Service) SnapshotStages(ctx context.Context) error {
	err := db.Conn(ctx, s.db).Exec(
		`INSERT INTO crm_stage_daily (day, stage, members, replayed)
		 SELECT CAST(? AS date), st.stage, count(p.member_id), false
		   FROM unnest(CAST(? AS text[])) AS st(stage)
		   LEFT JOIN crm_profiles p ON p.stage = st.stage AND NOT p.erased
		  GROUP BY st.stage
		 ON CONFLICT (day, stage) DO UPDATE SET members = EXCLUDED.members, replayed = false`,
		isoDay(s.now()), pq.StringArray(stageNames)).Error
	if err != nil {
		return fmt.Errorf("stage snapshot: %w", err)
	}
	return nil
}

// ReplayStages fills each past dashboard week that has no snapshot with the stages
// its members had at the week's end, recomputed from their events. Weeks that have
// one are left alone, so after the first run this costs one small query.
func (s *Service) ReplayStages(ctx context.Context) error {
	weeks := dashboardWeeks(s.now())
	past, cur := weeks[:len(weeks)-1], weeks[len(weeks)-1]
	var have []time.Time
	if err := db.Conn(ctx, s.db).Raw(`SELECT DISTINCT date_trunc('week', day)::date FROM crm_stage_daily
	                                   WHERE day >= CAST(? AS date) AND day < CAST(? AS date)`, isoDay(past[0]), isoDay(cur)).
		Scan(&have).Error; err != nil {
		return fmt.Errorf("stage snapshots: %w", err)
	}
	done := map[int64]bool{}
	for _, h := range have {
		done[weekStart(h).Unix()] = true
	}
	for _, w := range past {
		if done[w.Unix()] {
			continue
		}
		end := w.AddDate(0, 0, 7)
		counts, err := s.stagesAt(ctx, end)
		if err != nil {
			return err
		}
		for _, st := range Stages {
			if err := db.Conn(ctx, s.db).Exec(`INSERT INTO crm_stage_daily (day, stage, members, replayed) VALUES (CAST(? AS date), ?, ?, true)
			                                    ON CONFLICT (day, stage) DO NOTHING`, isoDay(end.AddDate(0, 0, -1)), string(st), counts[st]).Error; err != nil {
				return fmt.Errorf("stage replay: %w", err)
			}
		}
	}
	return nil
}

// stagesAt applies the lifecycle rules as they would have run at t to every member
// who had joined by then. Only the events of the last window before t matter (older
// activity means dormant), so the scan stays within a few monthly partitions.
func (s *Service) stagesAt(ctx context.Context, t time.Time) (map[Stage]int, error) {
	window := time.Duration(max(180, s.params.DormantDays+1)) * 24 * time.Hour
	rows, err := db.Conn(ctx, s.db).Raw(
		`SELECT p.event_count - coalesce(x.after, 0), p.first_event_at, x.last_before, coalesce(x.e90, 0), coalesce(x.prev, 0)
		   FROM crm_profiles p
		   LEFT JOIN (SELECT member_id,
		                     count(*) FILTER (WHERE occurred_at > @t) AS after,
		                     max(occurred_at) FILTER (WHERE occurred_at <= @t) AS last_before,
		                     count(*) FILTER (WHERE occurred_at > CAST(@t AS timestamptz) - interval '90 days' AND occurred_at <= @t) AS e90,
		                     count(*) FILTER (WHERE occurred_at > CAST(@t AS timestamptz) - interval '180 days'
		                                        AND occurred_at <= CAST(@t AS timestamptz) - interval '90 days') AS prev
		                FROM crm_events WHERE occurred_at > @from AND kind <> @stage GROUP BY member_id) x ON x.member_id = p.member_id
		  WHERE NOT p.erased AND p.first_event_at <= @t`,
		map[string]any{"t": t, "from": t.Add(-window), "stage": string(KindStageChanged)}).Rows()
	if err != nil {
		return nil, fmt.Errorf("stage replay: %w", err)
	}
	defer rows.Close()
	counts := map[Stage]int{}
	for rows.Next() {
		var a Activity
		var last *time.Time
		if err := rows.Scan(&a.EventCount, &a.FirstEventAt, &last, &a.Events90d, &a.EventsPrev90); err != nil {
			return nil, fmt.Errorf("stage replay: %w", err)
		}
		if a.EventCount <= 0 {
			continue
		}
		a.Now, a.LastEventAt = t, t.Add(-window-24*time.Hour) // nothing in the window: idle longer than it
		if last != nil {
			a.LastEventAt = *last
		}
		st, _ := StageOf(a, s.params)
		counts[st]++
	}
	return counts, rows.Err()
}

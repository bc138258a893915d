package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hearth-community/hearth/internal/db"
)

// Incremental are the profile fields kept event by event in Append's transaction.
type Incremental struct {
	EventCount    int
	FirstEventAt  *time.Time
	LastEventAt   *time.Time
	Engagement    float64 // decayed to EngagementAt
	EngagementAt  *time.Time
	Purchases     int
	PurchaseTotal float64
	KindPoints    json.RawMessage // {kind: engagement points decayed to LastEventAt}
	KindCounts    json.RawMessage // {kind: events}
	NPS           *int            // the latest NPS answer
	NPSAt         *time.Time      `gorm:"column:nps_at"`
}

// Incremental reads the incrementally kept fields of a member's profile.
func (s *Service) Incremental(ctx context.Context, member int64) (Incremental, error) {
	var inc Incremental
	err := db.Conn(ctx, s.db).Raw(
		`SELECT event_count, first_event_at, last_event_at, engagement, engagement_at, purchases, purchase_total,
		        kind_points, kind_counts, nps, nps_at
		   FROM crm_profiles WHERE member_id = ?`, member).Scan(&inc).Error
	return inc, err
}

// RebuildIncremental recomputes the incremental fields from the member's events
// alone. It must equal Incremental at any time: the events are the truth, the profile
// a cache of them (a test checks this on random event streams).
func (s *Service) RebuildIncremental(ctx context.Context, member int64) (Incremental, error) {
	var inc Incremental
	err := db.Conn(ctx, s.db).Raw(
		`WITH e AS MATERIALIZED (SELECT *, weight * power(0.5, extract(epoch FROM max(occurred_at) OVER () - occurred_at) / @h) AS points
		                           FROM crm_events WHERE member_id = @m AND kind <> @stage),
		      k AS (SELECT kind, sum(points) AS points, count(*) AS n FROM e GROUP BY kind),
		      nps AS (SELECT round(value) AS nps, occurred_at AS nps_at FROM e WHERE kind = @nps ORDER BY occurred_at DESC, value DESC LIMIT 1)
		 SELECT count(*) AS event_count, min(occurred_at) AS first_event_at, max(occurred_at) AS last_event_at,
		        coalesce(sum(points), 0) AS engagement, max(occurred_at) AS engagement_at,
		        count(*) FILTER (WHERE kind = @purchase) AS purchases,
		        coalesce(sum(value) FILTER (WHERE kind = @purchase), 0) AS purchase_total,
		        (SELECT coalesce(jsonb_object_agg(kind, points), '{}') FROM k) AS kind_points,
		        (SELECT coalesce(jsonb_object_agg(kind, n), '{}') FROM k) AS kind_counts,
		        (SELECT nps FROM nps) AS nps, (SELECT nps_at FROM nps) AS nps_at
		   FROM e`,
		map[string]any{"m": member, "stage": string(KindStageChanged), "purchase": string(KindPurchase),
			"nps": string(KindNPSAnswered), "h": s.params.HalfLife.Seconds()}).Scan(&inc).Error
	return inc, err
}

// Rebuild replaces a member's incremental fields with the ones recomputed from their
// events, and refreshes the rest of the profile, in one transaction.
func (s *Service) Rebuild(ctx context.Context, member int64) error {
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		_, err := s.refreshMembers(ctx, member, 0, nil, true)
		if err != nil {
			return fmt.Errorf("rebuild %d: %w", member, err)
		}
		return nil
	})
}

// RebuildAll rebuilds every profile from its events (Rebuild, in batches like
// RefreshAll), then ranks them like RefreshAll.
func (s *Service) RebuildAll(ctx context.Context, progress func(done, total int64)) error {
	return s.refreshAll(ctx, progress, true, false)
}

// refreshAllBatch is how many profiles RefreshAll refreshes per transaction, and
// refreshAllParallel how many such batches run at once.
const (
	refreshAllBatch    = 1000
	refreshAllParallel = 2
)

// RefreshAll refreshes every profile in batches of refreshAllBatch members (their
// events read in one query, written back in one statement), a few batches at once,
// calling progress after each; then the figures that compare members with each
// other: RFM quintiles and segment names, CLV percentile and the core-member flag (top
// 20 % by value, the 80/20 rule), and re-bases every engagement score to now.
func (s *Service) RefreshAll(ctx context.Context, progress func(done, total int64)) error {
	return s.refreshAll(ctx, progress, false, false)
}

// refreshAll runs RefreshAll (or RebuildAll). gentle is for the scheduled refresh,
// which shares the machine with the workers refreshing profiles as events arrive: one
// batch at a time, each followed by a pause as long as it took, so it takes at most
// half of what it could, and then by yieldToLive. Afterwards the profiles and their
// segment filter rows are vacuumed: every row was rewritten, and segment counts are
// index-only scans of crm_segment_filters that need its visibility map current (a
// lower autovacuum threshold on crm_profiles was tried and dropped: under 500 events/s
// it vacuumed the table and all its indexes every half minute and slowed the live
// refreshes tenfold).
func (s *Service) refreshAll(ctx context.Context, progress func(done, total int64), rebuild, gentle bool) error {
	var total int64
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM crm_profiles WHERE NOT erased`).Scan(&total).Error; err != nil {
		return err
	}
	batches := make(chan []int64)
	errs := make(chan error, refreshAllParallel+1)
	var mu sync.Mutex
	var done int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parallel := refreshAllParallel
	if gentle {
		parallel = 1
	}
	for range parallel {
		wg.Go(func() {
			for ids := range batches {
				t0 := time.Now()
				if err := s.refreshBatch(ctx, ids, rebuild); err != nil {
					errs <- fmt.Errorf("refresh %d…%d: %w", ids[0], ids[len(ids)-1], err)
					cancel()
					return
				}
				if gentle {
					select {
					case <-time.After(time.Since(t0)):
					case <-ctx.Done():
					}
					s.yieldToLive(ctx)
				}
				mu.Lock()
				done += int64(len(ids))
				if progress != nil {
					progress(done, total)
				}
				mu.Unlock()
			}
		})
	}
	var after int64
	for ctx.Err() == nil {
		var ids []int64
		if err := s.db.WithContext(ctx).Raw(`SELECT member_id FROM crm_profiles WHERE member_id > ? AND NOT erased ORDER BY member_id LIMIT ?`,
			after, refreshAllBatch).Scan(&ids).Error; err != nil {
			errs <- err
			break
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		select {
		case batches <- ids:
		case <-ctx.Done():
		}
	}
	close(batches)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.rankAll(ctx); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Exec(`VACUUM (ANALYZE) crm_profiles, crm_segment_filters`).Error
}

// The scheduled refresh holds back while the live ones lag: while the oldest pending
// crm.profile row has waited more than liveLag it waits, liveYieldMax at most per batch
// (so it still finishes when the workers cannot keep up).
const (
	liveLag      = 250 * time.Millisecond
	liveYieldMax = 5 * time.Second
)

// yieldToLive waits while the live refreshes lag behind their events (see liveLag).
func (s *Service) yieldToLive(ctx context.Context) {
	for deadline := time.Now().Add(liveYieldMax); time.Now().Before(deadline); {
		var behind bool
		if err := s.db.WithContext(ctx).Raw(`SELECT coalesce((SELECT created_at < now() - make_interval(secs => ?) FROM outbox
		                                       WHERE topic = ? AND processed_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT 1), false)`,
			liveLag.Seconds(), TopicProfile).Scan(&behind).Error; err != nil || !behind {
			return
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

// refreshBatch refreshes the members in one transaction; those another refresh or an
// action holds at that moment are refreshed one by one afterwards.
func (s *Service) refreshBatch(ctx context.Context, ids []int64, rebuild bool) error {
	var done map[int64]bool
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		var err error
		done, err = s.refreshMembers(ctx, 0, 0, ids, rebuild)
		return err
	})
	if err != nil || len(done) == len(ids) {
		return err
	}
	one := s.RefreshMember
	if rebuild {
		one = s.Rebuild
	}
	for _, id := range ids {
		if !done[id] {
			if err := one(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// rankAll sets the figures relative to all members in one statement.
func (s *Service) rankAll(ctx context.Context) error {
	now := s.now()
	return s.db.WithContext(ctx).Exec(
		`UPDATE crm_profiles p SET r_score = q.r, f_score = q.f, m_score = q.m, clv_percentile = q.cp, core_member = q.core,
		        rfm_segment = `+rfmCaseSQL("q.r", "q.f", "q.m")+`,
		        engagement = p.engagement * power(0.5, greatest(0, extract(epoch FROM CAST(@now AS timestamptz) - p.engagement_at)) / @h),
		        engagement_at = CASE WHEN p.engagement_at IS NULL THEN NULL ELSE CAST(@now AS timestamptz) END
		   FROM (SELECT member_id,
		                ntile(5) OVER (ORDER BY last_event_at NULLS FIRST, member_id) AS r,
		                ntile(5) OVER (ORDER BY events_90d, member_id) AS f,
		                ntile(5) OVER (ORDER BY monetary_365d, member_id) AS m,
		                floor(percent_rank() OVER (ORDER BY clv) * 100)::int AS cp,
		                cume_dist() OVER (ORDER BY clv DESC, engagement * power(0.5, greatest(0, extract(epoch FROM CAST(@now AS timestamptz) - engagement_at)) / @h) DESC NULLS LAST) <= 0.2 AS core
		           FROM crm_profiles WHERE NOT erased) q
		  WHERE p.member_id = q.member_id`,
		map[string]any{"now": now, "h": s.params.HalfLife.Seconds()}).Error
}

// rfmRules name RFM cells; RFMSegment and the SQL of rankAll are both made from them.
var rfmRules = []struct {
	name       string
	rMin, rMax int
	fMin, fMax int
	mMin       int
}{
	{"champions", 4, 5, 4, 5, 4},
	{"loyal", 3, 5, 4, 5, 0},
	{"new", 4, 5, 0, 1, 0},
	{"potential_loyalist", 4, 5, 2, 5, 0},
	{"at_risk", 0, 2, 3, 5, 0},
	{"hibernating", 0, 2, 0, 2, 0},
}

func rfmCaseSQL(r, f, m string) string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, x := range rfmRules {
		fmt.Fprintf(&b, " WHEN %s BETWEEN %d AND %d AND %s BETWEEN %d AND %d AND %s >= %d THEN '%s'",
			r, x.rMin, x.rMax, f, x.fMin, x.fMax, m, x.mMin, x.name)
	}
	b.WriteString(" ELSE 'needs_attention' END")
	return b.String()
}

// At decays the incremental engagement score to t, so two readings taken at
// different reference times can be compared.
func (i Incremental) At(t time.Time, halfLife time.Duration) float64 {
	if i.EngagementAt == nil {
		return 0
	}
	return i.Engagement * decay(t.Sub(*i.EngagementAt), halfLife)
}

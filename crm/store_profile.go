package crm

import (
	"math"
	"time"

	"gorm.io/gorm"
)

// bumpProfile applies one event to the member's incremental profile fields. The
// engagement score is kept as its value at engagement_at; for an event of weight w at
// time t the new reference time is max(t, engagement_at) and both parts decay to it:
// score' = score·2^(−(ref'−ref)/h) + w·2^(−(ref'−t)/h). This equals the sum over all
// events decayed to ref', in whatever order the events arrive (RebuildIncremental).
// The engagement points of each kind (kind_points) are kept the same way with
// last_event_at as their reference time, next to the number of events of each kind
// (kind_counts); the latest NPS answer and its time (nps, nps_at) too, the higher
// answer of two at the same instant. With these
// all-time figures on the profile a refresh reads only the last year of events.
func bumpProfile(conn *gorm.DB, e Event, w float64, halfLife time.Duration) error {
	purchases, total := 0, 0.0
	var lastPurchase *time.Time
	if e.Kind == KindPurchase {
		purchases, total, lastPurchase = 1, e.Value, &e.OccurredAt
	}
	var nps *int
	var npsAt *time.Time
	if e.Kind == KindNPSAnswered {
		v := int(math.Round(e.Value))
		nps, npsAt = &v, &e.OccurredAt
	}
	return conn.Exec(
		`INSERT INTO crm_profiles AS p (member_id, event_count, first_event_at, last_event_at, engagement, engagement_at,
		                               purchases, purchase_total, last_purchase_at, kind_points, kind_counts, nps, nps_at)
		 VALUES (@m, 1, @t, @t, @w, @t, @np, @total, @lp, jsonb_build_object(CAST(@k AS text), CAST(@w AS float8)), jsonb_build_object(CAST(@k AS text), 1),
		         @nps, @npsat)
		 ON CONFLICT (member_id) DO UPDATE SET
		   event_count = p.event_count + 1,
		   first_event_at = least(p.first_event_at, EXCLUDED.first_event_at),
		   last_event_at = greatest(p.last_event_at, EXCLUDED.last_event_at),
		   engagement = p.engagement * power(0.5, greatest(0, extract(epoch FROM EXCLUDED.engagement_at - p.engagement_at)) / @h)
		              + EXCLUDED.engagement * power(0.5, greatest(0, extract(epoch FROM p.engagement_at - EXCLUDED.engagement_at)) / @h),
		   engagement_at = greatest(p.engagement_at, EXCLUDED.engagement_at),
		   purchases = p.purchases + EXCLUDED.purchases,
		   purchase_total = p.purchase_total + EXCLUDED.purchase_total,
		   last_purchase_at = greatest(p.last_purchase_at, EXCLUDED.last_purchase_at),
		   kind_points = (SELECT jsonb_object_agg(x.k, x.v) FROM (
		       SELECT k, sum(v) AS v FROM (
		           SELECT key AS k, CAST(value AS float8)
		                  * coalesce(power(0.5, greatest(0, date_part('epoch', EXCLUDED.last_event_at - p.last_event_at)) / @h), 1) AS v
		             FROM jsonb_each_text(p.kind_points)
		           UNION ALL
		           SELECT CAST(@k AS text), @w * coalesce(power(0.5, greatest(0, date_part('epoch', p.last_event_at - EXCLUDED.last_event_at)) / @h), 1)
		       ) y GROUP BY k) x),
		   kind_counts = jsonb_set(p.kind_counts, ARRAY[CAST(@k AS text)], to_jsonb(coalesce(CAST(p.kind_counts->>CAST(@k AS text) AS integer), 0) + 1)),
		   nps = CASE WHEN EXCLUDED.nps_at > p.nps_at OR (EXCLUDED.nps_at = p.nps_at AND EXCLUDED.nps > p.nps)
		                   OR (p.nps_at IS NULL AND EXCLUDED.nps_at IS NOT NULL) THEN EXCLUDED.nps ELSE p.nps END,
		   nps_at = greatest(p.nps_at, EXCLUDED.nps_at),
		   updated_at = now()`,
		map[string]any{"m": e.MemberID, "t": e.OccurredAt, "w": w, "np": purchases, "total": total, "lp": lastPurchase,
			"h": halfLife.Seconds(), "k": string(e.Kind), "nps": nps, "npsat": npsAt}).Error
}

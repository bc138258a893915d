package crm

import (
	"time"

	"gorm.io/gorm"
)

// bumpProfile applies one event to the member's incremental profile fields. The
// engagement score is kept as its value at engagement_at; for an event of weight w at
// time t the new reference time is max(t, engagement_at) and both parts decay to it:
// score' = score·2^(−(ref'−ref)/h) + w·2^(−(ref'−t)/h). This equals the sum over all
// events decayed to ref', in whatever order the events arrive (RebuildIncremental).
func bumpProfile(conn *gorm.DB, e Event, w float64, halfLife time.Duration) error {
	purchases, total := 0, 0.0
	var lastPurchase *time.Time
	if e.Kind == KindPurchase {
		purchases, total, lastPurchase = 1, e.Value, &e.OccurredAt
	}
	return conn.Exec(
		`INSERT INTO crm_profiles AS p (member_id, event_count, first_event_at, last_event_at, engagement, engagement_at,
		                               purchases, purchase_total, last_purchase_at)
		 VALUES (@m, 1, @t, @t, @w, @t, @np, @total, @lp)
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
		   updated_at = now()`,
		map[string]any{"m": e.MemberID, "t": e.OccurredAt, "w": w, "np": purchases, "total": total, "lp": lastPurchase,
			"h": halfLife.Seconds()}).Error
}

package crm

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Schedule refreshes every profile now and then every interval until ctx ends, and
// keeps monthly event partitions created ahead. Several processes running it at once
// only repeat work: each refresh is idempotent.
func (s *Service) Schedule(ctx context.Context, log *slog.Logger, every time.Duration) {
	run := func() {
		start := time.Now()
		if err := s.EnsurePartitions(ctx, 3); err != nil && ctx.Err() == nil {
			log.Warn("crm partitions", "err", err)
		}
		if err := s.refreshAll(ctx, nil, false, true); err != nil && ctx.Err() == nil {
			log.Warn("crm refresh", "err", err)
			return
		}
		if err := s.RefreshReports(ctx); err != nil && ctx.Err() == nil {
			log.Warn("crm reports", "err", err)
		}
		log.Info("crm profiles refreshed", "took", time.Since(start).Round(time.Millisecond))
	}
	run()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}

// EnsurePartitions creates the monthly crm_events partitions from this month to
// months ahead, so events never land in the default partition.
func (s *Service) EnsurePartitions(ctx context.Context, months int) error {
	return s.db.WithContext(ctx).Exec(`DO $$
DECLARE m date := date_trunc('month', now());
BEGIN
  WHILE m <= date_trunc('month', now() + make_interval(months => ` + strconv.Itoa(min(max(months, 1), 120)) + `)) LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF crm_events FOR VALUES FROM (%L) TO (%L)',
                   'crm_events_' || to_char(m, 'YYYYMM'), m, m + interval '1 month');
    m := m + interval '1 month';
  END LOOP;
END $$`).Error
}

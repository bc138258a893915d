package forum

import (
	"context"
	"sync"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// viewCounter buffers thread views in memory and writes them in one UPDATE every few
// seconds: a write per page view would make every thread read a write.
type viewCounter struct {
	db *gorm.DB
	mu sync.Mutex
	n  map[int64]int64
}

func newViewCounter(gdb *gorm.DB) *viewCounter { return &viewCounter{db: gdb, n: map[int64]int64{}} }

func (v *viewCounter) add(threadID int64) {
	v.mu.Lock()
	v.n[threadID]++
	v.mu.Unlock()
}

func (v *viewCounter) flush(ctx context.Context) {
	v.mu.Lock()
	if len(v.n) == 0 {
		v.mu.Unlock()
		return
	}
	pending := v.n
	v.n = map[int64]int64{}
	v.mu.Unlock()
	ids := make(pq.Int64Array, 0, len(pending))
	counts := make(pq.Int64Array, 0, len(pending))
	for id, c := range pending {
		ids = append(ids, id)
		counts = append(counts, c)
	}
	err := v.db.WithContext(ctx).Exec(
		`UPDATE forum_threads t SET view_count = t.view_count + x.c
		   FROM unnest(?::bigint[], ?::bigint[]) AS x(id, c) WHERE t.id = x.id`, ids, counts).Error
	if err != nil { // keep them for the next flush
		v.mu.Lock()
		for id, c := range pending {
			v.n[id] += c
		}
		v.mu.Unlock()
	}
}

func (v *viewCounter) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			v.flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			v.flush(ctx)
		}
	}
}

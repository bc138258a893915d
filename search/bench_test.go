package search_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkOutboxIndexing measures steady-state indexing: one outbox row per change,
// one Meilisearch task per row (Meilisearch batches the queued tasks itself). It
// reports handler throughput (rows/s: what the workers sustain) and end-to-end
// throughput until every task succeeded (docs/s).
//
//	go test ./search/ -run '^$' -bench OutboxIndexing -benchtime 1x
func BenchmarkOutboxIndexing(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		ctx := context.Background()
		const threads, replies = 50, 9 // 500 documents, 950 outbox rows
		for i := range threads {
			th := e.thread(b, "alice", "questions", fmt.Sprintf("Benchmark thread number %d", i), "Benchmark body.")
			for j := range replies {
				e.reply(b, "bob", th.ID, fmt.Sprintf("Benchmark reply %d to %d.", j, i))
			}
		}
		var rows int64
		e.DB.Raw(`SELECT count(*) FROM outbox WHERE topic LIKE 'search.%'`).Scan(&rows)
		b.StartTimer()
		start := time.Now()
		for {
			n, err := e.w.ProcessBatch(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		handled := time.Since(start)
		if err := e.ix.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		b.StopTimer()
		if got := len(e.docs(b)); got != threads*(replies+1) {
			b.Fatalf("%d documents", got)
		}
		b.ReportMetric(float64(rows)/handled.Seconds(), "rows/s")
		b.ReportMetric(float64(threads*(replies+1))/total.Seconds(), "docs/s")
	}
}

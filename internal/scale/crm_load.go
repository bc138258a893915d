package scale

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
)

// CRMLoad is a stream of engagement events appended through crm.Append, each in its
// own transaction, at a fixed rate, as the community's write paths would append them.
// While it flows, an observer measures how long each event takes to show in its
// member's refreshed profile (the outbox worker's crm.profile refresh): from the
// event's commit until its crm.profile outbox row is seen processed. A refresh marks
// the rows it answers processed in the transaction that writes the profile, and reads
// the events after those rows committed, so a processed row means the refreshed
// profile reflects the event.
type CRMLoad struct {
	Rate     int           // events per second
	Duration time.Duration // how long events flow
	Senders  int           // goroutines appending, each in its own transactions
	Poll     time.Duration // how often the observer reads the pending members' profiles
	Drain    time.Duration // how long, after the flow, to wait for the last refreshes
	Check    int           // every Check-th event also reads its incremental fields right after commit
	Members  []int64       // members to draw from
	Weights  []float64     // their chance of acting (their event count so far)
}

// CRMLoadResult is what a CRMLoad measured.
type CRMLoadResult struct {
	Sent, Failed int64
	Late         int64           // events that started more than 100 ms behind schedule
	Commit       []time.Duration // Append through commit, per event
	Latency      []time.Duration // commit until the event's crm.profile row was seen processed
	Unseen       int             // events whose refresh was not seen before the drain ended
	Checked      int             // events whose incremental fields were read right after commit
	Visible      int             // … and showed the event (count, last event, engagement)
	Flow         time.Duration   // how long the events flowed
	Polls        int             // observer queries, and their total time
	PollTime     time.Duration
	Start        time.Time
}

type pendingEvent struct {
	row      int64 // the event's crm.profile outbox row
	commitAt time.Time
}

// RunCRMLoad appends l.Rate events a second for l.Duration and measures, for each,
// the time from its commit until its crm.profile row is seen processed (the refresh
// that answered it committed, its snapshot including the event). The observer polls
// every l.Poll, so latencies are rounded up by up to that.
func RunCRMLoad(ctx context.Context, gdb *gorm.DB, l CRMLoad) (*CRMLoadResult, error) {
	if l.Rate < 1 || l.Duration <= 0 || l.Senders < 1 || len(l.Members) == 0 || len(l.Members) != len(l.Weights) {
		return nil, errors.New("scale: a CRM load needs a rate, a duration, senders and weighted members")
	}
	pick := picker(l.Members, l.Weights)
	res := &CRMLoadResult{Start: time.Now()}
	var mu sync.Mutex // guards res slices, pending
	var pending []pendingEvent
	jobs := make(chan time.Time, l.Rate*2)
	var wg sync.WaitGroup
	var seq atomic.Int64
	for i := range l.Senders {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			for due := range jobs {
				if time.Since(due) > 100*time.Millisecond {
					atomic.AddInt64(&res.Late, 1)
				}
				n := seq.Add(1)
				e := randomEvent(rng, pick(rng))
				check := l.Check > 0 && n%int64(l.Check) == 0
				var before crm.Incremental
				if check {
					before, _ = readIncremental(ctx, gdb, e.MemberID)
				}
				t0 := time.Now()
				e.OccurredAt = t0
				var row int64
				err := db.InTx(ctx, gdb, func(ctx context.Context) error {
					if err := crm.Append(ctx, gdb, e); err != nil {
						return err
					}
					// Append's last insert is the crm.profile row
					return db.Conn(ctx, gdb).Raw(`SELECT currval(pg_get_serial_sequence('outbox', 'id'))`).Scan(&row).Error
				})
				commitAt := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						atomic.AddInt64(&res.Failed, 1)
					}
					continue
				}
				visible := false
				if check {
					after, err := readIncremental(ctx, gdb, e.MemberID)
					visible = err == nil && showsEvent(before, after, e, commitAt)
				}
				mu.Lock()
				res.Sent++
				res.Commit = append(res.Commit, commitAt.Sub(t0))
				pending = append(pending, pendingEvent{row, commitAt})
				if check {
					res.Checked++
					if visible {
						res.Visible++
					}
				}
				mu.Unlock()
			}
		})
	}

	observed := make(chan struct{})
	flowDone := make(chan struct{})
	go func() {
		defer close(observed)
		deadline := time.Time{}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.Poll):
			}
			select {
			case <-flowDone:
				if deadline.IsZero() {
					deadline = time.Now().Add(l.Drain)
				}
			default:
			}
			mu.Lock()
			rows := make([]int64, 0, len(pending))
			for _, p := range pending {
				rows = append(rows, p.row)
			}
			mu.Unlock()
			if len(rows) > 0 {
				t0 := time.Now()
				processed, err := processedRows(ctx, gdb, rows)
				seen := time.Now()
				res.Polls++
				res.PollTime += seen.Sub(t0)
				if err != nil {
					continue
				}
				mu.Lock()
				pending = slices.DeleteFunc(pending, func(p pendingEvent) bool {
					if processed[p.row] {
						res.Latency = append(res.Latency, seen.Sub(p.commitAt))
						return true
					}
					return false
				})
				left := len(pending)
				mu.Unlock()
				if !deadline.IsZero() && left == 0 {
					return
				}
			}
			if !deadline.IsZero() && time.Now().After(deadline) {
				return
			}
		}
	}()

	// The schedule: event k is due at start + k/rate.
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	var sent int64
	total := int64(float64(l.Rate) * l.Duration.Seconds())
dispatch:
	for sent < total {
		select {
		case <-ctx.Done():
			break dispatch
		case now := <-tick.C:
			due := min(total, int64(now.Sub(start).Seconds()*float64(l.Rate)))
			for ; sent < due; sent++ {
				jobs <- start.Add(time.Duration(float64(sent) / float64(l.Rate) * float64(time.Second)))
			}
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	res.Flow = time.Since(start)
	close(flowDone)
	<-observed
	mu.Lock()
	res.Unseen = len(pending)
	mu.Unlock()
	return res, ctx.Err()
}

// picker draws members in proportion to their weights.
func picker(members []int64, weights []float64) func(*rand.Rand) int64 {
	cum := make([]float64, len(weights))
	var sum float64
	for i, w := range weights {
		sum += math.Max(w, 0.0001)
		cum[i] = sum
	}
	return func(r *rand.Rand) int64 {
		return members[sort.SearchFloat64s(cum, r.Float64()*sum)]
	}
}

// loadKinds is the generated mix without registrations and purchases: purchases come
// from shop imports (a crm_purchases row with its event), not from community activity.
var loadKinds = slices.DeleteFunc(slices.Clone(crmKinds), func(k crmKind) bool {
	return k.kind == crm.KindPurchase || k.kind == crm.KindRegistered
})

// randomEvent is an event of loadKinds' mix, with tags and a category on the kinds
// that carry them.
func randomEvent(r *rand.Rand, member int64) crm.Event {
	sum := 0
	for _, k := range loadKinds {
		sum += k.perMille
	}
	x, i := r.IntN(sum), 0
	for ; i < len(loadKinds)-1 && x >= loadKinds[i].perMille; i++ {
		x -= loadKinds[i].perMille
	}
	k := loadKinds[i]
	e := crm.Event{MemberID: member, Kind: k.kind, SubjectType: k.subject, SubjectID: 1 + r.Int64N(1_000_000)}
	switch k.kind {
	case crm.KindAnswerRated:
		e.Value = float64(r.IntN(2))
	case crm.KindNPSAnswered:
		e.Value = float64(r.IntN(11))
	}
	if k.tagged {
		for range r.IntN(4) {
			if t := tags[r.IntN(len(tags))]; !slices.Contains(e.Tags, t) {
				e.Tags = append(e.Tags, t)
			}
		}
		e.Category = crmCategories[r.IntN(len(crmCategories))]
	}
	return e
}

func readIncremental(ctx context.Context, gdb *gorm.DB, member int64) (crm.Incremental, error) {
	var inc crm.Incremental
	err := gdb.WithContext(ctx).Raw(`SELECT event_count, first_event_at, last_event_at, engagement, engagement_at, purchases, purchase_total
	                                  FROM crm_profiles WHERE member_id = ?`, member).Scan(&inc).Error
	return inc, err
}

// showsEvent reports whether the incremental fields read after e's commit include it:
// one more event at least, the last event no earlier than e, and the engagement score
// (decayed to the same moment) up by e's weight at least (concurrent events for the
// same member can only add).
func showsEvent(before, after crm.Incremental, e crm.Event, at time.Time) bool {
	h := crm.DefaultParams.HalfLife
	gain := after.At(at, h) - before.At(at, h)
	w := crm.Weights[e.Kind] * math.Pow(0.5, at.Sub(e.OccurredAt).Seconds()/h.Seconds())
	return after.EventCount >= before.EventCount+1 && after.LastEventAt != nil &&
		!after.LastEventAt.Before(e.OccurredAt.Truncate(time.Microsecond)) && gain >= w*(1-1e-9)-1e-9
}

// processedRows reports which of the outbox rows are processed.
func processedRows(ctx context.Context, gdb *gorm.DB, rows []int64) (map[int64]bool, error) {
	var done []int64
	if err := gdb.WithContext(ctx).Raw(`SELECT id FROM outbox WHERE id = ANY(?) AND processed_at IS NOT NULL`,
		pq.Int64Array(rows)).Scan(&done).Error; err != nil {
		return nil, fmt.Errorf("scale: read processed outbox rows: %w", err)
	}
	out := make(map[int64]bool, len(done))
	for _, id := range done {
		out[id] = true
	}
	return out, nil
}

// Percentile is the p-th percentile (0–100) of ds by the nearest-rank method; 0
// when ds is empty. ds is sorted in place.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(p/100*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

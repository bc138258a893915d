package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/scale"
)

const benchCRMUsage = `hearth bench-crm: the CRM benchmark's steps (scripts/bench-crm.sh runs them in order)

  generate [--scale N]     N × (1,000,000 members with profiles, 20,000,000 events) into a fresh database
  workers [--cpuprofile F] outbox workers only ($HEARTH_WORKERS per lane, as hearth worker), without the scheduled
                           refresh; F: their CPU profile (go tool pprof), written when they stop
  load [--rate R] [--duration D] [--senders S] [--poll P] [--drain D] [--check N] [--pick activity|uniform]
                           append events through crm.Append at R/s; measure commit → refreshed profile
  segment [--tag T] [--runs N] [--pause D]
                           count 4-condition segments through the rule compiler; EXPLAIN ANALYZE
  refresh-all              crm.Service.RefreshAll over every profile (the scheduled refresh)
  rebuild-all              crm.Service.RebuildAll: every profile rebuilt from its events
  rebuild [--sample N]     compare incremental fields with the events, then Rebuild N random members
`

// runBenchCRM is the hidden `hearth bench-crm` command of the CRM benchmark
// (BENCHMARKS.md); every step reads DATABASE_URL like the other commands.
func runBenchCRM(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, benchCRMUsage)
		return errors.New("bench-crm: name a step")
	}
	step, args := args[0], args[1:]
	fs := flag.NewFlagSet("bench-crm "+step, flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Float64("scale", 1, "data set size (1 = 1,000,000 members, 20,000,000 events)")
	rate := fs.Int("rate", 500, "events per second")
	duration := fs.Duration("duration", time.Minute, "how long events flow")
	senders := fs.Int("senders", 32, "goroutines appending events")
	poll := fs.Duration("poll", 20*time.Millisecond, "how often the observer reads pending profiles")
	drain := fs.Duration("drain", 2*time.Minute, "how long to wait for the last refreshes after the flow")
	check := fs.Int("check", 50, "read the incremental fields right after commit of every Nth event")
	tag := fs.String("tag", "battery", "the interest of the segment rules")
	runs := fs.Int("runs", 30, "timed runs per segment rule")
	pause := fs.Duration("pause", 0, "pause between two segment counts")
	sample := fs.Int("sample", 2000, "members to rebuild")
	pick := fs.String("pick", "activity", "who acts: activity (in proportion to their events of the last 90 days) or uniform")
	cpuProfile := fs.String("cpuprofile", "", "workers: write their CPU profile to this file")
	mine, rest := splitFlags(args, "scale", "rate", "duration", "senders", "poll", "drain", "check", "tag", "runs", "pause", "sample",
		"pick", "cpuprofile")
	if err := fs.Parse(mine); err != nil {
		return err
	}
	e, _, err := open(ctx, rest, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer e.close()
	switch step {
	case "generate":
		return benchCRMGenerate(ctx, e, *n, stdout)
	case "workers":
		return benchCRMWorkers(ctx, e, *cpuProfile, stdout)
	case "load":
		if *pick != "activity" && *pick != "uniform" {
			return fmt.Errorf("--pick: %q is not activity or uniform", *pick)
		}
		l := scale.CRMLoad{Rate: *rate, Duration: *duration, Senders: *senders, Poll: *poll, Drain: *drain, Check: *check}
		return benchCRMLoad(ctx, e, l, *pick, stdout)
	case "segment":
		return benchCRMSegment(ctx, e, *tag, *runs, *pause, stdout)
	case "refresh-all":
		return benchCRMRefreshAll(ctx, e, false, stdout)
	case "rebuild-all":
		return benchCRMRefreshAll(ctx, e, true, stdout)
	case "rebuild":
		return benchCRMRebuild(ctx, e, *sample, stdout)
	}
	fmt.Fprint(stderr, benchCRMUsage)
	return fmt.Errorf("bench-crm: unknown step %q", step)
}

func benchCRMGenerate(ctx context.Context, e *env, n float64, stdout io.Writer) error {
	if !(n > 0 && n <= 5) {
		return fmt.Errorf("--scale: %v is not between 0 and 5 (1 = 20,000,000 events)", n)
	}
	if err := e.migrate(ctx, nil); err != nil {
		return err
	}
	s := scale.CRMOf(n)
	fmt.Fprintf(stdout, "Generating %d members with profiles and %d events (scale %v)\n", s.Members, s.Events, n)
	p := &progress{w: stdout}
	start := time.Now()
	err := scale.GenerateCRM(ctx, e.db, s, crm.DefaultParams, p.report)
	p.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generated in %.0f s\n", time.Since(start).Seconds())
	return nil
}

// benchCRMWorkers runs what `hearth worker` runs for the outbox (the same handlers in
// the same lanes, $HEARTH_WORKERS workers per lane) but not its scheduled refresh, which starts with a full
// RefreshAll: the latency measured is the steady state between scheduled refreshes.
func benchCRMWorkers(ctx context.Context, e *env, cpuProfile string, stdout io.Writer) error {
	if err := e.requireMigrated(ctx); err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	n := max(e.cfg.Workers, 1)
	var wg sync.WaitGroup
	for _, w := range outboxWorkers(e, handlers(e, a), a.SearchIndexer.HandleBatch, n, nil) {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	fmt.Fprintf(stdout, "bench-crm workers: %d outbox workers per lane, no scheduled refresh\n", n)
	wg.Wait()
	return nil
}

func benchCRMLoad(ctx context.Context, e *env, l scale.CRMLoad, pick string, stdout io.Writer) error {
	// senders each hold a connection; the observer and the checks need a few more
	gdb, err := db.Open(ctx, e.dbURL, l.Senders+4)
	if err != nil {
		return err
	}
	defer db.Close(gdb)
	// Who acts next is best predicted by recent activity: members are drawn from a 5 %
	// sample of the profiles in proportion to their events of the last 90 days (or
	// uniformly, the cheapest case: most members have a handful of events).
	var rows []struct {
		MemberID int64
		Weight   float64
	}
	if err := gdb.WithContext(ctx).Raw(`SELECT member_id, CASE WHEN ? THEN 1 ELSE events_90d END AS weight
	                                      FROM crm_profiles TABLESAMPLE BERNOULLI (5) WHERE NOT erased`, pick == "uniform").
		Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		l.Members, l.Weights = append(l.Members, r.MemberID), append(l.Weights, r.Weight)
	}
	fmt.Fprintf(stdout, "load: %d events/s for %s from %d senders, members drawn (%s) from a sample of %d\n",
		l.Rate, l.Duration, l.Senders, pick, len(l.Members))
	res, err := scale.RunCRMLoad(ctx, gdb, l)
	if err != nil {
		return err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	lat := res.Latency
	fmt.Fprintf(stdout, "sent %d failed %d late %d flow_s %.1f rate %.1f\n", res.Sent, res.Failed, res.Late,
		res.Flow.Seconds(), float64(res.Sent)/res.Flow.Seconds())
	fmt.Fprintf(stdout, "commit_ms p50 %s p95 %s p99 %s max %s\n", ms(scale.Percentile(res.Commit, 50)),
		ms(scale.Percentile(res.Commit, 95)), ms(scale.Percentile(res.Commit, 99)), ms(scale.Percentile(res.Commit, 100)))
	// percentiles over every event: one never seen refreshed ranks above all the others
	pct := func(p float64) string {
		n := len(lat) + res.Unseen
		if i := int(math.Ceil(p / 100 * float64(n))); i > len(lat) || n == 0 {
			return "inf"
		}
		return ms(scale.Percentile(lat, p*float64(n)/float64(len(lat))))
	}
	fmt.Fprintf(stdout, "latency_ms p50 %s p95 %s p99 %s max %s seen %d unseen %d\n", pct(50), pct(95), pct(99), pct(100),
		len(lat), res.Unseen)
	fmt.Fprintf(stdout, "incremental_visible %d of %d\n", res.Visible, res.Checked)
	fmt.Fprintf(stdout, "observer polls %d mean_ms %s\n", res.Polls, ms(res.PollTime/time.Duration(max(res.Polls, 1))))
	// The outbox's own view: crm.profile rows of the run, from the event's transaction
	// start to the row's processing (after the refresh committed).
	var ob struct {
		Rows, Processed int64
		P50, P95, P99   *float64
	}
	err = gdb.WithContext(ctx).Raw(`SELECT count(*) AS rows, count(processed_at) AS processed,
	        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at) * 1000) AS p50,
	        percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at) * 1000) AS p95,
	        percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at) * 1000) AS p99
	   FROM outbox WHERE topic = ? AND created_at >= ?`, crm.TopicProfile, res.Start).Scan(&ob).Error
	if err != nil {
		return err
	}
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f", *p)
	}
	fmt.Fprintf(stdout, "outbox_ms rows %d processed %d p50 %s p95 %s p99 %s\n", ob.Rows, ob.Processed, f(ob.P50), f(ob.P95), f(ob.P99))
	return nil
}

// segmentRuleNames orders the benchmark's 4-condition rules: the (stages ∧ a churn
// threshold ∧ an interest ∧ e-mail consent) with a high and a low threshold, and a mixed
// one that asks for recent activity instead of consent.
var segmentRuleNames = []string{"churn>=50", "churn>=20", "mixed"}

func segmentRules(tag string) map[string]crm.Rule {
	rule := func(churn int, last crm.Rule) crm.Rule {
		return crm.Rule{All: []crm.Rule{
			{Field: "stage", Op: crm.OpIn, Value: []any{"growth", "stable"}},
			{Field: "churn_risk", Op: crm.OpGte, Value: churn},
			{Field: "interests", Op: crm.OpContains, Value: []any{tag}},
			last,
		}}
	}
	consent := crm.Rule{Field: "consent_email", Op: crm.OpEq, Value: true}
	return map[string]crm.Rule{"churn>=50": rule(50, consent), "churn>=20": rule(20, consent),
		"mixed": rule(20, crm.Rule{Field: "last_active_days", Op: crm.OpLte, Value: 30})}
}

// benchCRMSegment times each rule's count runs times after three warm-up rounds; a
// round counts every rule once, with pause after each round (so that counts taken
// during a write load sample all of it).
func benchCRMSegment(ctx context.Context, e *env, tag string, runs int, pause time.Duration, stdout io.Writer) error {
	capture := &sqlCapture{}
	seg := crm.NewService(e.db, crm.DefaultParams, nil).Segments()
	// one more count through a logging session, for the statement the compiler made (in a
	// transaction, where the count goes through GORM: outside one it is sent by pgx)
	tracedDB := e.db.Session(&gorm.Session{Logger: capture})
	traced := crm.NewService(tracedDB, crm.DefaultParams, nil).Segments()
	staff := crm.Actor{ID: 1, Role: "admin"}
	rules := segmentRules(tag)
	counts := map[string]int64{}
	times := map[string][]time.Duration{}
	first := map[string]time.Duration{} // the first count, before the warm-up: its pages may not be cached
	for i := range runs + 3 {           // three warm-up rounds
		for _, name := range segmentRuleNames {
			t0 := time.Now()
			n, err := seg.CountRule(ctx, staff, rules[name])
			if err != nil {
				return err
			}
			took := time.Since(t0)
			if i == 0 {
				first[name] = took
			}
			if i >= 3 {
				times[name] = append(times[name], took)
			}
			counts[name] = n
		}
		time.Sleep(pause)
	}
	for _, name := range segmentRuleNames {
		if err := db.InTx(ctx, tracedDB, func(ctx context.Context) error {
			_, err := traced.CountRule(ctx, staff, rules[name])
			return err
		}); err != nil {
			return err
		}
		query := capture.last()
		ms := func(p float64) string {
			return fmt.Sprintf("%.2f", float64(scale.Percentile(times[name], p).Microseconds())/1000)
		}
		fmt.Fprintf(stdout, "segment %s count %d runs %d ms min %s p50 %s p95 %s max %s first %.2f\n", name, counts[name], runs,
			ms(0), ms(50), ms(95), ms(100), float64(first[name].Microseconds())/1000)
		fmt.Fprintf(stdout, "sql %s\n", query)
		var plan []string
		if err := e.db.WithContext(ctx).Raw("EXPLAIN (ANALYZE, BUFFERS) " + query).Scan(&plan).Error; err != nil {
			return err
		}
		fmt.Fprintf(stdout, "plan %s\n  %s\n", name, strings.Join(plan, "\n  "))
	}
	return nil
}

func benchCRMRefreshAll(ctx context.Context, e *env, rebuild bool, stdout io.Writer) error {
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	step, label, run := "refresh-all", "refresh all", a.CRM.RefreshAll
	if rebuild {
		step, label, run = "rebuild-all", "rebuild all", a.CRM.RebuildAll
	}
	p := &progress{w: stdout}
	start := time.Now()
	var profiles int64
	err = run(ctx, func(done, total int64) { profiles = total; p.report(label, done, total) })
	p.finish()
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "%s profiles %d took_s %.0f per_profile_ms %.3f peak_rss_mib %d\n", step, profiles, took.Seconds(),
		float64(took.Microseconds())/1000/float64(max(profiles, 1)), peakRSS()/1024)
	return nil
}

func benchCRMRebuild(ctx context.Context, e *env, sample int, stdout io.Writer) error {
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	var members []int64
	if err := e.db.WithContext(ctx).Raw(`SELECT member_id FROM crm_profiles WHERE NOT erased ORDER BY random() LIMIT ?`, sample).
		Scan(&members).Error; err != nil {
		return err
	}
	h, now, differ := crm.DefaultParams.HalfLife, time.Now(), 0
	start := time.Now()
	for _, m := range members {
		inc, err := a.CRM.Incremental(ctx, m)
		if err != nil {
			return err
		}
		reb, err := a.CRM.RebuildIncremental(ctx, m)
		if err != nil {
			return err
		}
		if inc.EventCount != reb.EventCount || inc.Purchases != reb.Purchases ||
			abs(inc.At(now, h)-reb.At(now, h)) > 1e-6*max(1, reb.At(now, h)) {
			differ++
			fmt.Fprintf(stdout, "member %d: incremental %+v != rebuilt %+v\n", m, inc, reb)
		}
		if err := a.CRM.Rebuild(ctx, m); err != nil {
			return err
		}
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "rebuild members %d differing %d took_s %.1f per_member_ms %.2f\n", len(members), differ, took.Seconds(),
		float64(took.Microseconds())/1000/float64(max(len(members), 1)))
	return nil
}

func abs(x float64) float64 { return max(x, -x) }

// peakRSS is the process's peak resident set size in KiB (VmHWM), 0 when unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}

// sqlCapture is a GORM logger that keeps the last statement, with its values
// inlined, so the benchmark can EXPLAIN ANALYZE exactly what the compiler produced.
type sqlCapture struct {
	mu  sync.Mutex
	sql string
}

func (c *sqlCapture) LogMode(logger.LogLevel) logger.Interface      { return c }
func (c *sqlCapture) Info(context.Context, string, ...interface{})  {}
func (c *sqlCapture) Warn(context.Context, string, ...interface{})  {}
func (c *sqlCapture) Error(context.Context, string, ...interface{}) {}
func (c *sqlCapture) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	s, _ := fc()
	c.mu.Lock()
	c.sql = s
	c.mu.Unlock()
}

func (c *sqlCapture) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sql
}

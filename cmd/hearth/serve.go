package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/outbox"
)

// runServe migrates, seeds an empty database with the demo community (when enabled),
// starts outbox workers and serves HTTP until SIGTERM/SIGINT, then drains in-flight
// requests before stopping workers, the database pool and any private servers.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, _, err := open(ctx, args, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer e.close()
	tuneGC(getenv)
	servePprof(getenv("HEARTH_PPROF"), e.log)
	if err := e.migrate(ctx, nil); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	if e.cfg.Demo {
		n, err := a.Auth.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			if err := demo.Seed(ctx, a.Auth, a.Forums, a.Partners, stdout); err != nil {
				return err
			}
			if err := demo.SeedContent(ctx, a.Auth, a.Forum); err != nil {
				return err
			}
			if err := demo.SeedCRM(ctx, e.db, a.Auth, a.CRM); err != nil {
				return err
			}
		}
	}

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	hs := handlers(e, a)
	workers := e.cfg.Workers
	if len(hs) == 0 {
		workers = 0 // nothing consumes the outbox yet; rows wait for a build that does
	}
	for _, w := range outboxWorkers(e, hs, a.SearchIndexer.HandleBatch, workers, a.Registry) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(bg) }()
	}
	wg.Add(4)
	go func() { defer wg.Done(); app.Janitor(bg, e.db, e.log, 10*time.Minute) }()
	go func() {
		defer wg.Done()
		if workers > 0 { // search tasks are tracked where the workers run
			a.SearchIndexer.Run(bg)
		}
	}()
	// every second: the same rows written as with a longer interval, but in small
	// UPDATEs instead of bursts (at 2,500 views/s, 5 s gathered ~12,000 rows, a third
	// of them non-HOT updates touching all ten indexes of forum_threads)
	go func() { defer wg.Done(); a.Forum.RunViewFlusher(bg, time.Second) }()
	go func() {
		defer wg.Done()
		if workers > 0 { // scheduled CRM refreshes run where the workers run
			a.CRM.Schedule(bg, e.log, crmRefreshEvery)
		}
	}()

	listenErr := make(chan error, 1)
	go func() { listenErr <- a.Server.App.Listen(e.cfg.Addr) }()
	e.log.Info("hearth is serving", "addr", e.cfg.Addr, "url", e.cfg.BaseURL, "version", buildVersion())
	fmt.Fprintf(stdout, "Hearth is running at %s (Ctrl-C to stop)\n", e.cfg.BaseURL)

	select {
	case err := <-listenErr:
		stopBG()
		wg.Wait()
		return fmt.Errorf("HEARTH_ADDR %s: %w", e.cfg.Addr, err)
	case <-ctx.Done():
	}
	e.log.Info("shutting down: finishing in-flight requests", "grace", e.cfg.ShutdownGrace)
	shutdownErr := a.Server.App.ShutdownWithTimeout(e.cfg.ShutdownGrace)
	stopBG()
	wg.Wait()
	if err := <-listenErr; err != nil && !errors.Is(err, context.Canceled) {
		e.log.Warn("listener", "err", err)
	}
	e.log.Info("stopped")
	return shutdownErr
}

// handlers lists the outbox topics this process consumes. Domains add theirs here
// as they gain side effects (search indexing, notifications, e-mail, webhooks).
func handlers(e *env, a *app.App) map[string]outbox.Handler {
	hs := map[string]outbox.Handler{
		crm.TopicProfile: a.CRM.HandleProfile,
		crm.TopicWebhook: crm.NewWebhookSender(e.db, nil, e.log).Handle,
	}
	maps.Copy(hs, a.SearchIndexer.Handlers())
	return hs
}

// crmRefreshEvery is how often every profile's decayed scores, quintiles and
// flags are recomputed (and monthly event partitions created ahead).
const crmRefreshEvery = 6 * time.Hour

// outboxWorkers are three lanes of n workers each: one for search rows, one for CRM
// profile refreshes, one for every other topic of hs. A worker claims a batch of rows
// and handles them in order, so in a shared lane a slow handler (a CRM refresh of a
// busy member) or a backlog of another topic held back the search rows behind it, and
// members waited to find what they wrote; likewise a backlog of webhook deliveries
// (slow endpoints, retries) would hold back the refreshes that keep profiles within a
// second of their events. The search lane's workers handle each claimed batch together
// (one transaction and one Meilisearch task per claim, search.Indexer.HandleBatch)
// when together is set. reg receives the outbox metrics, which the workers share (nil:
// none).
func outboxWorkers(e *env, hs map[string]outbox.Handler, together outbox.BatchHandler, n int, reg prometheusRegisterer) []*outbox.Worker {
	search, profiles, rest := map[string]outbox.Handler{}, map[string]outbox.Handler{}, map[string]outbox.Handler{}
	for topic, h := range hs {
		switch {
		case strings.HasPrefix(topic, "search."):
			search[topic] = h
		case topic == crm.TopicProfile:
			profiles[topic] = h
		default:
			rest[topic] = h
		}
	}
	var ws []*outbox.Worker
	for li, lane := range []map[string]outbox.Handler{search, profiles, rest} {
		opt := outbox.Options{Logger: e.log, Registerer: reg}
		if li == 0 {
			opt.Together = together
		}
		for i := 0; i < n && len(lane) > 0; i++ {
			ws = append(ws, outbox.NewWorker(e.db, e.dbURL, lane, opt))
		}
	}
	return ws
}

// runWorker runs outbox workers without a web server, for scaled-out deployments.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	e, _, err := open(ctx, args, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.requireMigrated(ctx); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	n := e.cfg.Workers
	if n == 0 {
		n = 1
	}
	var wg sync.WaitGroup
	for _, w := range outboxWorkers(e, handlers(e, a), a.SearchIndexer.HandleBatch, n, nil) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(ctx) }()
	}
	wg.Add(3)
	go func() { defer wg.Done(); app.Janitor(ctx, e.db, e.log, 10*time.Minute) }()
	go func() { defer wg.Done(); a.SearchIndexer.Run(ctx) }()
	go func() { defer wg.Done(); a.CRM.Schedule(ctx, e.log, crmRefreshEvery) }()
	e.log.Info("hearth worker running", "workers", n)
	wg.Wait()
	return nil
}

// servePprof serves Go's profiles (/debug/pprof/) on addr when it is set: for looking
// at a server under load (see BENCHMARKS.md); never on a public address.
func servePprof(addr string, log *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Warn("pprof listener stopped", "addr", addr, "err", err)
		}
	}()
}

// tuneGC trades memory the server has to spare for CPU: a page allocates ~40 KB that
// dies with the request over a small live heap, so at GOGC=100 the collector ran
// every few hundred requests and took a fifth of a thread page's CPU (pprof).
// GOGC=200 collects half as often; the soft limit (64 MiB of Go memory) makes it
// collect harder before the process nears its 100 MiB budget. GOGC or GOMEMLIMIT in
// the environment win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(64 << 20)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
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
	for i := 0; i < workers; i++ {
		w := outbox.NewWorker(e.db, e.dbURL, hs, outbox.Options{Logger: e.log, Registerer: registererOnce(a, i)})
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
	go func() { defer wg.Done(); a.Forum.RunViewFlusher(bg, 5*time.Second) }()
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

// registererOnce registers the outbox metrics for the first worker only.
func registererOnce(a *app.App, i int) prometheusRegisterer {
	if i == 0 {
		return a.Registry
	}
	return nil
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
	for i := 0; i < n; i++ {
		w := outbox.NewWorker(e.db, e.dbURL, handlers(e, a), outbox.Options{Logger: e.log})
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

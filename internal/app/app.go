// Package app wires Hearth's domains onto one web server. `hearth serve` and the tests
// build the application the same way, so what the tests exercise is what runs.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/config"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/markup"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/web"
	"github.com/hearth-community/hearth/partners"
	"github.com/hearth-community/hearth/search"
)

// Deps are the outside resources the application runs on.
type Deps struct {
	Config *config.Config
	DB     *gorm.DB
	Search *search.Client
	Logger *slog.Logger
	// HashCost overrides bcrypt's cost (tests use the minimum).
	HashCost int
	// Limits overrides the log-in rate limits.
	Limits *auth.Limits
}

// App is the wired application.
type App struct {
	Server   *web.Server
	Auth     *auth.Service
	Forum    *forum.Service
	Forums   *forum.Store
	Partners *partners.Store
	CRM      *crm.Service
	Privacy  *crm.Privacy
	Registry *prometheus.Registry
	// Search answers queries; SearchIndexer is the outbox side (handlers and tracker)
	// that the processes running workers start.
	Search        *search.Service
	SearchIndexer *search.Indexer
}

// Build wires every domain onto a new web server.
func Build(d Deps) (*App, error) {
	bundle, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	cfg := d.Config
	srv, err := web.New(web.Options{
		Logger: d.Logger, I18n: bundle, Secret: cfg.Secret, SecureCookies: cfg.SecureCookies(),
		TrustedProxies: cfg.TrustedProxies, Funcs: forum.TemplateFuncs(),
		Ready: func(ctx context.Context) error {
			err := db.Ping(ctx, d.DB)
			if d.Search != nil {
				err = errors.Join(err, d.Search.Ping(ctx))
			}
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	limits := auth.DefaultLimits
	if d.Limits != nil {
		limits = *d.Limits
	}
	authSvc := auth.NewService(d.DB, auth.NewSigner(cfg.Secret, cfg.AccessTTL), auth.Hasher{Cost: d.HashCost}, cfg.RefreshTTL, limits)
	authH := auth.NewHandlers(authSvc, srv, cfg.SecureCookies())
	forumStore := forum.NewStore(d.DB)
	forumSvc := forum.NewService(d.DB, forumStore, markupRenderer{markup.New()})
	// Churn signals and the privacy steps come from each package's own tables.
	signals := &crm.Signals{}
	signals.Register("forum.unresolved_questions", forum.UnresolvedQuestions)
	signals.Register("forum.removed_posts", forum.RemovedPosts)
	crmSvc := crm.NewService(d.DB, crm.DefaultParams, signals)
	privacy := &crm.Privacy{}
	privacy.RegisterExporter("posts", forumSvc.ExportMember)
	privacy.RegisterEraser(authSvc.EraseAccount)
	privacy.RegisterEraser(crmSvc.EraseWebhookData)

	// Meilisearch when configured, PostgreSQL full-text search otherwise (HEARTH_SEARCH).
	searchBackend := search.NewBackend(d.DB, d.Search)
	searchSvc := search.NewService(d.DB, searchBackend)
	indexer := search.NewIndexer(d.DB, searchBackend, search.ForumKinds(d.DB), d.Logger, srv.Registry)
	privacy.RegisterEraser(searchSvc.ReindexMember)

	// Order matters: who is asking, then their language and CSRF, then the routes.
	srv.App.Use(authH.Middleware)
	srv.UseSession()
	authH.Routes(srv.App)
	forum.NewHandlers(forumSvc, srv, cfg.BaseURL).Routes(srv.App)
	crm.NewHandlers(crmSvc, srv, privacy).Routes(srv.App)
	search.NewHandlers(searchSvc, srv).Routes(srv.App)
	srv.App.Get("/api/v1/openapi.json", web.OpenAPI)
	srv.App.Use(web.NotFound)

	return &App{Server: srv, Auth: authSvc, Forum: forumSvc, Forums: forumStore, CRM: crmSvc, Privacy: privacy,
		Partners: partners.NewStore(d.DB), Registry: srv.Registry, Search: searchSvc, SearchIndexer: indexer}, nil
}

// Janitor runs periodic housekeeping until ctx ends: expired rate-limit windows and
// outbox rows processed more than a week ago. Running it in several processes is
// harmless: each step is an idempotent DELETE.
func Janitor(ctx context.Context, gdb *gorm.DB, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := auth.PurgeRateLimits(ctx, gdb, 24*time.Hour); err != nil {
				log.Warn("purge rate limits", "err", err)
			} else if n > 0 {
				log.Debug("purged rate-limit windows", "rows", n)
			}
			if n, err := outbox.Cleanup(ctx, gdb, 7*24*time.Hour); err != nil {
				log.Warn("clean outbox", "err", err)
			} else if n > 0 {
				log.Debug("cleaned processed outbox rows", "rows", n)
			}
		}
	}
}

// markupRenderer gives the forum the Markdown renderer with its mention finder.
type markupRenderer struct{ *markup.Renderer }

func (markupRenderer) Mentions(src string) []string { return markup.Mentions(src) }

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/config"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/embedded"
	"github.com/hearth-community/hearth/search"
)

// env is what a subcommand runs on: configuration, logger, database, search, and the
// private servers started for the embedded default (stopped by close, last).
type env struct {
	cfg    *config.Config
	log    *slog.Logger
	db     *gorm.DB
	search *search.Client
	dbURL  string
	stops  []func() error
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// open loads configuration and connects to PostgreSQL (and Meilisearch when
// needSearch), starting private servers for whichever has no URL configured.
func open(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, needSearch bool) (*env, []string, error) {
	cfg, rest, err := config.Load(args, getenv, stderr)
	if err != nil {
		return nil, nil, err
	}
	e := &env{cfg: cfg, log: newLogger(cfg, stderr)}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	if err := cfg.EnsureSecret(); err != nil {
		return nil, nil, err
	}
	e.dbURL = cfg.DatabaseURL
	if e.dbURL == "" {
		pg, err := embedded.StartPostgres(ctx, cfg.DataDir, embedded.PostgresOptions{}, e.log)
		if err != nil {
			return nil, nil, err
		}
		e.stops = append(e.stops, pg.Stop)
		e.dbURL = pg.URL
	}
	if needSearch && cfg.Search == "meilisearch" { // postgres: search.NewBackend falls back on a nil client
		url, key := cfg.MeiliURL, cfg.MeiliKey
		if url == "" {
			ms, err := embedded.StartMeili(ctx, cfg.DataDir, e.log)
			if err != nil {
				return nil, nil, err
			}
			e.stops = append(e.stops, ms.Stop)
			url, key = ms.URL, ms.Key
		}
		e.search = search.NewClient(url, key, cfg.MeiliPrefix)
	}
	if e.db, err = db.Open(ctx, e.dbURL, cfg.DBMaxConns); err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	ok = true
	return e, rest, nil
}

func (e *env) migrate(ctx context.Context, w io.Writer) error {
	sqlDB, err := e.db.DB()
	if err != nil {
		return err
	}
	m, err := db.NewMigrator(sqlDB)
	if err != nil {
		return err
	}
	return m.Up(ctx, w)
}

// requireMigrated refuses to run on a schema with pending migrations.
func (e *env) requireMigrated(ctx context.Context) error {
	sqlDB, err := e.db.DB()
	if err != nil {
		return err
	}
	m, err := db.NewMigrator(sqlDB)
	if err != nil {
		return err
	}
	pending, err := m.Pending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("the database has pending migrations: run `hearth migrate up` (or start `hearth serve`, which applies them)")
	}
	return nil
}

// close closes the database, then stops private servers in reverse start order.
func (e *env) close() {
	if e.db != nil {
		_ = db.Close(e.db)
	}
	for i := len(e.stops) - 1; i >= 0; i-- {
		if err := e.stops[i](); err != nil {
			e.log.Warn("stop", "err", err)
		}
	}
}

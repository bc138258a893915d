package testenv

import (
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/config"
	"github.com/hearth-community/hearth/search"
)

// Secret is the HEARTH_SECRET of test applications.
const Secret = "test-secret-0123456789abcdef-0123456789"

// AppEnv is a wired application on its own database and Meilisearch prefix.
type AppEnv struct {
	*app.App
	DB     *gorm.DB
	Config *config.Config
	Search *search.Client
}

// Option adjusts the test application before it is built.
type Option func(*app.Deps)

// WithLimits sets the log-in rate limits.
func WithLimits(l auth.Limits) Option { return func(d *app.Deps) { d.Limits = &l } }

// WithDB builds the application on an existing database (e.g. a second instance).
func WithDB(gdb *gorm.DB) Option { return func(d *app.Deps) { d.DB = gdb } }

// TestConfig is the configuration test applications run with.
func TestConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, _, err := config.Load(nil, func(k string) string {
		switch k {
		case "HEARTH_SECRET":
			return Secret
		case "DATABASE_URL":
			return "postgres://unused/test"
		case "HEARTH_DEMO":
			return "false"
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// NewApp builds the full application, as `hearth serve` does, on a fresh database.
func NewApp(t testing.TB, opts ...Option) *AppEnv {
	t.Helper()
	cfg := TestConfig(t)
	url, key, prefix := Meili(t)
	d := app.Deps{Config: cfg, Search: search.NewClient(url, key, prefix), HashCost: bcrypt.MinCost, Logger: Logger(t)}
	for _, o := range opts {
		o(&d)
	}
	if d.DB == nil {
		d.DB = DB(t)
	}
	a, err := app.Build(d)
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	return &AppEnv{App: a, DB: d.DB, Config: cfg, Search: d.Search}
}

// Listen serves the application on a free loopback port until the test ends and
// returns its base URL (for browser tests and real HTTP clients).
func (e *AppEnv) Listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = e.Server.App.Listener(ln) }()
	t.Cleanup(func() { _ = e.Server.App.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// Logger discards logs unless HEARTH_TEST_LOG is set.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("HEARTH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

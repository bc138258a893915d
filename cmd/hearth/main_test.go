package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/testenv"
)

// envFor returns a getenv for a test database and the test Meilisearch.
func envFor(t *testing.T, dbURL string, extra map[string]string) func(string) string {
	meili, key, prefix := testenv.Meili(t)
	m := map[string]string{
		"DATABASE_URL": dbURL, "MEILI_URL": meili, "MEILI_MASTER_KEY": key, "MEILI_INDEX_PREFIX": prefix,
		"HEARTH_SECRET": testenv.Secret, "HEARTH_DATA_DIR": t.TempDir(), "HEARTH_LOG_LEVEL": "warn",
	}
	for k, v := range extra {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func runOut(t *testing.T, ctx context.Context, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(ctx, args, getenv, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestVersionAndUnknownCommand(t *testing.T) {
	out, err := runOut(t, context.Background(), func(string) string { return "" }, "version")
	if err != nil || !strings.HasPrefix(out, "hearth ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if _, err := runOut(t, context.Background(), func(string) string { return "" }, "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	getenv := func(k string) string {
		if k == "HEARTH_ADDR" {
			return "not-an-address"
		}
		return ""
	}
	if _, err := runOut(t, context.Background(), getenv, "serve"); err == nil || !strings.Contains(err.Error(), "HEARTH_ADDR") {
		t.Fatalf("bad HEARTH_ADDR: %v", err)
	}
}

func TestMigrateSeedAndUserCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	getenv := envFor(t, testenv.EmptyURL(t), nil)
	// user create refuses an unmigrated database with a clear instruction
	if _, err := runOut(t, ctx, getenv, "user", "create", "--email", "a@example.com", "--role", "admin"); err == nil ||
		!strings.Contains(err.Error(), "hearth migrate up") {
		t.Fatalf("user create on empty db: %v", err)
	}
	out, err := runOut(t, ctx, getenv, "migrate", "status")
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	if out, err = runOut(t, ctx, getenv, "migrate", "up"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	if out, err = runOut(t, ctx, getenv, "migrate", "down"); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("migrate down: %v\n%s", err, out)
	}
	if _, err = runOut(t, ctx, getenv, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if out, err = runOut(t, ctx, getenv, "seed"); err != nil || !strings.Contains(out, "admin@demo.hearth.local") {
			t.Fatalf("seed %d: %v\n%s", i, err, out)
		}
	}
	out, err = runOut(t, ctx, getenv, "user", "create", "--email", "ops@example.com", "--role", "admin", "--name", "Ops")
	if err != nil || !strings.Contains(out, "created admin ops@example.com") || !strings.Contains(out, "password: ") {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	out, err = runOut(t, ctx, getenv, "user", "create", "--email", "pp@example.com", "--role", "partner", "--partner", "northwind", "--password", "partner-pass-123")
	if err != nil || strings.Contains(out, "password: ") {
		t.Fatalf("partner create: %v\n%s", err, out)
	}
	if _, err = runOut(t, ctx, getenv, "user", "create", "--email", "pq@example.com", "--role", "partner", "--partner", "nope"); err == nil {
		t.Fatal("unknown partner accepted")
	}
	if _, err = runOut(t, ctx, getenv, "user", "create", "--email", "bad", "--role", "admin"); err == nil || !strings.Contains(err.Error(), "--email") {
		t.Fatalf("bad e-mail: %v", err)
	}
}

// TestServeStopsCleanly runs `hearth serve` on an external database and search, checks
// it answers, and that SIGTERM (ctx cancel) lets an in-flight request finish and stops
// the listener.
func TestServeStopsCleanly(t *testing.T) {
	t.Parallel()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	getenv := envFor(t, testenv.URL(t), map[string]string{"HEARTH_ADDR": addr, "HEARTH_DEMO": "true"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out strings.Builder
	go func() { done <- run(ctx, []string{"serve"}, getenv, &out, io.Discard) }()
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get(base + "/readyz")
		if err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		select {
		case rerr := <-done:
			t.Fatalf("serve exited before it was ready: %v\n%s", rerr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve never ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r, err := http.Get(base + "/"); err != nil || r.StatusCode != 200 {
		t.Fatalf("home: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still listening after stop")
	}
	if !strings.Contains(out.String(), "Demo community ready") {
		t.Fatalf("demo not seeded on an empty database:\n%s", out.String())
	}
}

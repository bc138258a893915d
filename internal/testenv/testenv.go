// Package testenv gives each test its own PostgreSQL database, cloned from a template
// migrated with Hearth's real migrations (pgtestdb), and its own Meilisearch index
// prefix on the real Meilisearch the test command started. When either server is
// unreachable the test fails with a message saying how to start it; it never skips.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pgtestdb
	"github.com/peterldowns/pgtestdb"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/migrations"
)

const howTo = "run the tests with `make test`, which starts PostgreSQL and Meilisearch and sets " +
	"HEARTH_TEST_DATABASE_URL and HEARTH_TEST_MEILI_URL (or export them yourself)"

// DatabaseURL is the server the test databases are created on.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("HEARTH_TEST_DATABASE_URL")
	if u == "" {
		t.Fatalf("HEARTH_TEST_DATABASE_URL is not set: %s", howTo)
	}
	return u
}

// migrator builds pgtestdb templates with the embedded goose migrations; its hash
// changes whenever a migration file does, so a stale template is never reused.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

func (migrator) Migrate(ctx context.Context, sqlDB *sql.DB, _ pgtestdb.Config) error {
	m, err := db.NewMigrator(sqlDB)
	if err != nil {
		return err
	}
	return m.Up(ctx, nil)
}

// EmptyMigrator creates databases with no schema at all (for migration tests).
type EmptyMigrator = pgtestdb.NoopMigrator

func pgConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	raw := DatabaseURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("HEARTH_TEST_DATABASE_URL is not a URL: %v", err)
	}
	pw, _ := u.User.Password()
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	return pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      host,
		Port:                      port,
		User:                      u.User.Username(),
		Password:                  pw,
		Database:                  strings.TrimPrefix(u.Path, "/"),
		Options:                   "sslmode=disable",
		ForceTerminateConnections: true,
	}
}

// URL returns the connection string of a fresh, migrated database for t.
func URL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, pgConfig(t), migrator{}).URL()
}

// EmptyURL returns the connection string of a fresh database with no migrations applied.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, pgConfig(t), pgtestdb.NoopMigrator{}).URL()
}

// DB returns a GORM handle on a fresh, migrated database for t, closed at cleanup.
func DB(t testing.TB) *gorm.DB {
	t.Helper()
	return Open(t, URL(t))
}

// Open opens url with GORM and closes it when t ends.
func Open(t testing.TB, url string) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(context.Background(), url, 10)
	if err != nil {
		t.Fatalf("open test database: %v (%s)", err, howTo)
	}
	t.Cleanup(func() { _ = db.Close(gdb) })
	return gdb
}

// Meili returns the test Meilisearch URL and key, checking it is healthy, and a
// fresh index-name prefix unique to t so parallel tests never share an index.
func Meili(t testing.TB) (url, key, prefix string) {
	t.Helper()
	url = os.Getenv("HEARTH_TEST_MEILI_URL")
	key = os.Getenv("HEARTH_TEST_MEILI_MASTER_KEY")
	if url == "" {
		t.Fatalf("HEARTH_TEST_MEILI_URL is not set: %s", howTo)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(strings.TrimRight(url, "/") + "/health")
	if err != nil {
		t.Fatalf("Meilisearch at %s is unreachable: %v (%s)", url, err, howTo)
	}
	resp.Body.Close()
	return url, key, "t" + RandomHex(6) + "_"
}

// RandomHex returns n random bytes, hex encoded.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

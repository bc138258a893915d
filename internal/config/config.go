// Package config reads Hearth's settings once, from environment variables with
// command-line flags as overrides, and validates them across fields. A bad value stops
// start-up with a message naming the variable.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is every setting Hearth reads. Zero values are never used: Load fills defaults.
type Config struct {
	Addr           string        // HEARTH_ADDR
	DataDir        string        // HEARTH_DATA_DIR
	BaseURL        string        // HEARTH_BASE_URL
	DatabaseURL    string        // DATABASE_URL; empty = private embedded PostgreSQL
	MeiliURL       string        // MEILI_URL; empty = private embedded Meilisearch
	MeiliKey       string        // MEILI_MASTER_KEY
	MeiliPrefix    string        // MEILI_INDEX_PREFIX: namespaces index names on a shared server
	Search         string        // HEARTH_SEARCH: meilisearch, or postgres (the built-in fallback)
	Secret         []byte        // HEARTH_SECRET (≥ 32 bytes); generated into the data dir when embedded
	LogLevel       string        // HEARTH_LOG_LEVEL
	LogFormat      string        // HEARTH_LOG_FORMAT: text or json
	Workers        int           // HEARTH_WORKERS: outbox workers inside `serve`
	DBMaxConns     int           // HEARTH_DB_MAX_CONNS
	AccessTTL      time.Duration // HEARTH_ACCESS_TTL
	RefreshTTL     time.Duration // HEARTH_REFRESH_TTL
	TrustedProxies []string      // HEARTH_TRUSTED_PROXIES
	Demo           bool          // HEARTH_DEMO: seed a demo community into an empty database
	ShutdownGrace  time.Duration // HEARTH_SHUTDOWN_GRACE
}

// Var documents one setting; the README table is written from the same words.
type Var struct {
	Env, Flag, Default, Help string
}

// Vars lists every setting in the order the README documents them.
var Vars = []Var{
	{"HEARTH_ADDR", "addr", ":8080", "address the web server listens on"},
	{"HEARTH_DATA_DIR", "data-dir", "./data", "folder for the embedded PostgreSQL and Meilisearch and generated secrets"},
	{"HEARTH_BASE_URL", "base-url", "", "public URL of the site (cookies are Secure when it is https); default http://localhost<HEARTH_ADDR>"},
	{"DATABASE_URL", "database-url", "", "PostgreSQL URL; empty starts a private PostgreSQL under the data folder"},
	{"MEILI_URL", "meili-url", "", "Meilisearch URL; empty starts a private Meilisearch under the data folder"},
	{"MEILI_MASTER_KEY", "meili-key", "", "Meilisearch master (or admin) key, required with MEILI_URL"},
	{"MEILI_INDEX_PREFIX", "meili-index-prefix", "", "prefix of Hearth's index names, so several sites (or test runs) can share one Meilisearch"},
	{"HEARTH_SEARCH", "search", "meilisearch", "search engine: meilisearch (MEILI_URL, or a private one) or postgres (built-in full-text search, no Meilisearch at all; lower quality: no typo tolerance, no synonyms, plainer ranking)"},
	{"HEARTH_SECRET", "secret", "", "signing secret for tokens and CSRF, at least 32 bytes; required with DATABASE_URL, generated into the data folder otherwise"},
	{"HEARTH_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"HEARTH_LOG_FORMAT", "log-format", "text", "text or json"},
	{"HEARTH_WORKERS", "workers", "2", "outbox workers run inside `serve` (0 = leave it to `hearth worker` processes)"},
	{"HEARTH_DB_MAX_CONNS", "db-max-conns", "20", "PostgreSQL connections per process"},
	{"HEARTH_ACCESS_TTL", "access-ttl", "15m", "lifetime of JWT access tokens"},
	{"HEARTH_REFRESH_TTL", "refresh-ttl", "720h", "lifetime of refresh tokens"},
	{"HEARTH_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed"},
	{"HEARTH_DEMO", "demo", "auto", "seed a demo community into an empty database: auto (only with the embedded PostgreSQL), true or false"},
	{"HEARTH_SHUTDOWN_GRACE", "shutdown-grace", "20s", "how long SIGTERM waits for in-flight requests"},
}

// Load reads the environment (through getenv) and then args as flag overrides.
// It returns a Config whose every field is validated; errors name the variable.
func Load(args []string, getenv func(string) string, stderr io.Writer) (*Config, []string, error) {
	fs := flag.NewFlagSet("hearth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := map[string]*string{}
	for _, v := range Vars {
		def := v.Default
		if e := getenv(v.Env); e != "" {
			def = e
		}
		raw[v.Env] = fs.String(v.Flag, def, v.Help+" ("+v.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c, err := parse(func(k string) string { return strings.TrimSpace(*raw[k]) })
	return c, fs.Args(), err
}

func parse(get func(string) string) (*Config, error) {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{env}, a...)...))
	}
	c := &Config{
		Addr: get("HEARTH_ADDR"), DataDir: get("HEARTH_DATA_DIR"), BaseURL: get("HEARTH_BASE_URL"),
		DatabaseURL: get("DATABASE_URL"), MeiliURL: get("MEILI_URL"), MeiliKey: get("MEILI_MASTER_KEY"),
		MeiliPrefix: get("MEILI_INDEX_PREFIX"), Search: strings.ToLower(get("HEARTH_SEARCH")),
		LogLevel: strings.ToLower(get("HEARTH_LOG_LEVEL")), LogFormat: strings.ToLower(get("HEARTH_LOG_FORMAT")),
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("HEARTH_ADDR", "%q is not host:port (for example :8080)", c.Addr)
	}
	if c.DataDir == "" {
		bad("HEARTH_DATA_DIR", "must not be empty")
	} else if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if c.BaseURL == "" {
		_, port, _ := net.SplitHostPort(c.Addr)
		c.BaseURL = "http://localhost:" + port
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("HEARTH_BASE_URL", "%q is not an http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL", "must be a postgres:// URL")
		}
	}
	if c.MeiliURL != "" {
		if u, err := url.Parse(c.MeiliURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("MEILI_URL", "%q is not an http(s) URL", c.MeiliURL)
		}
		if c.MeiliKey == "" {
			bad("MEILI_MASTER_KEY", "is required when MEILI_URL is set")
		}
	}
	switch c.Search {
	case "meilisearch":
	case "postgres":
		if c.MeiliURL != "" {
			bad("HEARTH_SEARCH", "is postgres but MEILI_URL is set: choose one search engine")
		}
	default:
		bad("HEARTH_SEARCH", "%q is not meilisearch or postgres", c.Search)
	}
	if !indexPrefix.MatchString(c.MeiliPrefix) {
		bad("MEILI_INDEX_PREFIX", "%q may only hold up to 40 letters, digits, - and _", c.MeiliPrefix)
	}
	if s := get("HEARTH_SECRET"); s != "" {
		if len(s) < 32 {
			bad("HEARTH_SECRET", "must be at least 32 bytes (got %d); generate one with `openssl rand -hex 32`", len(s))
		}
		c.Secret = []byte(s)
	} else if c.DatabaseURL != "" {
		bad("HEARTH_SECRET", "is required when DATABASE_URL is set, so that every instance signs alike; generate one with `openssl rand -hex 32`")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("HEARTH_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("HEARTH_LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	intVar := func(env string, min, max int) int {
		n, err := strconv.Atoi(get(env))
		if err != nil || n < min || n > max {
			bad(env, "%q is not a whole number from %d to %d", get(env), min, max)
		}
		return n
	}
	c.Workers = intVar("HEARTH_WORKERS", 0, 64)
	c.DBMaxConns = intVar("HEARTH_DB_MAX_CONNS", 2, 1000)
	durVar := func(env string, min, max time.Duration) time.Duration {
		d, err := time.ParseDuration(get(env))
		if err != nil || d < min || d > max {
			bad(env, "%q is not a duration from %s to %s (for example 15m)", get(env), min, max)
		}
		return d
	}
	c.AccessTTL = durVar("HEARTH_ACCESS_TTL", 30*time.Second, 24*time.Hour)
	c.RefreshTTL = durVar("HEARTH_REFRESH_TTL", time.Hour, 365*24*time.Hour)
	c.ShutdownGrace = durVar("HEARTH_SHUTDOWN_GRACE", time.Second, 10*time.Minute)
	if c.RefreshTTL <= c.AccessTTL {
		bad("HEARTH_REFRESH_TTL", "must be longer than HEARTH_ACCESS_TTL")
	}
	if p := get("HEARTH_TRUSTED_PROXIES"); p != "" {
		for _, s := range strings.Split(p, ",") {
			s = strings.TrimSpace(s)
			if net.ParseIP(s) == nil {
				if _, _, err := net.ParseCIDR(s); err != nil {
					bad("HEARTH_TRUSTED_PROXIES", "%q is not an IP address or CIDR", s)
				}
			}
			c.TrustedProxies = append(c.TrustedProxies, s)
		}
	}
	switch strings.ToLower(get("HEARTH_DEMO")) {
	case "auto":
		c.Demo = c.DatabaseURL == ""
	case "true", "1", "yes":
		c.Demo = true
	case "false", "0", "no":
	default:
		bad("HEARTH_DEMO", "%q is not auto, true or false", get("HEARTH_DEMO"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

var indexPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]{0,40}$`)

// EnsureSecret gives an embedded-default install a stable secret kept in the data
// folder (mode 0600), so sessions survive restarts without any configuration.
func (c *Config) EnsureSecret() error {
	if len(c.Secret) > 0 {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("HEARTH_DATA_DIR %s: %w", c.DataDir, err)
	}
	path := filepath.Join(c.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		c.Secret = []byte(strings.TrimSpace(string(b)))
		return nil
	}
	s, err := randomHex(32)
	if err != nil {
		return err
	}
	c.Secret = []byte(s)
	return os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// SecureCookies reports whether cookies must carry the Secure attribute.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, _, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || !strings.HasSuffix(c.DataDir, "/data") || c.AccessTTL != 15*time.Minute || !c.Demo || c.Workers != 2 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Search != "meilisearch" || c.MeiliPrefix != "" {
		t.Fatalf("search defaults: %q %q", c.Search, c.MeiliPrefix)
	}
	if c.BaseURL != "http://localhost:8080" || c.SecureCookies() {
		t.Fatalf("base url: %s", c.BaseURL)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, rest, err := Load([]string{"--addr", "127.0.0.1:9000", "-workers=0", "extra"}, env(map[string]string{"HEARTH_ADDR": ":7000", "HEARTH_WORKERS": "4"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.Workers != 0 || len(rest) != 1 || rest[0] != "extra" {
		t.Fatalf("flags: %+v %v", c, rest)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"HEARTH_ADDR":            {"HEARTH_ADDR": "8080"},
		"DATABASE_URL":           {"DATABASE_URL": "mysql://x", "HEARTH_SECRET": strings.Repeat("s", 32)},
		"HEARTH_SECRET":          {"DATABASE_URL": "postgres://db/x"},
		"MEILI_MASTER_KEY":       {"MEILI_URL": "http://meili:7700"},
		"MEILI_URL":              {"MEILI_URL": "meili:7700", "MEILI_MASTER_KEY": "k"},
		"HEARTH_ACCESS_TTL":      {"HEARTH_ACCESS_TTL": "forever"},
		"HEARTH_WORKERS":         {"HEARTH_WORKERS": "-1"},
		"HEARTH_LOG_LEVEL":       {"HEARTH_LOG_LEVEL": "loud"},
		"HEARTH_DEMO":            {"HEARTH_DEMO": "maybe"},
		"HEARTH_BASE_URL":        {"HEARTH_BASE_URL": "ftp://x"},
		"HEARTH_REFRESH_TTL":     {"HEARTH_ACCESS_TTL": "2h", "HEARTH_REFRESH_TTL": "1h"},
		"HEARTH_TRUSTED_PROXIES": {"HEARTH_TRUSTED_PROXIES": "10.0.0.1, nonsense"},
		"HEARTH_SEARCH":          {"HEARTH_SEARCH": "elastic"},
		"MEILI_INDEX_PREFIX":     {"MEILI_INDEX_PREFIX": "a b"},
	}
	for name, vars := range cases {
		_, _, err := Load(nil, env(vars), io.Discard)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v does not name the variable", name, err)
		}
	}
	// a short secret is refused, and the message never echoes the secret itself
	_, _, err := Load(nil, env(map[string]string{"HEARTH_SECRET": "tooshort-secret"}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "tooshort-secret") {
		t.Fatalf("short secret: %v", err)
	}
}

func TestDemoDefaultsOffWithExternalDatabase(t *testing.T) {
	c, _, err := Load(nil, env(map[string]string{"DATABASE_URL": "postgres://db/x", "HEARTH_SECRET": strings.Repeat("s", 32)}), io.Discard)
	if err != nil || c.Demo {
		t.Fatalf("demo with DATABASE_URL: %v %v", c.Demo, err)
	}
}

func TestEnsureSecretIsStable(t *testing.T) {
	dir := t.TempDir()
	c1 := &Config{DataDir: dir}
	c2 := &Config{DataDir: dir}
	if err := c1.EnsureSecret(); err != nil {
		t.Fatal(err)
	}
	if err := c2.EnsureSecret(); err != nil {
		t.Fatal(err)
	}
	if len(c1.Secret) < 32 || string(c1.Secret) != string(c2.Secret) {
		t.Fatal("generated secret not kept")
	}
}

func TestPostgresSearchExcludesMeilisearch(t *testing.T) {
	c, _, err := Load(nil, env(map[string]string{"HEARTH_SEARCH": "Postgres"}), io.Discard)
	if err != nil || c.Search != "postgres" {
		t.Fatalf("HEARTH_SEARCH=postgres: %v %+v", err, c)
	}
	_, _, err = Load(nil, env(map[string]string{"HEARTH_SEARCH": "postgres", "MEILI_URL": "http://m:7700", "MEILI_MASTER_KEY": "k"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HEARTH_SEARCH") {
		t.Fatalf("postgres with MEILI_URL: %v", err)
	}
}

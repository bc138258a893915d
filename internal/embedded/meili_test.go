package embedded

import (
	"slices"
	"testing"
)

func TestMeiliTuningYieldsToTheEnvironment(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := meiliTuning(getenv); !slices.Equal(got, []string{"--log-level", "WARN", "--max-indexing-memory", MaxIndexingMemory}) {
		t.Errorf("defaults: %q", got)
	}
	// A MEILI_* variable reaches Meilisearch, and a flag would override it.
	env["MEILI_LOG_LEVEL"], env["MEILI_MAX_INDEXING_MEMORY"] = "INFO", "4GiB"
	if got := meiliTuning(getenv); len(got) != 0 {
		t.Errorf("with MEILI_LOG_LEVEL and MEILI_MAX_INDEXING_MEMORY set: %q", got)
	}
}

func TestPostgresTuning(t *testing.T) {
	none := func(string) string { return "" }
	for _, c := range []struct {
		mem  int
		want string
	}{{24 * 1024, "shared_buffers=2048MB"}, {2048, "shared_buffers=512MB"}, {256, "shared_buffers=128MB"}, {0, "shared_buffers=128MB"}} {
		if got := pgTuning(none, c.mem); got[1] != c.want {
			t.Errorf("%d MiB of RAM: %q, want %s", c.mem, got, c.want)
		}
	}
	set := func(k string) string {
		if k == "HEARTH_PG_SHARED_BUFFERS" {
			return "300MB"
		}
		return ""
	}
	if got := pgTuning(set, 24*1024); got[1] != "shared_buffers=300MB" {
		t.Errorf("with HEARTH_PG_SHARED_BUFFERS set: %q", got)
	}
}

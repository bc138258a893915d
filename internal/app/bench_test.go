package app_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

// BenchmarkThreadPage renders a demo thread page as a visitor, in process, so a CPU
// profile (-cpuprofile) shows where a page's time goes. The load test with wrk is in
// scripts/bench-forum.sh; see BENCHMARKS.md.
func BenchmarkThreadPage(b *testing.B) {
	e := testenv.NewApp(b)
	ctx := context.Background()
	if err := demo.Seed(ctx, e.Auth, e.Forums, e.Partners, io.Discard); err != nil {
		b.Fatal(err)
	}
	if err := demo.SeedContent(ctx, e.Auth, e.Forum); err != nil {
		b.Fatal(err)
	}
	page := e.Page(b, "/t/2/x")
	url := page.Header.Get("Location")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", url, nil)
		resp, err := e.Server.App.Test(req, -1)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", err, resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}

package web_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/web"
)

// TestShutdownFinishesInFlightRequests: the shutdown `hearth serve` performs on SIGTERM
// lets a request that is being handled complete, and refuses new connections.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), I18n: b, Funcs: forum.TemplateFuncs()})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv.App.Get("/slow", func(c *fiber.Ctx) error {
		close(started)
		time.Sleep(700 * time.Millisecond)
		return c.SendString("finished")
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.App.Listener(ln) }()
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		r, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		res <- result{body: string(b)}
	}()
	<-started
	if err := srv.App.ShutdownWithTimeout(10 * time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	got := <-res
	if got.err != nil || got.body != "finished" {
		t.Fatalf("in-flight request: %q %v", got.body, got.err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
		t.Fatal("new request accepted after shutdown")
	}
}

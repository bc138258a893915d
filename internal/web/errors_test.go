package web_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/web"
)

// TestConnectionErrorsAreNotInternal: fasthttp reports an idle keep-alive connection timing
// out (and oversized headers) through the error handler; they answer their own status and
// are not logged as internal errors, while a real internal error still is.
func TestConnectionErrorsAreNotInternal(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv, err := web.New(web.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), I18n: b, Funcs: forum.TemplateFuncs()})
	if err != nil {
		t.Fatal(err)
	}
	srv.App.Get("/timeout", func(c *fiber.Ctx) error { return fiber.ErrRequestTimeout })
	srv.App.Get("/headers", func(c *fiber.Ctx) error { return fiber.ErrRequestHeaderFieldsTooLarge })
	srv.App.Get("/broken", func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusTeapot, "odd") })
	for path, want := range map[string]int{"/timeout": 408, "/headers": 431} {
		resp, err := srv.App.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("connection errors logged as errors:\n%s", logs.String())
	}
	resp, err := srv.App.Test(httptest.NewRequest("GET", "/broken", nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("an unknown error: status %d, logs %q; want 500 and an ERROR line", resp.StatusCode, logs.String())
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/db"
)

// runBenchBaseline is `hearth bench-baseline`: the ceiling the forum's pages are
// measured against. A bare Fiber app (no middleware) answers GET /post/:id with one
// primary-key SELECT on the same database, through the same pool and GORM, as JSON.
// Whatever the forum pages add on top (sessions, CSRF, several queries, templates)
// shows up as the distance from this.
func runBenchBaseline(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	url := fs.String("database-url", getenv("DATABASE_URL"), "PostgreSQL URL (default $DATABASE_URL)")
	conns := fs.Int("db-max-conns", 20, "PostgreSQL connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("bench-baseline: set DATABASE_URL (or --database-url) to the database under test")
	}
	gdb, err := db.Open(ctx, *url, *conns)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer db.Close(gdb)

	app := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
	app.Get("/post/:id", func(c *fiber.Ctx) error {
		id, err := strconv.ParseInt(c.Params("id"), 10, 64)
		if err != nil {
			return c.SendStatus(fiber.StatusNotFound)
		}
		var p struct {
			ID       int64  `json:"id"`
			ThreadID int64  `json:"thread_id"`
			Number   int    `json:"number"`
			BodyHTML string `json:"body_html"`
		}
		res := gdb.WithContext(c.UserContext()).
			Raw(`SELECT id, thread_id, number, body_html FROM forum_posts WHERE id = ?`, id).Scan(&p)
		switch {
		case res.Error != nil:
			fmt.Fprintln(stderr, "bench-baseline:", res.Error)
			return c.SendStatus(fiber.StatusInternalServerError)
		case res.RowsAffected == 0:
			return c.SendStatus(fiber.StatusNotFound)
		}
		return c.JSON(p)
	})

	listenErr := make(chan error, 1)
	go func() { listenErr <- app.Listen(*addr) }()
	fmt.Fprintf(stdout, "bench-baseline listening on %s (GET /post/:id)\n", *addr)
	select {
	case err := <-listenErr:
		return fmt.Errorf("--addr %s: %w", *addr, err)
	case <-ctx.Done():
	}
	return app.ShutdownWithTimeout(5 * time.Second)
}

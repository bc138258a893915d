// Command hearth is the one Hearth binary: serve, worker, migrate, seed, reindex, user, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

const usage = `hearth — a brand customer community with a live CRM

Usage:
  hearth [serve] [flags]            run the web server (and outbox workers); the default
  hearth worker [flags]             run outbox workers only (scale-out deployments)
  hearth migrate up|down|status     apply, roll back one, or list migrations
  hearth seed [--scale N]           add the demo community (idempotent); --scale N generates
                                    N × (100k members, 100k threads, 1M posts) for load tests
  hearth bench-baseline --addr A    a bare Fiber handler doing one primary-key SELECT (benchmark ceiling)
  hearth user create --email E --role R [--name N] [--partner SLUG] [--password P]
  hearth reindex [flags]            rebuild the search index from PostgreSQL (swapped in when complete)
  hearth import purchases|attributes FILE.csv [--dry-run]   import shop orders or CRM attributes (all or nothing)
  hearth services --dir D --env-file F   start only a throw-away PostgreSQL and Meilisearch (tests)
  hearth version

Every flag can also be set by environment variable; run 'hearth serve -h' for the list.
`

// version is set at build time with -ldflags "-X main.version=…"; otherwise the VCS
// revision Go records is shown.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hearth:", err)
		}
		os.Exit(1)
	}
}

// run is the whole program, wired by hand: each subcommand gets what it needs and
// nothing global.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "hearth", buildVersion())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "services":
		return runServices(ctx, args, stdout, slog.New(slog.NewTextHandler(stderr, nil)))
	case "serve":
		return runServe(ctx, args, getenv, stdout, stderr)
	case "worker":
		return runWorker(ctx, args, getenv, stderr)
	case "migrate":
		return runMigrate(ctx, args, getenv, stdout, stderr)
	case "seed":
		return runSeed(ctx, args, getenv, stdout, stderr)
	case "reindex":
		return runReindex(ctx, args, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, args, getenv, stdout, stderr)
	case "bench-baseline":
		return runBenchBaseline(ctx, args, getenv, stdout, stderr)
	case "bench-crm":
		return runBenchCRM(ctx, args, getenv, stdout, stderr)
	case "bench-search-writes":
		return runBenchSearchWrites(ctx, args, stdout, stderr)
	case "import":
		return runImport(ctx, args, getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return "dev+" + rev + dirty
		}
	}
	return "dev"
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearth-community/hearth/internal/embedded"
)

// runServices starts only the private PostgreSQL and Meilisearch (tuned for throw-away
// use: no fsync) and writes their addresses as shell variables to --env-file, until ctx
// ends. `make test` uses it so the test suite runs against real servers.
func runServices(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	dir, envFile := "", ""
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--dir" && i+1 < len(args):
			dir = args[i+1]
			i++
		case args[i] == "--env-file" && i+1 < len(args):
			envFile = args[i+1]
			i++
		default:
			return fmt.Errorf("usage: hearth services --dir DIR --env-file FILE")
		}
	}
	if dir == "" || envFile == "" {
		return fmt.Errorf("usage: hearth services --dir DIR --env-file FILE")
	}
	pg, err := embedded.StartPostgres(ctx, filepath.Join(dir), embedded.PostgresOptions{Fast: true, MaxConnections: 400}, log)
	if err != nil {
		return err
	}
	defer pg.Stop()
	ms, err := embedded.StartMeili(ctx, dir, log)
	if err != nil {
		return err
	}
	defer ms.Stop()
	env := strings.Join([]string{
		"export HEARTH_TEST_DATABASE_URL='" + pg.URL + "'",
		"export HEARTH_TEST_MEILI_URL='" + ms.URL + "'",
		"export HEARTH_TEST_MEILI_MASTER_KEY='" + ms.Key + "'",
	}, "\n") + "\n"
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "services ready; variables in %s\n", envFile)
	<-ctx.Done()
	return nil
}

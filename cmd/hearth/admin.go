package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"

	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/demo"
)

// runMigrate applies (up), rolls back one (down) or lists (status) migrations.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, rest, err := open(ctx, args, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer e.close()
	sqlDB, err := e.db.DB()
	if err != nil {
		return err
	}
	m, err := dbMigrator(sqlDB)
	if err != nil {
		return err
	}
	action := "up"
	if len(rest) > 0 {
		action = rest[0]
	}
	switch action {
	case "up":
		if err := m.Up(ctx, stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "database is up to date")
		return nil
	case "down":
		return m.Down(ctx, stdout)
	case "status":
		return m.Status(ctx, stdout)
	}
	return fmt.Errorf("usage: hearth migrate up|down|status (got %q)", action)
}

// runSeed adds the demo community to the database; it is idempotent.
func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	seedArgs, cfgArgs := splitFlags(args, "scale")
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Float64("scale", 0, "generate N × (100,000 members, 100,000 threads, 1,000,000 posts) for load tests")
	if err := fs.Parse(seedArgs); err != nil {
		return err
	}
	e, _, err := open(ctx, cfgArgs, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer e.close()
	if *n != 0 {
		return runSeedScale(ctx, e, *n, stdout)
	}
	if err := e.migrate(ctx, nil); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	if err := demo.Seed(ctx, a.Auth, a.Forums, a.Partners, stdout); err != nil {
		return err
	}
	if err := demo.SeedContent(ctx, a.Auth, a.Forum); err != nil {
		return err
	}
	return demo.SeedCRM(ctx, e.db, a.Auth, a.CRM)
}

// runUser handles `hearth user create`.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: hearth user create --email E --role R [--name N] [--partner SLUG] [--password P]")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "e-mail address (required)")
	role := fs.String("role", "member", "member, partner, moderator, marketer or admin")
	name := fs.String("name", "", "display name (default: the part of the e-mail before @)")
	partner := fs.String("partner", "", "partner company slug (required for --role partner)")
	password := fs.String("password", "", "password (default: a generated one, printed once)")
	// configuration flags may follow too; they are split off and handed to config.
	userArgs, cfgArgs := splitFlags(args[1:], "email", "role", "name", "partner", "password")
	if err := fs.Parse(userArgs); err != nil {
		return err
	}
	e, _, err := open(ctx, cfgArgs, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.requireMigrated(ctx); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: nil, Logger: e.log})
	if err != nil {
		return err
	}
	in := auth.NewAccount{Email: *email, DisplayName: *name, Role: auth.Role(*role), Password: *password}
	if in.DisplayName == "" {
		in.DisplayName = localPart(*email)
	}
	generated := in.Password == ""
	if generated {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		in.Password = base64.RawURLEncoding.EncodeToString(b)
	}
	if *partner != "" {
		c, ok, err := a.Partners.BySlug(ctx, *partner)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("--partner: no partner company with slug %q", *partner)
		}
		in.PartnerID = &c.ID
	}
	u, err := a.Auth.CreateUser(ctx, in)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created %s %s (id %d)\n", u.Role, u.Email, u.ID)
	if generated {
		fmt.Fprintf(stdout, "password: %s   (shown once; change it after logging in)\n", in.Password)
	}
	return nil
}

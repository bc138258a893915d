package main

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/i18n"
)

type prometheusRegisterer = prometheus.Registerer

func dbMigrator(sqlDB *sql.DB) (*db.Migrator, error) { return db.NewMigrator(sqlDB) }

// splitFlags separates the named flags (and their values) from the rest of args.
func splitFlags(args []string, names ...string) (mine, rest []string) {
	own := map[string]bool{}
	for _, n := range names {
		own[n] = true
	}
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		name, _, hasValue := strings.Cut(name, "=")
		if strings.HasPrefix(args[i], "-") && own[name] {
			mine = append(mine, args[i])
			if !hasValue && i+1 < len(args) {
				mine = append(mine, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, args[i])
	}
	return mine, rest
}

func localPart(email string) string {
	name, _, _ := strings.Cut(email, "@")
	return name
}

// describe turns a user-facing error into English text for the terminal.
func describe(err error) error {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind == apperr.Internal {
		return err
	}
	b, lerr := i18n.Load()
	if lerr != nil {
		return err
	}
	l := b.For("en")
	msg := l.T(e.MessageID)
	var fields []string
	for f, id := range e.Fields {
		fields = append(fields, fmt.Sprintf("--%s: %s", f, l.T(id)))
	}
	sort.Strings(fields)
	if len(fields) > 0 {
		msg += " " + strings.Join(fields, "; ")
	}
	return errors.New(msg)
}

// Package migrations holds the numbered SQL migrations, embedded in the binary. They are
// the only way Hearth's schema changes (GORM never creates or alters tables).
package migrations

import "embed"

// FS holds every *.sql migration in goose format.
//
//go:embed *.sql
var FS embed.FS

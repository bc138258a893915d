// Package static holds what the web UI serves and renders, embedded in the binary so
// `hearth` runs without a build step: templates, CSS, vendored JS, translations and the
// OpenAPI document.
package static

import "embed"

// FS is the whole static tree.
//
//go:embed templates assets i18n openapi.json
var FS embed.FS

package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/static"
)

// OpenAPI serves the OpenAPI 3 document of the JSON API (static/openapi.json). A test
// compares it with the registered /api/v1 routes in both directions.
func OpenAPI(c *fiber.Ctx) error {
	b, err := static.FS.ReadFile("openapi.json")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(b)
}

// NotFound is the last handler: anything no route matched.
func NotFound(c *fiber.Ctx) error {
	return apperr.New(apperr.NotFound, "error.not_found")
}

package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
)

// ErrorBody is the API's one error shape: {"error":{"code","message","fields"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries a machine code, a translated message and translated field problems.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

var statusOf = map[apperr.Kind]int{
	apperr.Invalid:         fiber.StatusUnprocessableEntity,
	apperr.NotFound:        fiber.StatusNotFound,
	apperr.Conflict:        fiber.StatusConflict,
	apperr.Unauthenticated: fiber.StatusUnauthorized,
	apperr.Forbidden:       fiber.StatusForbidden,
	apperr.RateLimited:     fiber.StatusTooManyRequests,
	apperr.Internal:        fiber.StatusInternalServerError,
}

// fromFiber maps Fiber's own errors (unknown route, body too large …) to our kinds.
func fromFiber(fe *fiber.Error) *apperr.Error {
	switch fe.Code {
	case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
		return apperr.New(apperr.NotFound, "error.not_found")
	case fiber.StatusRequestEntityTooLarge:
		return apperr.New(apperr.Invalid, "error.too_large")
	case fiber.StatusBadRequest, fiber.StatusUnprocessableEntity:
		return apperr.New(apperr.Invalid, "error.bad_request")
	case fiber.StatusUnauthorized:
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	case fiber.StatusForbidden:
		return apperr.New(apperr.Forbidden, "error.forbidden")
	case fiber.StatusTooManyRequests:
		return apperr.New(apperr.RateLimited, "error.rate_limited")
	}
	return apperr.Wrap(apperr.Internal, "error.internal", fe)
}

// handleError is Fiber's ErrorHandler: the only place errors become responses. Internal
// errors show a generic message and their cause is logged once, with the request id.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	var e *apperr.Error
	var fe *fiber.Error
	if errors.As(err, &fe) && (fe.Code == fiber.StatusRequestTimeout || fe.Code == fiber.StatusRequestHeaderFieldsTooLarge) {
		// The connection's side of things (an idle keep-alive connection timing out, headers
		// too large): nothing went wrong in Hearth, so answer the status and log nothing.
		return c.SendStatus(fe.Code)
	}
	if errors.As(err, &e) {
		// keep e
	} else if errors.As(err, &fe) {
		e = fromFiber(fe)
	} else {
		e = apperr.As(err)
	}
	status := statusOf[e.Kind]
	if e.Kind == apperr.Internal {
		Logger(c).Error("internal error", "method", c.Method(), "path", c.Path(), "err", e.Cause)
	}
	if e.Kind == apperr.Unauthenticated {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hearth"`)
	}
	loc := s.Localizer(c)
	if WantsJSON(c) {
		body := ErrorBody{Error: ErrorDetail{Code: e.Kind.String(), Message: loc.T(e.MessageID)}}
		if len(e.Fields) > 0 {
			body.Error.Fields = make(map[string]string, len(e.Fields))
			for f, id := range e.Fields {
				body.Error.Fields[f] = loc.T(id)
			}
		}
		return c.Status(status).JSON(body)
	}
	if e.Kind == apperr.Unauthenticated && c.Method() == fiber.MethodGet {
		return c.Redirect("/login?next="+safeNext(c.OriginalURL()), fiber.StatusSeeOther)
	}
	v := &View{Title: "error.title", Error: loc.T(e.MessageID)}
	if rerr := s.RenderView(c, status, "error", v); rerr != nil {
		Logger(c).Error("render error page", "err", rerr)
		return c.Status(status).SendString(loc.T(e.MessageID))
	}
	return nil
}

// WantsJSON is true for the API and for clients that ask for JSON.
func WantsJSON(c *fiber.Ctx) bool {
	if strings.HasPrefix(c.Path(), "/api/") {
		return true
	}
	return c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON
}

// safeNext keeps redirects on this site: only local absolute paths survive.
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}

// SafeNext is the exported form of safeNext for login redirects.
func SafeNext(p string) string { return safeNext(p) }

// FieldErrors translates the field problems of an Invalid error for a form; ok is false
// for any other error, which the caller returns to the error handler.
func (s *Server) FieldErrors(c *fiber.Ctx, err error) (fields map[string]string, summary string, ok bool) {
	var e *apperr.Error
	if !errors.As(err, &e) || (e.Kind != apperr.Invalid && e.Kind != apperr.Unauthenticated &&
		e.Kind != apperr.Conflict && e.Kind != apperr.RateLimited) {
		return nil, "", false
	}
	loc := s.Localizer(c)
	fields = map[string]string{}
	for f, id := range e.Fields {
		fields[f] = loc.T(id)
	}
	return fields, loc.T(e.MessageID), true
}

// BindJSON decodes the request body into v; malformed JSON is an Invalid error.
func BindJSON(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return apperr.New(apperr.Invalid, "error.want_json")
	}
	if err := c.BodyParser(v); err != nil {
		return apperr.Wrap(apperr.Invalid, "error.malformed_json", err)
	}
	return nil
}

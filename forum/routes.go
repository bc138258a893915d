package forum

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/web"
)

// Handlers are the forum's HTTP face.
type Handlers struct {
	svc *Service
	srv *web.Server
}

// NewHandlers binds the forum service to the web server.
func NewHandlers(svc *Service, srv *web.Server) *Handlers { return &Handlers{svc: svc, srv: srv} }

// Routes registers the forum's pages and API.
func (h *Handlers) Routes(app *fiber.App) {
	app.Get("/", h.home)
	app.Get("/api/v1/categories", h.apiCategories)
}

func role(c *fiber.Ctx) string {
	if p := web.CurrentUser(c); p != nil {
		return p.Role
	}
	return ""
}

func (h *Handlers) home(c *fiber.Ctx) error {
	cats, err := h.svc.VisibleCategories(c.UserContext(), role(c))
	if err != nil {
		return err
	}
	return h.srv.Render(c, fiber.StatusOK, "home", "home.title", fiber.Map{"Categories": cats})
}

func (h *Handlers) apiCategories(c *fiber.Ctx) error {
	cats, err := h.svc.VisibleCategories(c.UserContext(), role(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"categories": cats})
}

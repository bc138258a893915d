package auth

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/web"
)

// Handlers are the HTTP face of the auth service.
type Handlers struct {
	svc    *Service
	srv    *web.Server
	secure bool
}

// NewHandlers binds the service to the web server.
func NewHandlers(svc *Service, srv *web.Server, secureCookies bool) *Handlers {
	return &Handlers{svc: svc, srv: srv, secure: secureCookies}
}

// Routes registers the auth API and pages.
func (h *Handlers) Routes(app *fiber.App) {
	api := app.Group("/api/v1")
	api.Post("/auth/register", h.apiRegister)
	api.Post("/auth/login", h.apiLogin)
	api.Post("/auth/refresh", h.apiRefresh)
	api.Post("/auth/logout", h.apiLogout)
	api.Get("/me", web.RequireUser, h.apiMe)
	api.Patch("/me", web.RequireUser, h.apiUpdateMe)
	api.Post("/me/password", web.RequireUser, h.apiChangePassword)

	app.Get("/login", h.loginPage)
	app.Post("/login", h.loginSubmit)
	app.Get("/register", h.registerPage)
	app.Post("/register", h.registerSubmit)
	app.Post("/logout", h.logoutSubmit)
	app.Get("/account", web.RequireUser, h.accountPage)
	app.Post("/account/password", web.RequireUser, h.passwordSubmit)
	app.Post("/lang", h.langSubmit)
}

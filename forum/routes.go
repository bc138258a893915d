package forum

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/web"
)

// Handlers are the forum's HTTP face: the JSON API and the server-rendered pages.
type Handlers struct {
	svc     *Service
	srv     *web.Server
	baseURL string
	anon    *anonCache
}

// NewHandlers binds the forum service to the web server; baseURL makes canonical links.
func NewHandlers(svc *Service, srv *web.Server, baseURL string) *Handlers {
	return &Handlers{svc: svc, srv: srv, baseURL: baseURL, anon: newAnonCache(svc.db, svc.store)}
}

// Routes registers the forum's API and pages. Each handler asks the service, which
// checks who may do what; RequireUser only spares visitors a pointless round trip.
func (h *Handlers) Routes(app *fiber.App) {
	api := app.Group("/api/v1")
	api.Get("/categories", h.apiCategories)
	api.Post("/categories", web.RequireUser, h.apiCreateCategory)
	api.Patch("/categories/:id", web.RequireUser, h.apiUpdateCategory)
	api.Get("/threads", h.apiList)
	api.Post("/threads", web.RequireUser, h.apiCreateThread)
	api.Get("/threads/:id", h.apiThread)
	api.Patch("/threads/:id", web.RequireUser, h.apiModerateThread)
	api.Post("/threads/:id/posts", web.RequireUser, h.apiReply)
	api.Put("/threads/:id/accepted", web.RequireUser, h.apiAccept)
	api.Put("/threads/:id/rating", web.RequireUser, h.apiRate)
	api.Patch("/posts/:id", web.RequireUser, h.apiEditPost)
	api.Post("/posts/:id/moderation", web.RequireUser, h.apiModeratePost)
	api.Get("/posts/:id/revisions", web.RequireUser, h.apiRevisions)
	api.Put("/posts/:id/reactions/:kind", web.RequireUser, h.apiReact)
	api.Delete("/posts/:id/reactions/:kind", web.RequireUser, h.apiReact)
	api.Get("/members/:handle", h.apiProfile)

	app.Get("/", h.home)
	app.Get("/latest", h.listPage(ListLatest))
	app.Get("/top", h.listPage(ListTop))
	app.Get("/unanswered", h.listPage(ListUnanswered))
	app.Get("/c/:slug", h.listPage(ListCategory))
	app.Get("/tag/:tag", h.listPage(ListTag))
	app.Get("/t/:id/reply", web.RequireUser, h.replyPage) // before the slug route, which would match it
	app.Get("/t/:id/:slug?", h.threadPage)
	app.Post("/t/:id/reply", web.RequireUser, h.replySubmit)
	app.Post("/t/:id/accept", web.RequireUser, h.acceptSubmit)
	app.Post("/t/:id/rate", web.RequireUser, h.rateSubmit)
	app.Post("/t/:id/moderate", web.RequireUser, h.moderateThreadSubmit)
	app.Get("/new", web.RequireUser, h.newThreadPage)
	app.Post("/new", web.RequireUser, h.newThreadSubmit)
	app.Get("/p/:id/edit", web.RequireUser, h.editPage)
	app.Post("/p/:id/edit", web.RequireUser, h.editSubmit)
	app.Get("/p/:id/history", web.RequireUser, h.historyPage)
	app.Post("/p/:id/react", web.RequireUser, h.reactSubmit)
	app.Post("/p/:id/moderate", web.RequireUser, h.moderatePostSubmit)
	app.Get("/u/:handle", h.profilePage)
	app.Get("/admin/categories", web.RequireRole("admin"), h.categoriesAdminPage)
	app.Post("/admin/categories", web.RequireRole("admin"), h.categoryCreateSubmit)
	app.Post("/admin/categories/:id", web.RequireRole("admin"), h.categoryUpdateSubmit)
}

package crm

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// Handlers are the CRM's HTTP face.
type Handlers struct {
	svc     *Service
	srv     *web.Server
	privacy *Privacy
}

// NewHandlers binds the CRM service to the web server.
func NewHandlers(svc *Service, srv *web.Server, pv *Privacy) *Handlers {
	return &Handlers{svc: svc, srv: srv, privacy: pv}
}

// Routes registers the CRM API and pages. Staff views need marketer or admin; a
// member's own data needs only that they are logged in.
func (h *Handlers) Routes(app *fiber.App) {
	staff := web.RequireRole("marketer", "admin")
	api := app.Group("/api/v1")
	api.Get("/crm/members/:id", staff, h.apiMember)
	api.Post("/crm/members/:id/notes", staff, h.apiAddNote)
	api.Get("/me/data", web.RequireUser, h.apiOwnData)
	api.Put("/me/consent", web.RequireUser, h.apiConsent)
	api.Get("/me/export", web.RequireUser, h.apiExport)
	api.Post("/me/erase", web.RequireUser, h.apiErase)
	// external data in (marketers, admins) and webhooks out: admins register endpoints
	// and re-send; marketers may read endpoints and delivery logs
	admin := web.RequireRole("admin")
	api.Post("/crm/purchases", staff, h.apiImportPurchases)
	api.Post("/crm/attributes", staff, h.apiImportAttributes)
	api.Get("/crm/webhooks", staff, h.apiWebhooks)
	api.Post("/crm/webhooks", admin, h.apiCreateWebhook)
	api.Delete("/crm/webhooks/:id", admin, h.apiDeleteWebhook)
	api.Get("/crm/webhooks/:id/deliveries", staff, h.apiDeliveries)
	api.Post("/crm/webhooks/:id/deliveries/:delivery/resend", admin, h.apiResend)
	api.Post("/me/nps", web.RequireUser, h.apiNPS)
	// segments and the dashboard (marketers, admins)
	api.Post("/crm/segments/preview", staff, h.apiSegmentPreview)
	api.Get("/crm/segments", staff, h.apiSegments)
	api.Post("/crm/segments", staff, h.apiSegmentCreate)
	api.Get("/crm/segments/:id", staff, h.apiSegment)
	api.Put("/crm/segments/:id", staff, h.apiSegmentUpdate)
	api.Delete("/crm/segments/:id", staff, h.apiSegmentDelete)
	api.Get("/crm/segments/:id/members", staff, h.apiSegmentMembers)
	api.Get("/crm/dashboard", staff, h.apiDashboard)

	app.Get("/crm/members/:id", staff, h.memberPage)
	app.Post("/crm/members/:id/notes", staff, h.notePost)
	app.Get("/me/data", web.RequireUser, h.ownPage)
	app.Post("/me/consent", web.RequireUser, h.consentPost)
	app.Get("/me/export", web.RequireUser, h.exportDownload)
	app.Post("/me/erase", web.RequireUser, h.erasePost)
	app.Get("/admin/webhooks", staff, h.webhooksAdminPage)
	app.Post("/admin/webhooks", admin, h.webhookCreatePost)
	app.Post("/admin/webhooks/:id/delete", admin, h.webhookDeletePost)
	app.Post("/admin/webhooks/:id/deliveries/:delivery/resend", admin, h.webhookResendPost)
	app.Post("/me/nps", web.RequireUser, h.npsPost)
	app.Get("/crm", staff, h.dashboardPage)
	app.Get("/crm/segments", staff, h.segmentsPage)
	app.Post("/crm/segments", staff, h.segmentSubmit)
	app.Post("/crm/segments/count", staff, h.segmentCountPost)
	app.Get("/crm/segments/:id", staff, h.segmentPage)
	app.Post("/crm/segments/:id", staff, h.segmentSubmit)
	app.Post("/crm/segments/:id/delete", staff, h.segmentDeletePost)
}

func actor(c *fiber.Ctx) Actor {
	if p := web.CurrentUser(c); p != nil {
		return Actor{ID: p.ID, Role: p.Role}
	}
	return Actor{}
}

func memberID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

func (h *Handlers) apiMember(c *fiber.Ctx) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	m, err := h.svc.Member(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type noteBody struct {
	Body string `json:"body"`
}

func (h *Handlers) apiAddNote(c *fiber.Ctx) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	var in noteBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	n, err := h.svc.AddNote(c.UserContext(), actor(c), id, in.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(n)
}

func (h *Handlers) apiOwnData(c *fiber.Ctx) error {
	a := actor(c)
	m, err := h.svc.Member(c.UserContext(), a, a.ID)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (h *Handlers) apiConsent(c *fiber.Ctx) error {
	var in Consent
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	p, err := h.svc.SetConsent(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"email": p.ConsentEmail, "in_app": p.ConsentInapp})
}

func (h *Handlers) apiExport(c *fiber.Ctx) error {
	data, err := h.svc.Export(c.UserContext(), actor(c), h.privacy)
	if err != nil {
		return err
	}
	return c.JSON(data)
}

type eraseBody struct {
	Confirm bool `json:"confirm"`
}

func (h *Handlers) apiErase(c *fiber.Ctx) error {
	var in eraseBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if !in.Confirm {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("confirm", "crm.err.confirm")
	}
	if err := h.svc.Erase(c.UserContext(), actor(c), h.privacy); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handlers) memberPage(c *fiber.Ctx) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	m, err := h.svc.Member(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "crm_member", &web.View{Title: m.Identity.DisplayName, NoTitleT: true, Data: m})
}

func (h *Handlers) notePost(c *fiber.Ctx) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	if _, err := h.svc.AddNote(c.UserContext(), actor(c), id, c.FormValue("body")); err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			return err
		}
		h.srv.SetFlash(c, "crm.note_empty")
	}
	return c.Redirect("/crm/members/"+strconv.FormatInt(id, 10)+"#notes", fiber.StatusSeeOther)
}

func (h *Handlers) ownPage(c *fiber.Ctx) error {
	a := actor(c)
	m, err := h.svc.Member(c.UserContext(), a, a.ID)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "my_data", &web.View{Title: "crm.my_data", Data: m})
}

func (h *Handlers) consentPost(c *fiber.Ctx) error {
	email, inapp := c.FormValue("email") == "on", c.FormValue("in_app") == "on"
	if _, err := h.svc.SetConsent(c.UserContext(), actor(c), Consent{Email: &email, InApp: &inapp}); err != nil {
		return err
	}
	h.srv.SetFlash(c, "crm.consent_saved")
	return c.Redirect("/me/data", fiber.StatusSeeOther)
}

func (h *Handlers) exportDownload(c *fiber.Ctx) error {
	data, err := h.svc.Export(c.UserContext(), actor(c), h.privacy)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="hearth-my-data.json"`)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(b)
}

// erasePost erases the account after the member typed the confirmation word of their
// language (ERASE / 删除), then signs them out.
func (h *Handlers) erasePost(c *fiber.Ctx) error {
	word := strings.TrimSpace(c.FormValue("confirm"))
	if word != h.srv.Localizer(c).T("crm.erase_word") {
		a := actor(c)
		m, err := h.svc.Member(c.UserContext(), a, a.ID)
		if err != nil {
			return err
		}
		loc := h.srv.Localizer(c)
		return h.srv.RenderView(c, fiber.StatusUnprocessableEntity, "my_data", &web.View{Title: "crm.my_data", Data: m,
			Errors: map[string]string{"confirm": loc.T("crm.err.confirm")}, Error: loc.T("error.invalid")})
	}
	if err := h.svc.Erase(c.UserContext(), actor(c), h.privacy); err != nil {
		return err
	}
	for _, n := range []string{"hearth_access", "hearth_refresh"} {
		c.Cookie(&fiber.Cookie{Name: n, Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	}
	h.srv.SetFlash(c, "crm.erased")
	return c.Redirect("/", fiber.StatusSeeOther)
}

type npsBody struct {
	Score *int `json:"score"`
}

func (h *Handlers) apiNPS(c *fiber.Ctx) error {
	var in npsBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Score == nil {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("score", "crm.err.nps")
	}
	if err := h.svc.AnswerNPS(c.UserContext(), actor(c), *in.Score); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handlers) npsPost(c *fiber.Ctx) error {
	score, err := strconv.Atoi(c.FormValue("score"))
	if err != nil {
		score = -1
	}
	if err := h.svc.AnswerNPS(c.UserContext(), actor(c), score); err != nil {
		return err
	}
	h.srv.SetFlash(c, "crm.nps_saved")
	return c.Redirect("/me/data", fiber.StatusSeeOther)
}

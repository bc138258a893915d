package auth

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/i18n"
	"github.com/hearth-community/hearth/internal/web"
)

// formFailed re-renders page with the field errors of err (422, or 429 when rate
// limited); other errors go to the error handler.
func (h *Handlers) formFailed(c *fiber.Ctx, page, title string, err error, form map[string]string) error {
	fields, summary, ok := h.srv.FieldErrors(c, err)
	if !ok {
		return err
	}
	status := fiber.StatusUnprocessableEntity
	switch {
	case apperr.Is(err, apperr.RateLimited):
		status = fiber.StatusTooManyRequests
	case apperr.Is(err, apperr.Unauthenticated):
		status = fiber.StatusUnauthorized
	case apperr.Is(err, apperr.Conflict):
		status = fiber.StatusConflict
	}
	return h.srv.RenderView(c, status, page, &web.View{Title: title, Errors: fields, Error: summary, Form: form})
}

func (h *Handlers) loginPage(c *fiber.Ctx) error {
	if web.CurrentUser(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return h.srv.RenderView(c, fiber.StatusOK, "login", &web.View{Title: "auth.login_title",
		Form: map[string]string{"next": web.SafeNext(c.Query("next"))}})
}

func (h *Handlers) loginSubmit(c *fiber.Ctx) error {
	form := map[string]string{"email": c.FormValue("email"), "next": web.SafeNext(c.FormValue("next"))}
	u, t, err := h.svc.Login(c.UserContext(), form["email"], c.FormValue("password"), c.IP())
	if err != nil {
		return h.formFailed(c, "login", "auth.login_title", err, form)
	}
	h.setCookies(c, t)
	if u.Locale != "" {
		h.srv.SetLangCookie(c, u.Locale)
	}
	h.srv.SetFlash(c, "auth.logged_in_plain")
	return c.Redirect(form["next"], fiber.StatusSeeOther)
}

func (h *Handlers) registerPage(c *fiber.Ctx) error {
	if web.CurrentUser(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return h.srv.RenderView(c, fiber.StatusOK, "register", &web.View{Title: "auth.register_title"})
}

func (h *Handlers) registerSubmit(c *fiber.Ctx) error {
	in := NewAccount{Email: c.FormValue("email"), Password: c.FormValue("password"),
		DisplayName: c.FormValue("display_name"), Locale: web.Lang(c)}
	_, t, err := h.svc.Register(c.UserContext(), in)
	if err != nil {
		return h.formFailed(c, "register", "auth.register_title", err,
			map[string]string{"email": in.Email, "display_name": in.DisplayName})
	}
	h.setCookies(c, t)
	h.srv.SetFlash(c, "auth.registered_plain")
	return c.Redirect("/", fiber.StatusSeeOther)
}

func (h *Handlers) logoutSubmit(c *fiber.Ctx) error {
	if err := h.svc.Logout(c.UserContext(), c.Cookies(RefreshCookie)); err != nil {
		return err
	}
	h.clearCookies(c)
	h.srv.SetFlash(c, "auth.logged_out")
	return c.Redirect("/", fiber.StatusSeeOther)
}

func (h *Handlers) accountPage(c *fiber.Ctx) error {
	u, err := h.svc.Get(c.UserContext(), web.CurrentUser(c).ID)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "account", &web.View{Title: "account.title", Data: accountView(u)})
}

func (h *Handlers) passwordSubmit(c *fiber.Ctx) error {
	id := web.CurrentUser(c).ID
	t, err := h.svc.ChangePassword(c.UserContext(), id, c.FormValue("current_password"), c.FormValue("new_password"))
	if err != nil {
		u, gerr := h.svc.Get(c.UserContext(), id)
		if gerr != nil {
			return gerr
		}
		fields, summary, ok := h.srv.FieldErrors(c, err)
		if !ok {
			return err
		}
		return h.srv.RenderView(c, fiber.StatusUnprocessableEntity, "account",
			&web.View{Title: "account.title", Data: accountView(u), Errors: fields, Error: summary})
	}
	h.setCookies(c, t)
	h.srv.SetFlash(c, "auth.password_changed")
	return c.Redirect("/account", fiber.StatusSeeOther)
}

func accountView(u *User) map[string]string {
	return map[string]string{"Name": u.DisplayName, "Email": u.Email, "Role": string(u.Role)}
}

// langSubmit switches the language: remembered in a cookie, and saved on the account
// of a member who is logged in so it follows them to other devices.
func (h *Handlers) langSubmit(c *fiber.Ctx) error {
	lang := c.FormValue("lang")
	if !i18n.IsSupported(lang) {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("lang", "field.locale_unknown")
	}
	h.srv.SetLangCookie(c, lang)
	if p := web.CurrentUser(c); p != nil {
		if _, err := h.svc.UpdateProfile(c.UserContext(), p.ID, ProfileChange{Locale: &lang}); err != nil {
			return err
		}
	}
	h.srv.SetFlash(c, "lang.changed")
	return c.Redirect(web.SafeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

package auth

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// session is the body of a successful register, log-in or refresh.
type session struct {
	*Tokens
	User *User `json:"user"`
}

func (h *Handlers) apiRegister(c *fiber.Ctx) error {
	var in NewAccount
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	u, t, err := h.svc.Register(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(session{Tokens: t, User: u})
}

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (h *Handlers) apiLogin(c *fiber.Ctx) error {
	var in loginBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	u, t, err := h.svc.Login(c.UserContext(), in.Email, in.Password, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(session{Tokens: t, User: u})
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

func (h *Handlers) apiRefresh(c *fiber.Ctx) error {
	var in refreshBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	u, t, err := h.svc.Refresh(c.UserContext(), in.RefreshToken)
	if err != nil {
		return err
	}
	return c.JSON(session{Tokens: t, User: u})
}

func (h *Handlers) apiLogout(c *fiber.Ctx) error {
	var in refreshBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if err := h.svc.Logout(c.UserContext(), in.RefreshToken); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handlers) apiMe(c *fiber.Ctx) error {
	u, err := h.svc.Get(c.UserContext(), web.CurrentUser(c).ID)
	if apperr.Is(err, apperr.NotFound) {
		// a valid token for an account that no longer exists
		return apperr.Wrap(apperr.Unauthenticated, "auth.err.token_invalid", err)
	}
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h *Handlers) apiUpdateMe(c *fiber.Ctx) error {
	var in ProfileChange
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	u, err := h.svc.UpdateProfile(c.UserContext(), web.CurrentUser(c).ID, in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type passwordBody struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (h *Handlers) apiChangePassword(c *fiber.Ctx) error {
	var in passwordBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	t, err := h.svc.ChangePassword(c.UserContext(), web.CurrentUser(c).ID, in.CurrentPassword, in.NewPassword)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

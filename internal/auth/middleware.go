package auth

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// Cookie names of a web session. Both are HttpOnly and SameSite=Lax, so scripts
// cannot read them and other sites cannot make the browser send them with a POST.
const (
	AccessCookie  = "hearth_access"
	RefreshCookie = "hearth_refresh"
)

// Middleware identifies the requester. The JSON API (/api/…) takes only
// `Authorization: Bearer`; a token that is present but invalid is refused with 401
// rather than treated as anonymous. Web pages take the session cookies and, when the
// access token has expired, rotate the refresh token transparently.
func (h *Handlers) Middleware(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Path(), "/api/") {
		authz := c.Get(fiber.HeaderAuthorization)
		if authz == "" {
			return c.Next()
		}
		raw, ok := strings.CutPrefix(authz, "Bearer ")
		if !ok {
			return apperr.New(apperr.Unauthenticated, "auth.err.token_invalid")
		}
		claims, id, err := h.svc.Signer.Parse(strings.TrimSpace(raw))
		if err != nil {
			return apperr.Wrap(apperr.Unauthenticated, "auth.err.token_invalid", err)
		}
		web.SetUser(c, principal(claims, id))
		return c.Next()
	}
	if raw := c.Cookies(AccessCookie); raw != "" {
		if claims, id, err := h.svc.Signer.Parse(raw); err == nil {
			web.SetUser(c, principal(claims, id))
			return c.Next()
		}
	}
	if rt := c.Cookies(RefreshCookie); rt != "" {
		u, t, err := h.svc.Refresh(c.UserContext(), rt)
		if err != nil {
			if !apperr.Is(err, apperr.Unauthenticated) {
				return err
			}
			h.clearCookies(c)
			return c.Next()
		}
		h.setCookies(c, t)
		web.SetUser(c, &web.Principal{ID: u.ID, Role: string(u.Role), PartnerID: pid(u.PartnerID), Name: u.DisplayName, Locale: u.Locale})
	}
	return c.Next()
}

func principal(c *Claims, id int64) *web.Principal {
	return &web.Principal{ID: id, Role: string(c.Role), PartnerID: c.PartnerID, Name: c.Name, Locale: c.Locale}
}

func pid(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (h *Handlers) setCookies(c *fiber.Ctx, t *Tokens) {
	c.Cookie(&fiber.Cookie{Name: AccessCookie, Value: t.AccessToken, Path: "/", Expires: t.ExpiresAt,
		HTTPOnly: true, Secure: h.secure, SameSite: fiber.CookieSameSiteLaxMode})
	c.Cookie(&fiber.Cookie{Name: RefreshCookie, Value: t.RefreshToken, Path: "/", Expires: time.Now().Add(h.svc.refreshTTL),
		HTTPOnly: true, Secure: h.secure, SameSite: fiber.CookieSameSiteLaxMode})
}

func (h *Handlers) clearCookies(c *fiber.Ctx) {
	for _, n := range []string{AccessCookie, RefreshCookie} {
		c.Cookie(&fiber.Cookie{Name: n, Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1,
			HTTPOnly: true, Secure: h.secure, SameSite: fiber.CookieSameSiteLaxMode})
	}
}

package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/i18n"
)

// Principal is who is making the request, as the authentication middleware found it.
type Principal struct {
	ID        int64
	Role      string
	PartnerID int64
	Name      string
	Locale    string
}

const principalLocal = "principal"

// SetUser records the authenticated principal for the rest of the request.
func SetUser(c *fiber.Ctx, p *Principal) { c.Locals(principalLocal, p) }

// CurrentUser is the authenticated principal, or nil for a visitor.
func CurrentUser(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(principalLocal).(*Principal)
	return p
}

// RequireUser refuses visitors with Unauthenticated.
func RequireUser(c *fiber.Ctx) error {
	if CurrentUser(c) == nil {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	return c.Next()
}

// RequireRole refuses visitors (Unauthenticated) and other roles (Forbidden).
func RequireRole(roles ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := CurrentUser(c)
		if p == nil {
			return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
		}
		for _, r := range roles {
			if p.Role == r {
				return c.Next()
			}
		}
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
}

// LangCookie holds a visitor's language choice.
const LangCookie = "hearth_lang"

const langLocal = "lang"

// language picks the request's language: the lang cookie, the member's saved choice,
// then Accept-Language.
func (s *Server) language(c *fiber.Ctx) error {
	// The cookie is this browser's latest explicit choice (the switch also saves it on
	// the account); the account's saved language follows the member to new devices.
	choices := []string{c.Cookies(LangCookie)}
	if p := CurrentUser(c); p != nil {
		choices = append(choices, p.Locale)
	}
	lang := s.opt.I18n.Match(choices, c.Get(fiber.HeaderAcceptLanguage))
	c.Locals(langLocal, lang)
	c.Set(fiber.HeaderContentLanguage, lang)
	return c.Next()
}

// Lang is the request's language tag.
func Lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(langLocal).(string); ok {
		return l
	}
	return i18n.Supported[0].Tag
}

// SetLangCookie remembers a visitor's language choice for a year.
func (s *Server) SetLangCookie(c *fiber.Ctx, lang string) {
	c.Cookie(&fiber.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HTTPOnly: true, Secure: s.opt.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode})
}

// CSRFCookie and CSRFField carry the double-submit token of web forms.
const (
	CSRFCookie = "hearth_csrf"
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
	csrfLocal  = "csrf"
)

// csrf protects every state-changing web request with a double-submit token: an
// HttpOnly SameSite cookie that each form echoes in a hidden field. The JSON API is
// exempt because it authenticates with a Bearer header, which a browser never sends
// on its own, and ignores cookies.
func (s *Server) csrf(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Path(), "/api/") {
		return c.Next() // Bearer-only: no cookie to protect, no token to hand out
	}
	token := c.Cookies(CSRFCookie)
	if len(token) < 32 {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token = base64.RawURLEncoding.EncodeToString(b)
		c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: token, Path: "/", Expires: time.Now().Add(365 * 24 * time.Hour),
			HTTPOnly: true, Secure: s.opt.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode})
	}
	c.Locals(csrfLocal, token)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	sent := c.FormValue(CSRFField)
	if sent == "" {
		sent = c.Get(CSRFHeader)
	}
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(c.Cookies(CSRFCookie))) != 1 {
		return apperr.New(apperr.Forbidden, "error.csrf")
	}
	return c.Next()
}

const flashCookie = "hearth_flash"

// SetFlash shows a translated message (by id) on the next page the browser loads, so
// that a redirect after a form post can still say what happened.
func (s *Server) SetFlash(c *fiber.Ctx, messageID string) {
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: messageID, Path: "/", MaxAge: 60,
		HTTPOnly: true, Secure: s.opt.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode})
}

// takeFlash reads and clears the flash cookie; only ids with a translation are shown.
func (s *Server) takeFlash(c *fiber.Ctx, v *View) {
	id := c.Cookies(flashCookie)
	if id == "" {
		return
	}
	c.ClearCookie(flashCookie)
	if msg := v.L.T(id); msg != id {
		v.Flash = msg
	}
}

// Package auth holds accounts and sessions: registration, log-in, JWT access tokens,
// rotating refresh tokens, password changes, the login rate limit, and the middleware
// that tells every handler who is asking.
package auth

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/i18n"
)

// Role is what an account may do; see DESIGN.md "Who uses it".
type Role string

// The roles.
const (
	RoleMember    Role = "member"
	RolePartner   Role = "partner"
	RoleModerator Role = "moderator"
	RoleMarketer  Role = "marketer"
	RoleAdmin     Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleMember, RolePartner, RoleModerator, RoleMarketer, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// IsStaff is true for the brand's own staff roles.
func (r Role) IsStaff() bool { return r == RoleModerator || r == RoleMarketer || r == RoleAdmin }

// User is an account.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"-"`
	DisplayName  string    `json:"display_name"`
	Handle       string    `json:"handle"`
	Role         Role      `json:"role"`
	PartnerID    *int64    `json:"partner_id,omitempty"`
	Locale       string    `json:"locale"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"-"`
}

// MinPassword and MaxPassword bound passwords; bcrypt reads at most 72 bytes.
const (
	MinPassword = 10
	MaxPassword = 72
)

// NewAccount is what registration (and `hearth user create`) asks for.
type NewAccount struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Locale      string `json:"locale"`
	Role        Role   `json:"-"`
	PartnerID   *int64 `json:"-"`
}

// Normalize trims the input and lower-cases the e-mail.
func (a *NewAccount) Normalize() {
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	a.Locale = strings.TrimSpace(a.Locale)
	if c, ok := i18n.Canonical(a.Locale); ok {
		a.Locale = c
	}
	if a.Role == "" {
		a.Role = RoleMember
	}
}

// Validate returns field-level problems.
func (a *NewAccount) Validate() error {
	f := apperr.Fields{}
	validateEmail(f, "email", a.Email)
	validatePassword(f, "password", a.Password)
	if a.DisplayName == "" {
		f.Add("display_name", "field.required")
	} else if n := utf8.RuneCountInString(a.DisplayName); n < 2 || n > 40 {
		f.Add("display_name", "field.name_length")
	}
	if a.Locale != "" && !i18n.IsSupported(a.Locale) {
		f.Add("locale", "field.locale_unknown")
	}
	if !a.Role.Valid() {
		f.Add("role", "field.role_unknown")
	} else if a.Role == RolePartner && a.PartnerID == nil {
		f.Add("partner", "field.partner_required")
	} else if a.Role != RolePartner && a.PartnerID != nil {
		f.Add("partner", "field.partner_forbidden")
	}
	return f.Err()
}

func validateEmail(f apperr.Fields, field, email string) {
	if email == "" {
		f.Add(field, "field.required")
		return
	}
	if len(email) > 254 {
		f.Add(field, "field.too_long")
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		f.Add(field, "field.email_invalid")
	}
}

func validatePassword(f apperr.Fields, field, pw string) {
	switch {
	case pw == "":
		f.Add(field, "field.required")
	case utf8.RuneCountInString(pw) < MinPassword:
		f.Add(field, "field.password_short")
	case len(pw) > MaxPassword:
		f.Add(field, "field.password_long")
	}
}

func isLocale(tag string) bool { return i18n.IsSupported(tag) }

// HandleFrom derives a member's @handle from their e-mail: the local part, lower-cased,
// letters, digits and underscores only, 3 to 20 characters.
func HandleFrom(email string) string {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	var b strings.Builder
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == '.' || r == '-' || r == '+':
			b.WriteRune('_')
		}
		if b.Len() >= 20 {
			break
		}
	}
	h := strings.Trim(b.String(), "_")
	if len(h) < 3 {
		h = "member" + h
	}
	return h
}

// Package demo seeds a small demo community: categories, members with English and
// Chinese names, one partner company, and one account per staff role. Seeding is
// idempotent: what exists is left alone.
package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/partners"
)

// Password is every demo account's password; printed at first start. Never use the
// demo seed on a public site (HEARTH_DEMO defaults to off with DATABASE_URL).
const Password = "hearth-demo-2026"

// Login is one demo account.
type Login struct {
	Email, Name string
	Role        auth.Role
}

var categories = []forum.Category{
	{Slug: "announcements", Name: "Announcements", NameZh: "公告", Position: 1,
		Description: "News from the brand: new products, upgrades and events.",
		ReadRoles:   []string{forum.Everyone}, PostRoles: []string{"moderator", "marketer", "admin"}},
	{Slug: "questions", Name: "Questions & Answers", NameZh: "问答", Position: 2,
		Description: "Ask how to get the most out of your product; the community and our staff answer.",
		ReadRoles:   []string{forum.Everyone}, PostRoles: []string{"member", "partner", "moderator", "marketer", "admin"}},
	{Slug: "ideas", Name: "Product Ideas", NameZh: "产品建议", Position: 3,
		Description: "Suggest improvements and vote on what we build next.",
		ReadRoles:   []string{forum.Everyone}, PostRoles: []string{"member", "partner", "moderator", "marketer", "admin"}},
	{Slug: "offers", Name: "Offers & Partners", NameZh: "优惠与合作伙伴", Position: 4,
		Description: "Promotions from the brand and its partner companies.",
		ReadRoles:   []string{forum.Everyone}, PostRoles: []string{"partner", "marketer", "admin"}},
	{Slug: "staff", Name: "Staff Room", NameZh: "员工室", Position: 5,
		Description: "Moderators, marketers and admins coordinate here.",
		ReadRoles:   []string{"moderator", "marketer", "admin"}, PostRoles: []string{"moderator", "marketer", "admin"}},
}

// Logins lists the demo accounts.
var Logins = []Login{
	{"admin@demo.hearth.local", "Ada Admin", auth.RoleAdmin},
	{"moderator@demo.hearth.local", "Mo Moderator", auth.RoleModerator},
	{"marketer@demo.hearth.local", "Mia Marketer", auth.RoleMarketer},
	{"partner@demo.hearth.local", "Pat Partner", auth.RolePartner},
	{"alice@demo.hearth.local", "Alice Chen", auth.RoleMember},
	{"bob@demo.hearth.local", "Bob Smith", auth.RoleMember},
	{"wang@demo.hearth.local", "王小明", auth.RoleMember},
	{"li@demo.hearth.local", "李娜", auth.RoleMember},
}

// Seed creates whatever of the demo community is missing and writes the logins to w.
func Seed(ctx context.Context, authSvc *auth.Service, fs *forum.Store, ps *partners.Store, w io.Writer) error {
	for i := range categories {
		if err := fs.EnsureCategory(ctx, &categories[i]); err != nil {
			return fmt.Errorf("seed category %s: %w", categories[i].Slug, err)
		}
	}
	company, err := ps.EnsureCompany(ctx, &partners.Company{Slug: "northwind", Name: "Northwind Outfitters", Website: "https://northwind.example"})
	if err != nil {
		return fmt.Errorf("seed partner: %w", err)
	}
	for _, l := range Logins {
		in := auth.NewAccount{Email: l.Email, Password: Password, DisplayName: l.Name, Role: l.Role}
		if l.Role == auth.RolePartner {
			in.PartnerID = &company.ID
		}
		if l.Name == "王小明" || l.Name == "李娜" {
			in.Locale = "zh-Hans"
		}
		if _, err := authSvc.CreateUser(ctx, in); err != nil && !apperr.Is(err, apperr.Conflict) {
			return fmt.Errorf("seed user %s: %w", l.Email, err)
		}
	}
	fmt.Fprintf(w, "Demo community ready. Log in with any of these (password %q):\n", Password)
	for _, l := range Logins {
		fmt.Fprintf(w, "  %-10s %s\n", l.Role, l.Email)
	}
	return nil
}

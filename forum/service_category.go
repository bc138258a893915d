package forum

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// CategoryInput creates or changes a category (admins only).
type CategoryInput struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	NameZh      string   `json:"name_zh"`
	Description string   `json:"description"`
	Position    int      `json:"position"`
	ReadRoles   []string `json:"read_roles"`
	PostRoles   []string `json:"post_roles"`
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)

var roleNames = map[string]bool{"member": true, "partner": true, "moderator": true, "marketer": true, "admin": true}

func (in *CategoryInput) validate() error {
	f := apperr.Fields{}
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Name = strings.TrimSpace(in.Name)
	if !slugRe.MatchString(in.Slug) {
		f.Add("slug", "forum.err.slug")
	}
	if n := utf8.RuneCountInString(in.Name); n < 2 || n > 60 {
		f.Add("name", "field.name_length")
	}
	if utf8.RuneCountInString(in.Description) > 500 {
		f.Add("description", "field.too_long")
	}
	for _, r := range in.ReadRoles {
		if r != Everyone && !roleNames[r] {
			f.Add("read_roles", "field.role_unknown")
		}
	}
	for _, r := range in.PostRoles {
		if !roleNames[r] {
			f.Add("post_roles", "field.role_unknown")
		}
	}
	return f.Err()
}

func requireAdmin(a Actor) error {
	if !a.Member() {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if a.Role != "admin" {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

// CreateCategory adds a category; its slug must be new.
func (s *Service) CreateCategory(ctx context.Context, a Actor, in CategoryInput) (*Category, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	if in.ReadRoles == nil {
		in.ReadRoles = []string{Everyone}
	}
	if in.PostRoles == nil {
		in.PostRoles = []string{"member", "partner", "moderator", "marketer", "admin"}
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	c := &Category{Slug: in.Slug, Name: in.Name, NameZh: in.NameZh, Description: in.Description,
		Position: in.Position, ReadRoles: in.ReadRoles, PostRoles: in.PostRoles}
	err := db.Conn(ctx, s.db).Select("Slug", "Name", "NameZh", "Description", "Position", "ReadRoles", "PostRoles").Create(c).Error
	s.store.invalidateCategories()
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, apperr.New(apperr.Conflict, "error.conflict").WithField("slug", "forum.err.slug_taken")
	}
	return c, err
}

// UpdateCategory changes a category's names, description, order and roles; fields
// left out of the request (empty strings, absent role lists) keep their values, so a
// rename can never open a private category by accident.
func (s *Service) UpdateCategory(ctx context.Context, a Actor, id int64, in CategoryInput) (*Category, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	cur, err := s.store.category(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if strings.TrimSpace(in.Slug) == "" {
		in.Slug = cur.Slug
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = cur.Name
	}
	if in.NameZh == "" {
		in.NameZh = cur.NameZh
	}
	if in.Description == "" {
		in.Description = cur.Description
	}
	if in.ReadRoles == nil {
		in.ReadRoles = cur.ReadRoles
	}
	if in.PostRoles == nil {
		in.PostRoles = cur.PostRoles
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	res := db.Conn(ctx, s.db).Model(&Category{}).Where("id = ?", id).Updates(map[string]any{
		"slug": in.Slug, "name": in.Name, "name_zh": in.NameZh, "description": in.Description,
		"position": in.Position, "read_roles": pqArray(in.ReadRoles), "post_roles": pqArray(in.PostRoles), "updated_at": s.now()})
	s.store.invalidateCategories()
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return nil, apperr.New(apperr.Conflict, "error.conflict").WithField("slug", "forum.err.slug_taken")
	}
	if res.Error != nil {
		return nil, res.Error
	}
	c, err := s.store.category(ctx, id)
	return c, notFound(err)
}

// CategoryBySlug finds a readable category.
func (s *Service) CategoryBySlug(ctx context.Context, a Actor, slug string) (*Category, error) {
	c, err := s.store.categoryBySlug(ctx, slug)
	if err != nil {
		return nil, notFound(err)
	}
	if !c.CanRead(a.Role) {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	return c, nil
}

package forum

import (
	"context"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// Store is the forum's only door to SQL.
type Store struct{ db *gorm.DB }

// NewStore returns the forum store on gdb.
func NewStore(gdb *gorm.DB) *Store { return &Store{db: gdb} }

// Categories lists every category in display order.
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	var cs []Category
	err := db.Conn(ctx, s.db).Order("position, id").Find(&cs).Error
	return cs, err
}

// EnsureCategory inserts c unless a category with its slug exists (idempotent seeding).
func (s *Store) EnsureCategory(ctx context.Context, c *Category) error {
	return db.Conn(ctx, s.db).Exec(
		`INSERT INTO forum_categories (slug, name, name_zh, description, position, read_roles, post_roles)
		 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
		c.Slug, c.Name, c.NameZh, c.Description, c.Position, c.ReadRoles, c.PostRoles).Error
}

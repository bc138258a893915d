// Package forum is the community itself: categories, threads, questions and answers,
// replies, reactions, tags and moderation. It owns the forum_* tables.
package forum

import (
	"slices"
	"time"

	"github.com/lib/pq"
)

// Everyone in a category's read roles includes visitors who are not logged in.
const Everyone = "everyone"

// Category groups threads and says who may read it and who may start threads in it.
type Category struct {
	ID          int64          `json:"id"`
	Slug        string         `json:"slug"`
	Name        string         `json:"name"`
	NameZh      string         `json:"name_zh,omitempty"`
	Description string         `json:"description"`
	Position    int            `json:"position"`
	ReadRoles   pq.StringArray `json:"read_roles" gorm:"type:text[]"`
	PostRoles   pq.StringArray `json:"post_roles" gorm:"type:text[]"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"-"`
}

// TableName keeps GORM on the forum-owned table.
func (Category) TableName() string { return "forum_categories" }

// CanRead reports whether role (empty for a visitor) may read the category.
func (c *Category) CanRead(role string) bool {
	if slices.Contains(c.ReadRoles, Everyone) {
		return true
	}
	return role != "" && (role == "admin" || slices.Contains(c.ReadRoles, role))
}

// CanPost reports whether role may start threads in the category.
func (c *Category) CanPost(role string) bool {
	return role != "" && (role == "admin" || slices.Contains(c.PostRoles, role))
}

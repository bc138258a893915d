// Package partners is the partner portal: partner companies, their storefronts, offers,
// code pools, claims, redemptions and aggregated insights. It owns the partner_* tables.
package partners

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// Company is a partner company; partner staff accounts belong to exactly one.
type Company struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Website   string    `json:"website"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"-"`
}

// TableName keeps GORM on the partners-owned table.
func (Company) TableName() string { return "partner_companies" }

// Store is the partners package's door to SQL.
type Store struct{ db *gorm.DB }

// NewStore returns the partners store on gdb.
func NewStore(gdb *gorm.DB) *Store { return &Store{db: gdb} }

// EnsureCompany returns the company with slug, creating it from c when missing
// (idempotent, for seeding and `hearth user create --partner`).
func (s *Store) EnsureCompany(ctx context.Context, c *Company) (*Company, error) {
	var out Company
	err := db.Conn(ctx, s.db).Raw(
		`INSERT INTO partner_companies (slug, name, website) VALUES (?, ?, ?)
		 ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
		 RETURNING id, slug, name, website, created_at, updated_at`,
		c.Slug, c.Name, c.Website).Scan(&out).Error
	return &out, err
}

// BySlug finds a company by slug; ok is false when there is none.
func (s *Store) BySlug(ctx context.Context, slug string) (*Company, bool, error) {
	var out Company
	res := db.Conn(ctx, s.db).Where("slug = ?", slug).Limit(1).Find(&out)
	return &out, res.RowsAffected == 1, res.Error
}

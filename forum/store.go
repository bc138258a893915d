package forum

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// Store is the forum's only door to SQL.
type Store struct {
	db *gorm.DB
	// cats caches the few categories every page needs; a change made here clears it
	// at once, one made by another instance shows after at most catTTL.
	catMu  sync.Mutex
	cats   []Category
	catsAt time.Time
	// catEpoch counts invalidations: a read that began before one is not kept.
	catEpoch uint64
	// reps are the authors' reputations thread pages show (reputation.go).
	reps *repCache
}

const catTTL = 5 * time.Second

// NewStore returns the forum store on gdb.
func NewStore(gdb *gorm.DB) *Store { return &Store{db: gdb, reps: newRepCache()} }

// Categories lists every category in display order (cached outside transactions).
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	var epoch uint64
	if !db.InTransaction(ctx) {
		s.catMu.Lock()
		if s.cats != nil && time.Since(s.catsAt) < catTTL {
			out := append([]Category(nil), s.cats...)
			s.catMu.Unlock()
			return out, nil
		}
		epoch = s.catEpoch
		s.catMu.Unlock()
	}
	var cs []Category
	if err := db.Conn(ctx, s.db).Order("position, id").Find(&cs).Error; err != nil {
		return nil, err
	}
	if !db.InTransaction(ctx) {
		s.catMu.Lock()
		if s.catEpoch == epoch {
			s.cats, s.catsAt = append([]Category(nil), cs...), time.Now()
		}
		s.catMu.Unlock()
	}
	return cs, nil
}

// invalidateCategories drops the cache after a change.
func (s *Store) invalidateCategories() {
	s.catMu.Lock()
	s.cats = nil
	s.catEpoch++
	s.catMu.Unlock()
}

// EnsureCategory inserts c unless a category with its slug exists (idempotent seeding).
func (s *Store) EnsureCategory(ctx context.Context, c *Category) error {
	defer s.invalidateCategories()
	return db.Conn(ctx, s.db).Exec(
		`INSERT INTO forum_categories (slug, name, name_zh, description, position, read_roles, post_roles)
		 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
		c.Slug, c.Name, c.NameZh, c.Description, c.Position, c.ReadRoles, c.PostRoles).Error
}

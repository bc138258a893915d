package forum

import (
	"context"
	"fmt"
)

// Service holds the forum's use cases.
type Service struct{ store *Store }

// NewService returns the forum service.
func NewService(store *Store) *Service { return &Service{store: store} }

// VisibleCategories lists the categories role may read (role "" is a visitor).
func (s *Service) VisibleCategories(ctx context.Context, role string) ([]Category, error) {
	all, err := s.store.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	out := all[:0]
	for _, c := range all {
		if c.CanRead(role) {
			out = append(out, c)
		}
	}
	return out, nil
}

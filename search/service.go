package search

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// categoryTTL bounds how stale the category rules behind a query may be. Reading
// them costs a query; a narrowed category is hidden from search within this time.
const categoryTTL = 2 * time.Second

// Service answers searches for the web layer and manages synonyms.
type Service struct {
	db      *gorm.DB
	st      *store
	forum   *forumStore
	backend Backend

	mu      sync.Mutex
	cats    []categoryRow
	catsAt  time.Time
	catsTTL time.Duration
}

// NewService returns the search service over backend.
func NewService(gdb *gorm.DB, backend Backend) *Service {
	return &Service{db: gdb, st: &store{db: gdb}, forum: &forumStore{db: gdb}, backend: backend, catsTTL: categoryTTL}
}

// Engine names the backend ("meilisearch" or "postgres").
func (s *Service) Engine() string { return s.backend.Name() }

// Category is a category as search shows it (facet labels, the filter list).
type Category struct {
	ID    int64
	Slug  string
	Label string
}

func (s *Service) categories(ctx context.Context) ([]categoryRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cats != nil && time.Since(s.catsAt) < s.catsTTL {
		return s.cats, nil
	}
	cs, err := s.forum.categories(ctx)
	if err != nil {
		return nil, err
	}
	s.cats, s.catsAt = cs, time.Now()
	return cs, nil
}

// canRead is the forum's CanRead: 'everyone' categories for all, admins everywhere,
// otherwise the asker's role must be listed.
func canRead(readRoles []string, role string) bool {
	if slices.Contains(readRoles, Everyone) {
		return true
	}
	return role != "" && (role == "admin" || slices.Contains(readRoles, role))
}

// viewer builds the visibility of role from the current category rules.
func (s *Service) viewer(ctx context.Context, role string) (Viewer, []categoryRow, error) {
	cs, err := s.categories(ctx)
	if err != nil {
		return Viewer{}, nil, err
	}
	v := Viewer{Role: role}
	var readable []categoryRow
	for _, c := range cs {
		if canRead(c.ReadRoles, role) {
			readable = append(readable, c)
		} else {
			v.DeniedCategories = append(v.DeniedCategories, c.ID)
		}
	}
	return v, readable, nil
}

// ReadableCategories lists the categories role may filter on, labelled in lang.
func (s *Service) ReadableCategories(ctx context.Context, role, lang string) ([]Category, error) {
	_, cs, err := s.viewer(ctx, role)
	if err != nil {
		return nil, err
	}
	out := make([]Category, len(cs))
	for i, c := range cs {
		out[i] = Category{ID: c.ID, Slug: c.Slug, Label: label(c, lang)}
	}
	return out, nil
}

func label(c categoryRow, lang string) string {
	if lang == "zh-Hans" && c.NameZh != "" {
		return c.NameZh
	}
	return c.Name
}

// CategoryID resolves a category slug among those role may read; unknown and
// unreadable slugs are the same Invalid error.
func (s *Service) CategoryID(ctx context.Context, role, slug string) (int64, error) {
	_, cs, err := s.viewer(ctx, role)
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if c.Slug == slug {
			return c.ID, nil
		}
	}
	return 0, apperr.New(apperr.Invalid, "error.invalid").WithField("category", "search.err.category")
}

// Search answers q for role, labelling category facets in lang.
func (s *Service) Search(ctx context.Context, role, lang string, q Query) (*Results, error) {
	q.mode = modeFull
	if err := q.Normalize(); err != nil {
		return nil, err
	}
	res, err := s.run(ctx, role, &q)
	if err != nil {
		return nil, err
	}
	_, cs, err := s.viewer(ctx, role)
	if err != nil {
		return nil, err
	}
	for i, f := range res.Facets.Category {
		for _, c := range cs {
			if strconv.FormatInt(c.ID, 10) == f.Value {
				res.Facets.Category[i].Label = label(c, lang)
			}
		}
	}
	return res, nil
}

// Suggest returns thread titles matching the start of what is being typed.
func (s *Service) Suggest(ctx context.Context, role, text string) (*Results, error) {
	q := Query{Text: text, mode: modeSuggest}
	if err := q.Normalize(); err != nil || q.Text == "" {
		return &Results{Hits: []Hit{}, Engine: s.backend.Name(), Degraded: s.backend.Name() != "meilisearch"}, err
	}
	return s.run(ctx, role, &q)
}

// Similar returns up to SimilarLimit threads like title, solved questions first:
// what a member composing a new thread should read before posting it.
func (s *Service) Similar(ctx context.Context, role, title string) (*Results, error) {
	q := Query{Text: title, mode: modeSimilar}
	if err := q.Normalize(); err != nil || q.Text == "" {
		return &Results{Hits: []Hit{}, Engine: s.backend.Name(), Degraded: s.backend.Name() != "meilisearch"}, err
	}
	return s.run(ctx, role, &q)
}

func (s *Service) run(ctx context.Context, role string, q *Query) (*Results, error) {
	v, _, err := s.viewer(ctx, role)
	if err != nil {
		return nil, err
	}
	res, err := s.backend.Search(ctx, q, v)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "search.err.unavailable", err)
	}
	return res, nil
}

// ReindexMember re-indexes everything member wrote, in the caller's transaction: a
// privacy eraser, so that an erased member's name and handle leave the index with
// the account (the posts stay, as the forum keeps them, under "former member").
func (s *Service) ReindexMember(ctx context.Context, member int64) error {
	var refs []struct {
		Topic string
		ID    int64
	}
	err := db.Conn(ctx, s.db).Raw(`SELECT 'thread' AS topic, id FROM forum_threads WHERE author_id = ?
		UNION ALL SELECT 'post', id FROM forum_posts WHERE author_id = ? AND number > 1`, member, member).Scan(&refs).Error
	if err != nil {
		return fmt.Errorf("search: posts of member %d: %w", member, err)
	}
	for _, r := range refs {
		topic, field := TopicThread, "thread_id"
		if r.Topic == "post" {
			topic, field = TopicPost, "post_id"
		}
		if err := Enqueue(ctx, s.db, topic, field, r.ID); err != nil {
			return err
		}
	}
	return nil
}

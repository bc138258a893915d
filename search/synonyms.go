package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// SynonymGroup is a set of terms that find each other ("crm", "客户关系管理",
// "customer relationship management"). Staff edit groups; Meilisearch receives them
// as a synonym map in which every term lists the others.
type SynonymGroup struct {
	ID        int64     `json:"id"`
	Terms     []string  `json:"terms"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits of a synonym group.
const (
	MinSynonymTerms = 2
	MaxSynonymTerms = 20
	MaxSynonymRunes = 60
)

// normalizeTerms lower-cases, trims and de-duplicates terms and checks the limits.
func normalizeTerms(in []string) ([]string, error) {
	var out []string
	for _, t := range in {
		t = strings.ToLower(strings.Join(strings.Fields(stripMarks(t)), " "))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if utf8.RuneCountInString(t) > MaxSynonymRunes {
			return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("terms", "search.err.term_long")
		}
		out = append(out, t)
	}
	if len(out) < MinSynonymTerms || len(out) > MaxSynonymTerms {
		return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("terms", "search.err.terms_count")
	}
	return out, nil
}

// SplitTerms reads a comma- or newline-separated list of terms (the admin form).
func SplitTerms(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '，' || r == '、' })
}

type synonymRow struct {
	ID        int64
	Terms     pq.StringArray `gorm:"type:text[]"`
	UpdatedAt time.Time
}

func (s *store) synonymGroups(ctx context.Context) ([]SynonymGroup, error) {
	var rows []synonymRow
	if err := db.Conn(ctx, s.db).Raw(`SELECT id, terms, updated_at FROM search_synonyms ORDER BY id`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search: synonyms: %w", err)
	}
	out := make([]SynonymGroup, len(rows))
	for i, r := range rows {
		out[i] = SynonymGroup{ID: r.ID, Terms: []string(r.Terms), UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// synonymMap is the Meilisearch form of the groups: each term → every other term of
// every group it is in.
func (s *store) synonymMap(ctx context.Context) (map[string][]string, error) {
	groups, err := s.synonymGroups(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string][]string{}
	for _, g := range groups {
		for _, t := range g.Terms {
			for _, o := range g.Terms {
				if o != t && !slices.Contains(m[t], o) {
					m[t] = append(m[t], o)
				}
			}
		}
	}
	return m, nil
}

func requireStaff(role string) error {
	switch role {
	case "":
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	case "admin", "moderator", "marketer":
		return nil
	}
	return apperr.New(apperr.Forbidden, "error.forbidden")
}

// Synonyms lists the synonym groups (staff only).
func (s *Service) Synonyms(ctx context.Context, role string) ([]SynonymGroup, error) {
	if err := requireStaff(role); err != nil {
		return nil, err
	}
	return s.st.synonymGroups(ctx)
}

// SaveSynonyms creates (id 0) or replaces a group, and in the same transaction asks
// the workers to push the settings: a Meilisearch outage delays, never loses, it.
func (s *Service) SaveSynonyms(ctx context.Context, role string, by, id int64, terms []string) (*SynonymGroup, error) {
	if err := requireStaff(role); err != nil {
		return nil, err
	}
	terms, err := normalizeTerms(terms)
	if err != nil {
		return nil, err
	}
	var row synonymRow
	err = db.InTx(ctx, s.db, func(ctx context.Context) error {
		q := `INSERT INTO search_synonyms (terms, updated_by) VALUES (?, ?) RETURNING id, terms, updated_at`
		args := []any{pq.StringArray(terms), by}
		if id != 0 {
			q = `UPDATE search_synonyms SET terms = ?, updated_by = ?, updated_at = now() WHERE id = ? RETURNING id, terms, updated_at`
			args = append(args, id)
		}
		res := db.Conn(ctx, s.db).Raw(q, args...).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("search: save synonyms: %w", res.Error)
		}
		if row.ID == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return outbox.Enqueue(ctx, s.db, TopicSettings, nil)
	})
	if err != nil {
		return nil, err
	}
	return &SynonymGroup{ID: row.ID, Terms: []string(row.Terms), UpdatedAt: row.UpdatedAt}, nil
}

// DeleteSynonyms removes a group and asks the workers to push the settings.
func (s *Service) DeleteSynonyms(ctx context.Context, role string, id int64) error {
	if err := requireStaff(role); err != nil {
		return err
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		res := db.Conn(ctx, s.db).Exec(`DELETE FROM search_synonyms WHERE id = ?`, id)
		if res.Error != nil {
			return fmt.Errorf("search: delete synonyms: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return outbox.Enqueue(ctx, s.db, TopicSettings, nil)
	})
}

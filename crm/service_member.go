package crm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// Actor is who asks: marketers and admins read any member; members only themselves.
type Actor struct {
	ID   int64
	Role string
}

// ReadsCRM reports whether a may read other members' CRM data.
func (a Actor) ReadsCRM() bool { return a.Role == "marketer" || a.Role == "admin" }

// Identity is the account side of a member.
type Identity struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Handle      string    `json:"handle"`
	Role        string    `json:"role"`
	Locale      string    `json:"locale"`
	CreatedAt   time.Time `json:"created_at"`
}

// StageChange is one entry of the lifecycle history.
type StageChange struct {
	FromStage string    `json:"from_stage"`
	ToStage   string    `json:"to_stage"`
	Reason    string    `json:"reason"`
	ChangedAt time.Time `json:"changed_at"`
}

// TimelineEvent is one event on a member's timeline.
type TimelineEvent struct {
	Kind        string    `json:"kind"`
	SubjectType string    `json:"subject_type"`
	SubjectID   int64     `json:"subject_id"`
	Weight      float64   `json:"weight"`
	Value       float64   `json:"value"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// Note is a staff note on a member.
type Note struct {
	ID         int64     `json:"id"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// Member360 is everything the CRM knows about one member, with the reasons.
type Member360 struct {
	Identity    Identity        `json:"identity"`
	Profile     *Profile        `json:"profile"`
	Explanation Explanation     `json:"explanation"`
	History     []StageChange   `json:"lifecycle_history"`
	Timeline    []TimelineEvent `json:"timeline"`
	Notes       []Note          `json:"notes,omitempty"`
}

// Member returns a member's 360° view. Marketers and admins see anyone (with staff
// notes); a member sees only themselves (without notes).
func (s *Service) Member(ctx context.Context, a Actor, member int64) (*Member360, error) {
	if a.ID == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if a.ID != member && !a.ReadsCRM() {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	conn := db.Conn(ctx, s.db)
	m := &Member360{Profile: &Profile{}}
	res := conn.Raw(`SELECT id, email, display_name, handle, role, locale, created_at FROM users WHERE id = ?`, member).Scan(&m.Identity)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	res = conn.Raw(`SELECT * FROM crm_profiles WHERE member_id = ?`, member).Scan(m.Profile)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 || m.Profile.Erased {
		if m.Profile.Erased && a.ID != member {
			return nil, apperr.New(apperr.NotFound, "error.not_found")
		}
		m.Profile = &Profile{MemberID: member, Stage: StageExploration, ConsentInapp: true}
	}
	m.Profile.EngagementNow = m.Profile.engagementAt(s.now(), s.params.HalfLife)
	if len(m.Profile.Factors) > 0 {
		_ = json.Unmarshal(m.Profile.Factors, &m.Explanation)
	}
	if err := conn.Raw(`SELECT from_stage, to_stage, reason, changed_at FROM crm_stage_history WHERE member_id = ? ORDER BY changed_at DESC LIMIT 50`, member).
		Scan(&m.History).Error; err != nil {
		return nil, err
	}
	if err := conn.Raw(`SELECT kind, subject_type, subject_id, weight, value, occurred_at FROM crm_events WHERE member_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 100`, member).
		Scan(&m.Timeline).Error; err != nil {
		return nil, err
	}
	if a.ReadsCRM() {
		if err := conn.Raw(`SELECT n.id, n.author_id, u.display_name AS author_name, n.body, n.created_at
		                      FROM crm_notes n JOIN users u ON u.id = n.author_id WHERE n.member_id = ? ORDER BY n.created_at DESC`, member).
			Scan(&m.Notes).Error; err != nil {
			return nil, err
		}
	}
	return m, nil
}

// AddNote records a staff note on a member (marketers and admins).
func (s *Service) AddNote(ctx context.Context, a Actor, member int64, body string) (*Note, error) {
	if !a.ReadsCRM() {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("body", "field.required")
	}
	if utf8.RuneCountInString(body) > 4000 {
		return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("body", "field.too_long")
	}
	n := &Note{AuthorID: a.ID, Body: body}
	err := db.Conn(ctx, s.db).Raw(`INSERT INTO crm_notes (member_id, author_id, body) SELECT id, ?, ? FROM users WHERE id = ? RETURNING id, created_at`,
		a.ID, body, member).Row().Scan(&n.ID, &n.CreatedAt)
	if err != nil {
		return nil, apperr.Wrap(apperr.NotFound, "error.not_found", err)
	}
	return n, nil
}

// Consent is a member's marketing consent per channel.
type Consent struct {
	Email *bool `json:"email"`
	InApp *bool `json:"in_app"`
}

// SetConsent switches a member's own marketing consent per channel.
func (s *Service) SetConsent(ctx context.Context, a Actor, c Consent) (*Profile, error) {
	if a.ID == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := db.Conn(ctx, s.db)
		if err := conn.Exec(`INSERT INTO crm_profiles (member_id) VALUES (?) ON CONFLICT DO NOTHING`, a.ID).Error; err != nil {
			return err
		}
		cols := map[string]any{"updated_at": s.now()}
		if c.Email != nil {
			cols["consent_email"] = *c.Email
		}
		if c.InApp != nil {
			cols["consent_inapp"] = *c.InApp
		}
		return conn.Table("crm_profiles").Where("member_id = ?", a.ID).Updates(cols).Error
	})
	if err != nil {
		return nil, err
	}
	m, err := s.Member(ctx, a, a.ID)
	if err != nil {
		return nil, err
	}
	return m.Profile, nil
}

// ErrErased is returned for work on an erased member.
var ErrErased = errors.New("crm: member erased")

// AnswerNPS records a member's answer to the NPS survey (0–10) as an event; the
// profile's NPS is the latest answer.
func (s *Service) AnswerNPS(ctx context.Context, a Actor, score int) error {
	if a.ID == 0 {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if score < 0 || score > 10 {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("score", "crm.err.nps")
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		return Append(ctx, s.db, Event{MemberID: a.ID, Kind: KindNPSAnswered, SubjectType: "survey", Value: float64(score), OccurredAt: s.now()})
	})
}

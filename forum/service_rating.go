package forum

import (
	"context"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// RateAnswer records whether the accepted answer helped the member who asked ("did
// this answer help?"). One rating per asker per question; asking again changes it.
// The rating is an engagement event whose value (1 or 0) the CRM turns into CSAT.
func (s *Service) RateAnswer(ctx context.Context, a Actor, threadID int64, helpful bool) error {
	if !a.Member() {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		t, c, err := s.readableThread(ctx, a, threadID, false)
		if err != nil {
			return err
		}
		if t.AuthorID != a.ID {
			return apperr.New(apperr.Forbidden, "forum.err.rate_forbidden")
		}
		if t.AcceptedPostID == nil {
			return apperr.New(apperr.Invalid, "forum.err.not_solved").WithField("helpful", "forum.err.not_solved")
		}
		if err := db.Conn(ctx, s.db).Exec(
			`INSERT INTO forum_answer_ratings (thread_id, member_id, post_id, helpful) VALUES (?, ?, ?, ?)
			 ON CONFLICT (thread_id, member_id) DO UPDATE SET helpful = EXCLUDED.helpful, post_id = EXCLUDED.post_id, created_at = now()`,
			t.ID, a.ID, *t.AcceptedPostID, helpful).Error; err != nil {
			return err
		}
		v := 0.0
		if helpful {
			v = 1
		}
		e := crm.Event{MemberID: a.ID, Kind: crm.KindAnswerRated, SubjectType: "thread", SubjectID: t.ID, Value: v,
			OccurredAt: s.now(), Category: c.Slug, Tags: t.Tags}
		return crm.Append(ctx, s.db, e)
	})
}

// Rating returns the member's rating of a question's answer (nil when none).
func (s *Service) Rating(ctx context.Context, member, threadID int64) (*bool, error) {
	var rows []bool
	err := db.Conn(ctx, s.db).Raw(`SELECT helpful FROM forum_answer_ratings WHERE thread_id = ? AND member_id = ?`, threadID, member).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

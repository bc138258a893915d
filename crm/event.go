// Package crm owns the engagement events every other package appends and, built on
// them, the member profiles, scores, segments and campaigns of DESIGN.md.
package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// Kind names what a member did. Every kind that any package appends is listed in
// Weights, the one place its weight is set.
type Kind string

// The kinds of engagement event.
const (
	KindRegistered       Kind = "member.registered"
	KindLoggedIn         Kind = "member.logged_in"
	KindThreadCreated    Kind = "forum.thread_created"
	KindReplyCreated     Kind = "forum.reply_created"
	KindAnswerAccepted   Kind = "forum.answer_accepted"
	KindReactionGiven    Kind = "forum.reaction_given"
	KindReactionReceived Kind = "forum.reaction_received"
	KindPostEdited       Kind = "forum.post_edited"
	KindIdeaCreated      Kind = "feedback.idea_created"
	KindIdeaVoted        Kind = "feedback.idea_voted"
)

// Weights is the engagement weight of each kind, from the CRM model: an accepted answer
// counts most, then a post, a reply, an idea, a vote, a reaction; housekeeping
// events (log-in, edit) count a little so recency still sees them.
var Weights = map[Kind]float64{
	KindAnswerAccepted:   10,
	KindThreadCreated:    5,
	KindReplyCreated:     3,
	KindIdeaCreated:      3,
	KindIdeaVoted:        1,
	KindReactionReceived: 1,
	KindReactionGiven:    0.5,
	KindPostEdited:       0.2,
	KindLoggedIn:         0.2,
	KindRegistered:       1,
}

// Event is one thing a member did, at a time, about a subject.
type Event struct {
	MemberID    int64
	Kind        Kind
	SubjectType string
	SubjectID   int64
	// Value is money where the event carries some (claims, purchases); 0 otherwise.
	Value      float64
	OccurredAt time.Time
}

// ErrNoTransaction is returned when Append is called outside a transaction: an event
// must commit or roll back with the action it records.
var ErrNoTransaction = errors.New("crm: engagement events must be appended inside the action's transaction")

// Append records e in the transaction carried by ctx, with the kind's weight.
func Append(ctx context.Context, base *gorm.DB, e Event) error {
	if !db.InTransaction(ctx) {
		return ErrNoTransaction
	}
	w, ok := Weights[e.Kind]
	if !ok {
		return fmt.Errorf("crm: unknown event kind %q (add it to crm.Weights)", e.Kind)
	}
	if e.MemberID == 0 {
		return fmt.Errorf("crm: event %q without a member", e.Kind)
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now()
	}
	return db.Conn(ctx, base).Exec(
		`INSERT INTO crm_events (member_id, kind, subject_type, subject_id, weight, value, occurred_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.MemberID, string(e.Kind), e.SubjectType, e.SubjectID, w, e.Value, e.OccurredAt).Error
}

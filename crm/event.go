// Package crm owns the engagement events every other package appends and, built on
// them, the member profiles, scores, segments and campaigns of DESIGN.md.
package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
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
	KindPurchase         Kind = "shop.purchase"
	KindAnswerRated      Kind = "forum.answer_rated" // value 1 = helpful, 0 = not
	KindNPSAnswered      Kind = "crm.nps_answered"   // value 0–10
	KindStageChanged     Kind = "crm.stage_changed"
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
	KindPurchase:         4,
	KindAnswerRated:      0.5,
	KindNPSAnswered:      0.5,
	// a stage change is a fact about the member, not something they did
	KindStageChanged: 0,
}

// TopicProfile is the outbox topic that asks the worker to refresh one member's
// windowed figures, stage and churn risk (within a second of their event).
const TopicProfile = "crm.profile"

// Event is one thing a member did, at a time, about a subject.
type Event struct {
	MemberID    int64
	Kind        Kind
	SubjectType string
	SubjectID   int64
	// Value is money where the event carries some (claims, purchases); 0 otherwise.
	Value      float64
	OccurredAt time.Time
	// Tags and Category say what the event was about (interests are built from them).
	Tags     []string
	Category string
}

// ErrNoTransaction is returned when Append is called outside a transaction: an event
// must commit or roll back with the action it records.
var ErrNoTransaction = errors.New("crm: engagement events must be appended inside the action's transaction")

// Append records e in the transaction carried by ctx, with the kind's weight, and in
// the same transaction moves the member's profile counters and decayed engagement
// score forward and asks for a profile refresh through the outbox. Nothing about the
// event can be lost or half-applied: it commits or rolls back with the action.
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
	detail := map[string]any{}
	if len(e.Tags) > 0 {
		detail["tags"] = e.Tags
	}
	if e.Category != "" {
		detail["category"] = e.Category
	}
	dj, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	conn := db.Conn(ctx, base)
	if err := enqueueWebhooks(ctx, base, e); err != nil {
		return fmt.Errorf("crm: webhooks: %w", err)
	}
	err = conn.Exec(
		`INSERT INTO crm_events (member_id, kind, subject_type, subject_id, weight, value, occurred_at, detail)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.MemberID, string(e.Kind), e.SubjectType, e.SubjectID, w, e.Value, e.OccurredAt, string(dj)).Error
	if err != nil || e.Kind == KindStageChanged {
		// a stage change is recorded on the timeline but is not activity: it must not
		// move recency or counters (a member going dormant would wake themselves)
		return err
	}
	if err := bumpProfile(conn, e, w, DefaultParams.HalfLife); err != nil {
		return fmt.Errorf("crm: profile: %w", err)
	}
	return outbox.Enqueue(ctx, base, TopicProfile, map[string]int64{"member_id": e.MemberID})
}

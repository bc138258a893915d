package crm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/testenv"
)

func TestAppendOnlyInsideTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	m := newMember(t, g, 7)
	ev := crm.Event{MemberID: m, Kind: crm.KindReplyCreated, SubjectType: "post", SubjectID: 3}
	if err := crm.Append(ctx, g, ev); !errors.Is(err, crm.ErrNoTransaction) {
		t.Fatalf("outside a transaction: %v", err)
	}
	// rolled back with the action it records
	boom := errors.New("action failed")
	err := db.InTx(ctx, g, func(ctx context.Context) error {
		if err := crm.Append(ctx, g, ev); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, g, func(ctx context.Context) error { return crm.Append(ctx, g, ev) }); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		MemberID int64
		Kind     string
		Weight   float64
	}
	g.Raw("SELECT member_id, kind, weight FROM crm_events").Scan(&rows)
	if len(rows) != 1 || rows[0].MemberID != m || rows[0].Weight != crm.Weights[crm.KindReplyCreated] {
		t.Fatalf("events: %+v", rows)
	}
}

func TestAppendRefusesUnknownKindsAndMissingMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := testenv.DB(t)
	err := db.InTx(ctx, g, func(ctx context.Context) error {
		if err := crm.Append(ctx, g, crm.Event{MemberID: 1, Kind: "made.up"}); err == nil {
			t.Error("unknown kind accepted")
		}
		if err := crm.Append(ctx, g, crm.Event{Kind: crm.KindThreadCreated}); err == nil {
			t.Error("event without member accepted")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The weights follow the CRM model's order: accepted answer > post > reply > idea >
// vote > reaction.
func TestWeightOrder(t *testing.T) {
	w := crm.Weights
	order := []crm.Kind{crm.KindAnswerAccepted, crm.KindThreadCreated, crm.KindReplyCreated, crm.KindIdeaVoted, crm.KindReactionGiven}
	for i := 1; i < len(order); i++ {
		if w[order[i-1]] <= w[order[i]] {
			t.Errorf("%s (%v) should outweigh %s (%v)", order[i-1], w[order[i-1]], order[i], w[order[i]])
		}
	}
	if w[crm.KindReplyCreated] < w[crm.KindIdeaCreated] {
		t.Error("reply should weigh at least an idea")
	}
}

package crm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/outbox"
	"github.com/hearth-community/hearth/internal/testenv"
)

// TestHandleProfileCoalesces: one crm.profile message refreshes its member once for
// all of their pending rows, takes the other due rows along, and a row already
// answered costs no second refresh.
func TestHandleProfileCoalesces(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	a, b := newMember(t, g, 1), newMember(t, g, 2)
	now := time.Now()
	for i := range 3 {
		appendAt(t, g, crm.Event{MemberID: a, Kind: crm.KindReplyCreated, OccurredAt: now.Add(-time.Duration(i) * time.Hour), Tags: []string{"Battery"}})
	}
	for i := range 2 {
		appendAt(t, g, crm.Event{MemberID: b, Kind: crm.KindThreadCreated, OccurredAt: now.Add(-time.Duration(i) * time.Hour)})
	}
	var rows []struct {
		ID       int64
		MemberID int64
	}
	if err := g.Raw(`SELECT id, CAST(payload->>'member_id' AS bigint) AS member_id FROM outbox WHERE topic = ? ORDER BY id`, crm.TopicProfile).
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d crm.profile rows, want 5", len(rows))
	}
	msg := func(id, member int64) outbox.Message {
		return outbox.Message{ID: id, Topic: crm.TopicProfile, Payload: []byte(fmt.Sprintf(`{"member_id": %d}`, member)), Attempts: 1}
	}
	if err := svc.HandleProfile(ctx, msg(rows[0].ID, rows[0].MemberID)); err != nil {
		t.Fatal(err)
	}
	var pending int64
	if err := g.Raw(`SELECT count(*) FROM outbox WHERE topic = ? AND processed_at IS NULL`, crm.TopicProfile).Scan(&pending).Error; err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Fatalf("%d crm.profile rows still pending after one message, want 0", pending)
	}
	type state struct {
		Events90d   int `gorm:"column:events_90d"`
		Interests   string
		RefreshedAt *time.Time
	}
	read := func(m int64) state {
		var s state
		if err := g.Raw(`SELECT events_90d, array_to_string(interests, ',') AS interests, refreshed_at FROM crm_profiles WHERE member_id = ?`, m).
			Scan(&s).Error; err != nil {
			t.Fatal(err)
		}
		return s
	}
	sa, sb := read(a), read(b)
	if sa.RefreshedAt == nil || sa.Events90d != 3 || sa.Interests != "battery" || sb.RefreshedAt == nil || sb.Events90d != 2 {
		t.Fatalf("after one message: member a %+v, member b %+v; want both refreshed with 3 and 2 events", sa, sb)
	}
	// a later row of a, answered by that refresh, is done without another refresh
	if err := svc.HandleProfile(ctx, msg(rows[2].ID, a)); err != nil {
		t.Fatal(err)
	}
	if again := read(a); !again.RefreshedAt.Equal(*sa.RefreshedAt) {
		t.Fatalf("an answered row refreshed again (%s, then %s)", sa.RefreshedAt, again.RefreshedAt)
	}
}

// TestRefreshAllBatchesEqualRefreshMember: RefreshAll's batched refresh writes what
// RefreshMember writes for each member.
func TestRefreshAllBatchesEqualRefreshMember(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	now := time.Now()
	members := seedMembers(t, g, 5, now)
	const cols = `member_id, events_90d, events_prev_90d, monetary_365d, churn_risk, clv, advocate, interests, interest_weights, factors, stage, csat, nps`
	snapshot := func() string {
		var out []string
		if err := g.Raw(`SELECT CAST(row(` + cols + `) AS text) FROM crm_profiles ORDER BY member_id`).Scan(&out).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(out)
	}
	for _, m := range members {
		if err := svc.RefreshMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	one := snapshot()
	if err := svc.RefreshAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if all := snapshot(); all != one {
		t.Fatalf("RefreshAll wrote\n%s\nRefreshMember wrote\n%s", all, one)
	}
}

// TestRebuildRestoresIncremental: Rebuild and RebuildAll (computed in Go, in batches)
// put back incremental fields that equal RebuildIncremental's (SQL) after the profile
// was damaged.
func TestRebuildRestoresIncremental(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	now := time.Now()
	members := seedMembers(t, g, 4, now)
	damage := func() {
		if err := g.Exec(`UPDATE crm_profiles SET event_count = 999, first_event_at = now(), last_event_at = now() - interval '9 years',
		                          engagement = 0, purchases = 7, purchase_total = 1`).Error; err != nil {
			t.Fatal(err)
		}
	}
	check := func(how string) {
		for _, m := range members {
			inc, err := svc.Incremental(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			reb, err := svc.RebuildIncremental(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if !sameIncremental(inc, reb, now) {
				t.Fatalf("%s, member %d: profile %+v != rebuilt from the events %+v", how, m, inc, reb)
			}
		}
	}
	damage()
	for _, m := range members {
		if err := svc.Rebuild(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	check("Rebuild")
	damage()
	if err := svc.RebuildAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	check("RebuildAll")
}

// seedMembers makes n members with 3, 7, 11 … events of every kind over the last
// months, with tags, a category and purchase values.
func seedMembers(t *testing.T, g *gorm.DB, n int, now time.Time) []int64 {
	t.Helper()
	var members []int64
	for i := range n {
		m := newMember(t, g, i)
		members = append(members, m)
		for j := range 3 + 4*i {
			e := crm.Event{MemberID: m, Kind: kinds[(i+j)%len(kinds)], OccurredAt: now.Add(-time.Duration(j*17+i) * 24 * time.Hour),
				Tags: []string{fmt.Sprintf("t%d", j%3)}, Category: "help"}
			if e.Kind == crm.KindPurchase {
				e.Value = 12.34 * float64(j+1)
			}
			appendAt(t, g, e)
		}
	}
	return members
}

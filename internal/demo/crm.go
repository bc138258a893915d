package demo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/db"
)

// shopper is a demo customer with a history: when they joined, how often they
// visited and what they bought, so the CRM has every lifecycle stage, a spread of
// value and a few valuable members drifting away.
type shopper struct {
	email, name string
	joined      int        // days ago
	visits      [][3]int   // runs of log-ins: from days ago, to days ago, every n days
	purchases   []purchase // bought, days ago
}

type purchase struct {
	daysAgo int
	amount  float64
	tag     string
}

// Shoppers are the demo customers SeedCRM adds (password Password, like every demo
// account).
var Shoppers = []shopper{
	{"emma@demo.hearth.local", "Emma Wilson", 400, [][3]int{{360, 1, 4}},
		[]purchase{{330, 180, "x200"}, {250, 220, "case"}, {170, 150, "x200"}, {95, 260, "speaker"}, {40, 199, "x200"}, {10, 120, "case"}}},
	{"noah@demo.hearth.local", "Noah Garcia", 300, [][3]int{{280, 3, 7}}, []purchase{{200, 129, "x200"}, {60, 89, "case"}}},
	{"chenjing@demo.hearth.local", "陈静", 150, [][3]int{{150, 91, 15}, {89, 1, 3}}, []purchase{{20, 349, "speaker"}, {5, 59, "case"}}},
	{"olivia@demo.hearth.local", "Olivia Brown", 420, [][3]int{{300, 100, 3}, {70, 65, 5}},
		[]purchase{{280, 450, "x200"}, {200, 380, "speaker"}, {120, 520, "x200"}}},
	{"zhangwei@demo.hearth.local", "张伟", 360, [][3]int{{260, 95, 4}, {62, 62, 1}}, []purchase{{230, 210, "x200"}, {130, 160, "case"}}},
	{"huangli@demo.hearth.local", "黄丽", 380, [][3]int{{250, 95, 2}, {75, 75, 1}},
		[]purchase{{240, 800, "speaker"}, {150, 650, "x200"}, {100, 700, "speaker"}}},
	{"liam@demo.hearth.local", "Liam Johnson", 500, [][3]int{{500, 200, 5}}, []purchase{{300, 240, "x200"}, {220, 160, "case"}}},
	{"sophia@demo.hearth.local", "Sophia Martin", 250, [][3]int{{240, 2, 10}}, []purchase{{100, 75, "case"}}},
	{"liuyang@demo.hearth.local", "刘洋", 10, [][3]int{{10, 1, 3}}, []purchase{{6, 99, "x200"}}},
	{"lucas@demo.hearth.local", "Lucas Davis", 40, [][3]int{{40, 20, 10}}, nil},
}

// memberHistory gives the demo members who post (SeedContent) older visits and
// purchases as well.
var memberHistory = []shopper{
	{email: "alice@demo.hearth.local", visits: [][3]int{{200, 2, 6}}, purchases: []purchase{{150, 230, "x200"}, {30, 120, "case"}}},
	{email: "bob@demo.hearth.local", visits: [][3]int{{120, 4, 9}}, purchases: []purchase{{80, 95, "app"}}},
	{email: "wang@demo.hearth.local", visits: [][3]int{{90, 10, 12}}, purchases: []purchase{{45, 199, "x200"}}},
}

// SeedCRM gives the demo community a CRM history after Seed and SeedContent: the
// Shoppers accounts, months of visits and purchases for them and for the posting demo
// members, then a full profile refresh and the dashboard reports, so /crm and
// /crm/segments have something to show. It is idempotent: each member's history is
// written once, in one transaction, behind their first demo order id.
func SeedCRM(ctx context.Context, gdb *gorm.DB, as *auth.Service, cs *crm.Service) error {
	now := time.Now()
	day := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	// accounts in parallel: each password hash takes most of a second at production cost
	errs := make([]error, len(Shoppers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, s := range Shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := as.CreateUser(ctx, auth.NewAccount{Email: s.email, Password: Password, DisplayName: s.name, Role: auth.RoleMember})
			if err != nil && !apperr.Is(err, apperr.Conflict) {
				errs[i] = fmt.Errorf("demo shopper %s: %w", s.email, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, s := range append(append([]shopper{}, Shoppers...), memberHistory...) {
		u, err := as.UserByEmail(ctx, s.email)
		if err != nil {
			return fmt.Errorf("demo member %s: %w", s.email, err)
		}
		if s.joined > 0 { // they joined long ago: move the account and its joining event there
			if err := db.InTx(ctx, gdb, func(ctx context.Context) error {
				conn := db.Conn(ctx, gdb)
				if err := conn.Exec(`UPDATE users SET created_at = ? WHERE id = ?`, day(s.joined), u.ID).Error; err != nil {
					return err
				}
				return conn.Exec(`UPDATE crm_events SET occurred_at = ? WHERE member_id = ? AND kind = ?`,
					day(s.joined), u.ID, string(crm.KindRegistered)).Error
			}); err != nil {
				return fmt.Errorf("demo history %s: %w", s.email, err)
			}
		}
		if err := db.InTx(ctx, gdb, func(ctx context.Context) error { return history(ctx, gdb, u.ID, s, day) }); err != nil {
			return fmt.Errorf("demo history %s: %w", s.email, err)
		}
		// the events are the truth: recompute the profile from them (the joining event moved)
		if err := cs.Rebuild(ctx, u.ID); err != nil {
			return fmt.Errorf("demo profile %s: %w", s.email, err)
		}
	}
	if err := cs.RefreshAll(ctx, nil); err != nil {
		return fmt.Errorf("demo refresh: %w", err)
	}
	return cs.RefreshReports(ctx)
}

// history writes one member's visits and purchases, unless their first demo order is
// there already.
func history(ctx context.Context, gdb *gorm.DB, member int64, s shopper, day func(int) time.Time) error {
	conn := db.Conn(ctx, gdb)
	for i, p := range s.purchases {
		var id int64
		res := conn.Raw(`INSERT INTO crm_purchases (member_id, external_id, amount, source, occurred_at) VALUES (?, ?, ?, 'demo', ?)
		                 ON CONFLICT (external_id) DO NOTHING RETURNING id`,
			member, fmt.Sprintf("demo-%d-%d", member, i+1), p.amount, day(p.daysAgo)).Scan(&id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // written before
		}
		if err := crm.Append(ctx, gdb, crm.Event{MemberID: member, Kind: crm.KindPurchase, SubjectType: "purchase", SubjectID: id,
			Value: p.amount, OccurredAt: day(p.daysAgo), Tags: []string{p.tag}}); err != nil {
			return err
		}
	}
	if len(s.purchases) == 0 { // a member without orders: visits only, once
		var n int64
		if err := conn.Raw(`SELECT count(*) FROM crm_events WHERE member_id = ? AND kind = ?`, member, string(crm.KindLoggedIn)).
			Scan(&n).Error; err != nil || n > 0 {
			return err
		}
	}
	for _, v := range s.visits {
		for d := v[0]; d >= v[1]; d -= v[2] {
			if err := crm.Append(ctx, gdb, crm.Event{MemberID: member, Kind: crm.KindLoggedIn, SubjectType: "user",
				SubjectID: member, OccurredAt: day(d)}); err != nil {
				return err
			}
		}
	}
	return nil
}

package crm_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/testenv"
)

// weekOf is the Monday 00:00 UTC of t's week (the dashboard's week).
func weekOf(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// TestDashboardValueFigures: customer equity, the Pareto curve and its top-20% share,
// the CLV distribution and the at-risk list, on members whose value is known, with an
// erased member who must count nowhere.
func TestDashboardValueFigures(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	clv := []float64{600, 200, 100, 50, 30, 20, 0, 0, 0, 0}
	churn := []int{40, 70, 10, 20, 50, 0, 90, 0, 0, 0}
	var fs []profileFixture
	for i := range clv {
		fs = append(fs, profileFixture{fmt.Sprint(i), map[string]any{"clv": clv[i], "churn_risk": churn[i]}})
	}
	fs = append(fs, profileFixture{"erased", map[string]any{"clv": 5000, "churn_risk": 99, "erased": true}})
	ids := fixtures(t, g, fs)
	d, err := svc.Dashboard(ctx, marketer)
	if err != nil {
		t.Fatal(err)
	}
	if d.Members != 10 || d.Equity != 1000 || d.AverageCLV != 100 {
		t.Fatalf("members %d equity %v average %v", d.Members, d.Equity, d.AverageCLV)
	}
	p := d.Pareto
	if p.Metric != "clv" || p.Total != 1000 || p.TopShare != 80 || len(p.Points) != 11 ||
		p.Points[1] != (crm.ParetoPoint{MembersPct: 10, ValuePct: 60}) || p.Points[10] != (crm.ParetoPoint{MembersPct: 100, ValuePct: 100}) {
		t.Fatalf("pareto %+v", p)
	}
	want := []crm.CLVBucket{{0, 0, 4}, {0, 100, 3}, {100, 200, 1}, {200, 300, 1}, {300, 400, 0}, {400, 500, 0}, {500, 600, 1}}
	if fmt.Sprint(d.CLV) != fmt.Sprint(want) {
		t.Fatalf("clv buckets %v, want %v", d.CLV, want)
	}
	// at risk: churn ≥ 50 with value, most valuable first; member 6 has risk but nothing to lose
	if len(d.AtRisk) != 2 || d.AtRisk[0].ID != ids["1"] || d.AtRisk[1].ID != ids["4"] || d.AtRisk[0].Name == "" {
		t.Fatalf("at risk %+v", d.AtRisk)
	}
	// without CLV the curve falls back to what members spent
	if err := g.Exec(`UPDATE crm_profiles SET clv = 0, purchase_total = CASE WHEN member_id = ? THEN 90 ELSE 10 END`, ids["9"]).Error; err != nil {
		t.Fatal(err)
	}
	d, _ = svc.Dashboard(ctx, marketer)
	if d.Pareto.Metric != "purchase_total" || d.Pareto.Total != 180 || d.Pareto.TopShare != 55.6 {
		t.Fatalf("fallback pareto %+v", d.Pareto)
	}
	if _, err := svc.Dashboard(ctx, crm.Actor{ID: 3, Role: "moderator"}); err == nil {
		t.Fatal("a moderator read the dashboard")
	}
}

// TestDashboardTrends: the engagement trend sums event weights per week (stage
// changes and erased members left out); members per stage come from the daily
// snapshot for today and from a replay of the events for the weeks before, which a
// later snapshot is never overwritten by.
func TestDashboardTrends(t *testing.T) {
	t.Parallel()
	g := testenv.DB(t)
	svc := crm.NewService(g, crm.DefaultParams, nil)
	ctx := context.Background()
	now := time.Now()
	thisWeek := weekOf(now)
	five := thisWeek.AddDate(0, 0, -35).Add(50 * time.Hour) // Wednesday, five weeks ago
	a, b, gone := newMember(t, g, 1), newMember(t, g, 2), newMember(t, g, 3)
	appendAt(t, g, crm.Event{MemberID: a, Kind: crm.KindThreadCreated, OccurredAt: five})
	appendAt(t, g, crm.Event{MemberID: b, Kind: crm.KindThreadCreated, OccurredAt: five.Add(time.Hour)})
	appendAt(t, g, crm.Event{MemberID: b, Kind: crm.KindStageChanged, OccurredAt: five.Add(2 * time.Hour)})
	appendAt(t, g, crm.Event{MemberID: gone, Kind: crm.KindAnswerAccepted, OccurredAt: five})
	if err := g.Exec(`UPDATE crm_profiles SET erased = true WHERE member_id = ?`, gone).Error; err != nil {
		t.Fatal(err)
	}
	// a long-standing member: a reply every week from 40 weeks ago to 3 weeks ago
	old := newMember(t, g, 4)
	var oldEvents []time.Time
	for w := 40; w >= 3; w-- {
		at := thisWeek.AddDate(0, 0, -7*w).Add(30 * time.Hour)
		oldEvents = append(oldEvents, at)
		appendAt(t, g, crm.Event{MemberID: old, Kind: crm.KindReplyCreated, OccurredAt: at})
	}
	if err := svc.RefreshAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.RefreshReports(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Dashboard(ctx, marketer)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Engagement) != crm.DashboardWeeks || len(d.Stages) != crm.DashboardWeeks {
		t.Fatalf("weeks: %d %d", len(d.Engagement), len(d.Stages))
	}
	wk := d.Engagement[6]
	// two threads (5 each) and old's weekly reply (3); no stage change, no erased member
	if !wk.Week.Equal(weekOf(five)) || wk.Weight != 13 || wk.Events != 3 || wk.Members != 3 {
		t.Fatalf("engagement in the week of %s: %+v", weekOf(five).Format(time.DateOnly), wk)
	}
	if last := d.Engagement[11]; last.Weight != 0 || last.Events != 0 {
		t.Fatalf("this week: %+v", last)
	}
	// each past week is replayed with the lifecycle rules as they stood then
	for i, w := range d.Stages[:crm.DashboardWeeks-1] {
		end := w.Week.AddDate(0, 0, 7)
		act := crm.Activity{Now: end}
		for _, at := range oldEvents {
			if !at.After(end) {
				act.EventCount++
				if act.FirstEventAt.IsZero() {
					act.FirstEventAt = at
				}
				act.LastEventAt = at
				if at.After(end.AddDate(0, 0, -90)) {
					act.Events90d++
				} else if at.After(end.AddDate(0, 0, -180)) {
					act.EventsPrev90++
				}
			}
		}
		stage, _ := crm.StageOf(act, crm.DefaultParams)
		want := map[crm.Stage]int{stage: 1}
		if !w.Week.Before(weekOf(five)) { // a and b joined five weeks ago, with one thread each
			want[crm.StageExploration]++
			want[crm.StageExploration]++
		}
		for _, st := range crm.Stages {
			if w.Counts[st] != want[st] {
				t.Errorf("week %d (%s): %v, want %v", i, w.Week.Format(time.DateOnly), w.Counts, want)
				break
			}
		}
		if !w.Replayed || w.Missing {
			t.Errorf("week %d: replayed %v missing %v", i, w.Replayed, w.Missing)
		}
	}
	// the current week is live
	cur := d.Stages[crm.DashboardWeeks-1]
	var live []struct {
		Stage string
		N     int
	}
	g.Raw(`SELECT stage, count(*) AS n FROM crm_profiles WHERE NOT erased GROUP BY stage`).Scan(&live)
	for _, l := range live {
		if cur.Counts[crm.Stage(l.Stage)] != l.N {
			t.Fatalf("current week %v, profiles say %v", cur.Counts, live)
		}
	}
	// snapshots: today's is observed; a recorded week is never replaced by a replay
	var today, replayed int64
	g.Raw(`SELECT count(*) FROM crm_stage_daily WHERE day = CAST(? AS date) AND NOT replayed`, now.UTC().Format(time.DateOnly)).Scan(&today)
	g.Raw(`SELECT count(*) FROM crm_stage_daily WHERE replayed`).Scan(&replayed)
	if today != 5 || replayed != 5*(crm.DashboardWeeks-1) {
		t.Fatalf("snapshot rows: today %d replayed %d", today, replayed)
	}
	if err := g.Exec(`UPDATE crm_stage_daily SET members = 42, replayed = false WHERE stage = 'growth' AND day < CAST(? AS date)`,
		thisWeek.Format(time.DateOnly)).Error; err != nil {
		t.Fatal(err)
	}
	if err := svc.RefreshReports(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ = svc.Dashboard(ctx, marketer)
	if d.Stages[0].Counts[crm.StageGrowth] != 42 {
		t.Fatalf("a recorded week was replaced: %v", d.Stages[0].Counts)
	}
}

// TestDashboardResponseTimes: median and 90th percentile of the time to the first
// reply by someone else and to the accepted answer, per category, over the questions
// of the last 90 days.
func TestDashboardResponseTimes(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	ctx := context.Background()
	cat := &forum.Category{Slug: "help", Name: "Help", NameZh: "帮助", ReadRoles: []string{forum.Everyone},
		PostRoles: []string{"member", "admin"}}
	if err := e.Forums.EnsureCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.Raw(`SELECT id FROM forum_categories WHERE slug = 'help'`).Scan(&cat.ID).Error; err != nil {
		t.Fatal(err)
	}
	asker, helper, other := newMember(t, e.DB, 1), newMember(t, e.DB, 2), newMember(t, e.DB, 3)
	now := time.Now()
	// question, then (minutes later) replies; ask time and reply times are set below
	q := func(title string, ago time.Duration, replies ...struct {
		who   int64
		after time.Duration
	}) (int64, []int64) {
		th, _, err := e.Forum.CreateThread(ctx, forum.Actor{ID: asker, Role: "member"}, forum.NewThread{CategoryID: cat.ID,
			Kind: forum.KindQuestion, Title: title, Body: "How do I do this properly?"}, "")
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(-ago)
		setAt(t, e.DB, `UPDATE forum_threads SET created_at = ? WHERE id = ?`, at, th.ID)
		var posts []int64
		for i, r := range replies {
			p, _, err := e.Forum.Reply(ctx, forum.Actor{ID: r.who, Role: "member"}, th.ID, forum.NewReply{Body: fmt.Sprintf("Answer number %d here.", i)}, "")
			if err != nil {
				t.Fatal(err)
			}
			setAt(t, e.DB, `UPDATE forum_posts SET created_at = ? WHERE id = ?`, at.Add(r.after), p.ID)
			posts = append(posts, p.ID)
		}
		return th.ID, posts
	}
	type reply = struct {
		who   int64
		after time.Duration
	}
	// 1: the asker's own follow-up does not count; helper answers after 2 h, accepted
	t1, p1 := q("First question about pairing", 10*time.Hour, reply{asker, 10 * time.Minute}, reply{helper, 2 * time.Hour})
	// 2: other replies after 30 min; helper's answer at 5 h is accepted
	t2, p2 := q("Second question about battery", 20*time.Hour, reply{other, 30 * time.Minute}, reply{helper, 5 * time.Hour})
	q("Third question, unanswered", 5*time.Hour)
	q("Old question outside the window", 100*24*time.Hour, reply{helper, time.Minute})
	for _, x := range []struct{ thread, post int64 }{{t1, p1[1]}, {t2, p2[1]}} {
		if _, err := e.Forum.Accept(ctx, forum.Actor{ID: asker, Role: "member"}, x.thread, x.post); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.CRM.Dashboard(ctx, marketer)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Response) != 1 {
		t.Fatalf("categories: %+v", d.Response)
	}
	r := d.Response[0]
	hours := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return math.Round(*p/36) / 100
	}
	if r.Slug != "help" || r.NameZh != "帮助" || r.Questions != 3 || r.Replied != 2 || r.Accepted != 2 ||
		hours(r.FirstReplyP50) != 1.25 || hours(r.FirstReplyP90) != 1.85 || hours(r.AcceptedP50) != 3.5 || hours(r.AcceptedP90) != 4.7 {
		t.Fatalf("response times %+v: first %.2f/%.2f h, accepted %.2f/%.2f h", r,
			hours(r.FirstReplyP50), hours(r.FirstReplyP90), hours(r.AcceptedP50), hours(r.AcceptedP90))
	}
}

func setAt(t *testing.T, g *gorm.DB, sql string, at time.Time, id int64) {
	t.Helper()
	if err := g.Exec(sql, at, id).Error; err != nil {
		t.Fatal(err)
	}
}

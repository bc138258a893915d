package crm_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

// crmDemoApp is the demo community with its CRM history (demo.SeedCRM).
func crmDemoApp(t *testing.T) *testenv.AppEnv {
	t.Helper()
	e := demoApp(t)
	if err := demo.SeedCRM(context.Background(), e.DB, e.Auth, e.CRM); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDemoDashboardIsNotEmpty: the demo community fills every part of the dashboard,
// and seeding it twice changes nothing.
func TestDemoDashboardIsNotEmpty(t *testing.T) {
	t.Parallel()
	e := crmDemoApp(t)
	ctx := context.Background()
	count := func() (n [3]int64) {
		e.DB.Raw(`SELECT count(*) FROM users`).Scan(&n[0])
		e.DB.Raw(`SELECT count(*) FROM crm_events`).Scan(&n[1])
		e.DB.Raw(`SELECT count(*) FROM crm_purchases`).Scan(&n[2])
		return n
	}
	before := count()
	if err := demo.SeedCRM(ctx, e.DB, e.Auth, e.CRM); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before {
		t.Fatalf("second seed added rows: users/events/purchases %v → %v", before, after)
	}
	mk, _ := e.Login(t, "marketer@demo.hearth.local", demo.Password)
	r := e.API(t, http.MethodGet, "/api/v1/crm/dashboard", nil, mk)
	if r.Status != 200 {
		t.Fatalf("dashboard: %d %s", r.Status, r.Body)
	}
	d := r.JSON(t)
	if d["members"].(float64) < 15 || d["customer_equity"].(float64) <= 0 {
		t.Fatalf("members %v equity %v", d["members"], d["customer_equity"])
	}
	if p := d["pareto"].(map[string]any); p["metric"] != "clv" || p["top20_share"].(float64) < 40 {
		t.Fatalf("pareto %v", p)
	}
	if n := len(d["at_risk"].([]any)); n < 2 {
		t.Fatalf("at risk: %d", n)
	}
	if n := len(d["response_times"].([]any)); n < 1 {
		t.Fatal("no response times")
	}
	active, stages := 0, map[string]bool{}
	for _, w := range d["engagement_by_week"].([]any) {
		if w.(map[string]any)["weight"].(float64) > 0 {
			active++
		}
	}
	for _, w := range d["stages_by_week"].([]any) {
		for st, n := range w.(map[string]any)["counts"].(map[string]any) {
			if n.(float64) > 0 {
				stages[st] = true
			}
		}
	}
	if active < 10 || len(stages) != 5 {
		t.Fatalf("weeks with engagement %d, stages seen %v", active, stages)
	}
	var bucketsWithMembers int
	for _, b := range d["clv_distribution"].([]any) {
		if b.(map[string]any)["members"].(float64) > 0 {
			bucketsWithMembers++
		}
	}
	if bucketsWithMembers < 3 {
		t.Fatalf("clv distribution %v", d["clv_distribution"])
	}
}

var (
	svgChart  = regexp.MustCompile(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="[0-9 ]+" class="chart" role="img" focusable="false" aria-labelledby="chart-(stages|engagement|pareto|clv)">`)
	styleAttr = regexp.MustCompile(`<(svg|path|text|circle)[^>]* style="`)
)

// TestDashboardPage: the page draws four charts as inline SVG (no style attributes,
// which the CSP would block), each labelled by its caption and with a data table,
// the at-risk members link to their 360 pages, and it reads in Chinese too.
func TestDashboardPage(t *testing.T) {
	t.Parallel()
	e := crmDemoApp(t)
	for _, who := range []string{"alice@demo.hearth.local", "moderator@demo.hearth.local", "partner@demo.hearth.local"} {
		if p := e.Page(t, "/crm", cookie(t, e, who)); p.Status != 403 {
			t.Errorf("%s: /crm %d", who, p.Status)
		}
	}
	if p := e.Page(t, "/crm"); p.Status != 303 {
		t.Errorf("visitor: /crm %d", p.Status)
	}
	for _, who := range []string{"marketer@demo.hearth.local", "admin@demo.hearth.local"} {
		p := e.Page(t, "/crm", cookie(t, e, who))
		body := string(p.Body)
		if p.Status != 200 {
			t.Fatalf("%s: %d", who, p.Status)
		}
		if n := len(svgChart.FindAllString(body, -1)); n != 4 {
			t.Fatalf("%d charts on the page", n)
		}
		if styleAttr.MatchString(body) {
			t.Fatal("a chart element carries a style attribute (blocked by the CSP)")
		}
		for _, id := range []string{"chart-stages", "chart-engagement", "chart-pareto", "chart-clv"} {
			if !strings.Contains(body, `<figcaption id="`+id+`">`) {
				t.Errorf("no caption %s", id)
			}
		}
		if strings.Count(body, "<details>") < 4 || !strings.Contains(body, "Data table") ||
			!regexp.MustCompile(`The top 20% of members bring \d+% of the value`).MatchString(body) ||
			!strings.Contains(body, `href="/crm/members/`) || !strings.Contains(body, "Response time to questions") ||
			!strings.Contains(body, `href="/crm"`) {
			t.Fatalf("dashboard page lacks parts: %s", excerpt(body, "kpi-members"))
		}
	}
	zh := e.Page(t, "/crm", cookie(t, e, "marketer@demo.hearth.local"), &http.Cookie{Name: "hearth_lang", Value: "zh-Hans"})
	body := string(zh.Body)
	if zh.Status != 200 || !strings.Contains(body, "各生命周期阶段的成员数") || !strings.Contains(body, "问答") ||
		!strings.Contains(body, "数据表") || len(svgChart.FindAllString(body, -1)) != 4 {
		t.Fatalf("Chinese dashboard: %d", zh.Status)
	}
	// the header offers the CRM to staff who may read it, and not to members
	if !strings.Contains(body, `<a href="/crm" aria-current="page">CRM</a>`) {
		t.Error("no CRM link in the header for a marketer")
	}
	if p := e.Page(t, "/", cookie(t, e, "alice@demo.hearth.local")); strings.Contains(string(p.Body), `href="/crm"`) {
		t.Error("a member sees the CRM link")
	}
}

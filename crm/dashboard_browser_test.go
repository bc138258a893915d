package crm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/browsertest"
	"github.com/hearth-community/hearth/internal/demo"
)

// TestDashboardAndSegmentsInBrowser: in real Chromium, under the site's CSP, the
// dashboard's charts draw without a console error (a blocked inline style would
// report one), the header leads to it, and the segment builder's optional script
// filters operators and counts live before Preview and Save do their part. Set
// HEARTH_SCREENSHOTS=dir to keep the pages as PNGs, in English and Chinese.
func TestDashboardAndSegmentsInBrowser(t *testing.T) {
	t.Parallel()
	e := crmDemoApp(t)
	base := e.Listen(t)
	b := browsertest.New(t)
	b.Visit(base + "/login")
	b.Fill("#f-email", "marketer@demo.hearth.local")
	b.Fill("#f-password", demo.Password)
	b.Click("#login-submit")
	if st := b.Click(`header a[href="/crm"]`); st != 200 || b.Path() != "/crm" {
		t.Fatalf("CRM link: %d %s", st, b.Path())
	}
	for _, id := range []string{"chart-stages", "chart-engagement", "chart-pareto", "chart-clv"} {
		if r := b.Box(`svg[aria-labelledby="` + id + `"]`); r.Width < 300 || r.Height < 100 {
			t.Errorf("%s drawn at %.0f×%.0f", id, r.Width, r.Height)
		}
	}
	if got := b.Attr(`svg[aria-labelledby="chart-stages"] path:nth-of-type(2)`, "fill"); got == "" {
		t.Error("chart paths carry no fill attribute")
	}
	if !strings.Contains(b.Text("#pareto-top"), "The top 20% of members bring") {
		t.Errorf("pareto summary: %q", b.Text("#pareto-top"))
	}
	b.NoConsoleErrors()
	b.Screenshot("crm-dashboard-en")

	b.Visit(base + "/crm/segments")
	b.SetSelect("#field_0", "stage")
	if !b.Has(`#op_0 option[value="gt"][disabled]`) || b.Has(`#op_0 option[value="in"][disabled]`) {
		t.Error("the script left the 'more than' operator offered for the stage field")
	}
	b.SetSelect("#op_0", "in")
	b.Fill("#value_0", "decline, dormant")
	b.SetSelect("#field_1", "clv")
	b.SetSelect("#op_1", "gt")
	b.Fill("#value_1", "0")
	live := ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if live = b.Text("#seg-live"); strings.Contains(live, "members match") {
			break
		}
	}
	if !strings.Contains(live, "members match") {
		t.Fatalf("live count: %q", live)
	}
	if st := b.Click("#seg-preview"); st != 200 || b.Text("#seg-count") != live {
		t.Fatalf("preview: %d %q, live said %q", st, b.Text("#seg-count"), live)
	}
	b.Fill("#f-name", "Valuable, drifting away")
	if st := b.Click("#seg-save"); st != 200 || !strings.HasPrefix(b.Path(), "/crm/segments/") {
		t.Fatalf("save: %d %s", st, b.Path())
	}
	if !strings.Contains(b.Text(".flash"), "saved") || !strings.Contains(b.Text(".seg-list"), "Valuable, drifting away") {
		t.Fatal("saved segment not listed")
	}
	b.NoConsoleErrors()
	b.Screenshot("crm-segments-en")

	b.SetSelect("#lang-select", "zh-Hans")
	b.Click("#lang-submit")
	b.Visit(base + "/crm")
	if !strings.Contains(b.Text("h1"), "CRM 仪表盘") {
		t.Fatalf("Chinese dashboard heading: %q", b.Text("h1"))
	}
	b.NoConsoleErrors()
	b.Screenshot("crm-dashboard-zh")
	b.Visit(base + "/crm/segments")
	b.Screenshot("crm-segments-zh")
}

package crm

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// wellFormed parses an SVG as XML and returns its text and attribute names.
func wellFormed(t *testing.T, svg string) (texts []string, attrs map[string]bool) {
	t.Helper()
	attrs = map[string]bool{}
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return texts, attrs
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v\n%.300s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if x.Name.Local == "script" || x.Name.Local == "foreignObject" {
				t.Fatalf("chart contains <%s>", x.Name.Local)
			}
			for _, a := range x.Attr {
				attrs[a.Name.Local] = true
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(x)); s != "" {
				texts = append(texts, s)
			}
		}
	}
}

// TestChartSVGSafeUnderCSP: labels are escaped (go-chart writes them raw), and no
// style attribute survives, since the page's CSP (style-src 'self') would drop it.
func TestChartSVGSafeUnderCSP(t *testing.T) {
	hostile := `<script>alert(1)</script>&"x"`
	svg, err := lineSVG("chart-x", []string{hostile, "02-01"}, valueAxis(10, true),
		lineSeries{color: colorBlue, values: []float64{1, 9}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	texts, attrs := wellFormed(t, s)
	if attrs["style"] || strings.Contains(s, "style=") {
		t.Fatalf("style attribute left in the chart: %.400s", s)
	}
	if !attrs["fill"] || !attrs["stroke"] {
		t.Fatal("no presentation attributes: the chart would render unstyled")
	}
	found := false
	for _, x := range texts {
		found = found || x == hostile // decoded back by the XML parser: it was escaped once
	}
	if !found || strings.Contains(s, "<script") {
		t.Fatalf("label not escaped as text: %v", texts)
	}
	if !strings.HasPrefix(s, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 300" class="chart" role="img" focusable="false" aria-labelledby="chart-x">`) {
		t.Fatalf("root: %.200s", s)
	}
}

// TestDashboardCharts: every chart of a dashboard renders, including one with no
// activity at all (go-chart refuses empty ranges; the axes must not be zero).
func TestDashboardCharts(t *testing.T) {
	weeks := dashboardWeeks(testNow)
	full, empty := &Dashboard{}, &Dashboard{Pareto: Pareto{Points: []ParetoPoint{}}, CLV: []CLVBucket{{}}}
	for i, w := range weeks {
		full.Stages = append(full.Stages, StageWeek{Week: w, Counts: map[Stage]int{StageGrowth: i, StageStable: 3}})
		full.Engagement = append(full.Engagement, EngagementWeek{Week: w, Weight: float64(i * 7)})
		empty.Stages = append(empty.Stages, StageWeek{Week: w, Counts: map[Stage]int{}})
		empty.Engagement = append(empty.Engagement, EngagementWeek{Week: w})
	}
	full.Pareto = Pareto{Metric: "clv", TopShare: 70, Points: []ParetoPoint{{0, 0}, {20, 70}, {100, 100}}}
	full.CLV = []CLVBucket{{0, 0, 4}, {0, 50, 3}, {50, 100, 1}}
	for name, d := range map[string]*Dashboard{"full": full, "empty": empty} {
		c, err := d.Charts()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for id, svg := range map[string]string{"chart-stages": string(c.Stages), "chart-engagement": string(c.Engagement),
			"chart-pareto": string(c.Pareto), "chart-clv": string(c.CLV)} {
			if svg == "" {
				if name == "full" || id == "chart-stages" || id == "chart-engagement" {
					t.Errorf("%s: no %s", name, id)
				}
				continue
			}
			wellFormed(t, svg)
			if !strings.Contains(svg, `aria-labelledby="`+id+`"`) {
				t.Errorf("%s: %s not labelled by its caption", name, id)
			}
		}
	}
}

func TestTopShareAndWeeks(t *testing.T) {
	if got := topShare([]ParetoPoint{{0, 0}, {10, 50}, {30, 80}, {100, 100}}); math.Abs(got-65) > 0.01 {
		t.Fatalf("top share %v, want 65 (interpolated between 10%% and 30%%)", got)
	}
	ws := dashboardWeeks(time.Date(2026, 5, 6, 15, 0, 0, 0, time.UTC)) // a Wednesday
	if len(ws) != DashboardWeeks || ws[len(ws)-1] != time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC) ||
		ws[0] != time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("weeks %v … %v", ws[0], ws[len(ws)-1])
	}
	if niceStep(130) != 200 || niceStep(40) != 50 || niceStep(0.3) != 0.5 {
		t.Fatal("nice steps")
	}
}

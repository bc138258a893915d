package crm

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"regexp"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Charts are drawn on the server as SVG (go-chart) and inlined in the page, so the
// dashboard needs no JavaScript. Two things make go-chart's output fit the page:
//   - it writes text unescaped, so every label passes through svgText first (labels are
//     numbers and dates, but escaping does not depend on that);
//   - it styles elements with style="…" attributes, which the page's CSP
//     (style-src 'self') blocks; presentational rewrites them as SVG presentation
//     attributes (fill="…"), which CSP does not govern.
// Series names and titles stay out of the SVG: the page writes captions, legends and
// the data tables in HTML, translated.

// Chart colours, one per stage; hearth.css gives the legend swatches the same ones.
var stageColors = map[Stage]string{
	StageExploration: "1a5fb4", StageGrowth: "1f6f43", StageStable: "6b4fa3",
	StageDecline: "b4441c", StageDormant: "6b7280",
}

const (
	chartWidth  = 640
	chartHeight = 300
	colorInk    = "4f5b6b"
	colorGrid   = "e2ddd5"
	colorBrand  = "b4441c"
	colorBlue   = "1a5fb4"
	colorGreen  = "1f6f43"
)

// svgText escapes a label for the SVG go-chart writes.
func svgText(s string) string { return html.EscapeString(s) }

func chartColor(c string) drawing.Color { return drawing.ColorFromHex(c) }

var (
	styleAttr = regexp.MustCompile(`style="([^"]*)"`)
	svgOpen   = regexp.MustCompile(`^<svg [^>]*viewBox="([0-9 ]+)">`)
	// what a style attribute may become; anything else go-chart writes is dropped
	svgProps = map[string]bool{"stroke": true, "stroke-width": true, "fill": true, "font-size": true}
)

// presentational turns go-chart's style attributes into presentation attributes and
// makes the root an accessible image labelled by the caption with id labelID.
func presentational(svg, labelID string) (template.HTML, error) {
	m := svgOpen.FindStringSubmatch(svg)
	if m == nil {
		return "", fmt.Errorf("chart: unexpected SVG prologue %.60q", svg)
	}
	out := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="` + m[1] + `" class="chart" role="img" focusable="false" aria-labelledby="` +
		html.EscapeString(labelID) + `">` + svg[len(m[0]):]
	out = styleAttr.ReplaceAllStringFunc(out, func(attr string) string {
		var b strings.Builder
		for _, decl := range strings.Split(styleAttr.FindStringSubmatch(attr)[1], ";") {
			k, v, ok := strings.Cut(decl, ":")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || !svgProps[k] {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, `%s="%s"`, k, html.EscapeString(v))
		}
		return b.String()
	})
	return template.HTML(out), nil // #nosec: built from escaped labels and go-chart's own markup
}

func axisStyle() chart.Style {
	return chart.Style{StrokeColor: chartColor(colorGrid), FontColor: chartColor(colorInk), FontSize: 10.5}
}

// compactNumber writes a number short: 950, 1.2k, 3.4M.
func compactNumber(f float64) string {
	switch a := math.Abs(f); {
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", f/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", f/1e3)
	case a == math.Trunc(a):
		return fmt.Sprintf("%.0f", f)
	default:
		return fmt.Sprintf("%.1f", f)
	}
}

// valueAxis is a value axis from 0 to a round bound above top (never 0, which go-chart
// refuses), with about four ticks of a round step; whole keeps counts in whole steps.
func valueAxis(top float64, whole bool) chart.YAxis {
	step := niceStep(math.Max(top, 1) / 5)
	if whole {
		step = math.Max(1, math.Round(step))
	}
	limit := math.Max(step, math.Ceil(top/step)*step)
	var ticks []chart.Tick
	for v := 0.0; v <= limit+step/2; v += step {
		ticks = append(ticks, chart.Tick{Value: v, Label: svgText(compactNumber(v))})
	}
	return chart.YAxis{Style: axisStyle(), Range: &chart.ContinuousRange{Min: 0, Max: limit}, Ticks: ticks,
		GridMajorStyle: chart.Style{StrokeColor: chartColor(colorGrid), StrokeWidth: 1}}
}

// lineSeries is one line of a line chart.
type lineSeries struct {
	color  string
	values []float64
	dashed bool
	xs     []float64 // nil: 0, 1, 2 … (one per label)
}

// lineSVG draws lines over labelled x positions (weeks) or, with xs, over 0–100.
func lineSVG(labelID string, labels []string, y chart.YAxis, series ...lineSeries) (template.HTML, error) {
	ticks := make([]chart.Tick, len(labels))
	for i, l := range labels {
		ticks[i] = chart.Tick{Value: float64(i), Label: svgText(l)}
	}
	xr := &chart.ContinuousRange{Min: 0, Max: math.Max(1, float64(len(labels)-1))}
	ch := chart.Chart{
		Width: chartWidth, Height: chartHeight,
		Background:     chart.Style{Padding: chart.Box{Top: 20, Left: 10, Right: 10, Bottom: 10}},
		XAxis:          chart.XAxis{Style: axisStyle(), Ticks: ticks, Range: xr},
		YAxis:          y,
		YAxisSecondary: chart.HideYAxis(),
	}
	for _, s := range series {
		xs := s.xs
		if xs == nil {
			xs = make([]float64, len(s.values))
			for i := range xs {
				xs[i] = float64(i)
			}
		}
		st := chart.Style{StrokeColor: chartColor(s.color), StrokeWidth: 2.5, DotColor: chartColor(s.color), DotWidth: 3}
		if s.dashed {
			st = chart.Style{StrokeColor: chartColor(s.color), StrokeWidth: 1.5, StrokeDashArray: []float64{5, 4}}
		}
		ch.Series = append(ch.Series, chart.ContinuousSeries{XValues: xs, YValues: s.values, Style: st})
	}
	return render(labelID, ch.Render)
}

// barSVG draws one bar per label.
func barSVG(labelID string, labels []string, values []float64, whole bool, color string) (template.HTML, error) {
	top := 0.0
	bars := make([]chart.Value, len(values))
	for i, v := range values {
		top = math.Max(top, v)
		bars[i] = chart.Value{Value: v, Label: svgText(labels[i]), Style: chart.Style{FillColor: chartColor(color), StrokeColor: chartColor(color)}}
	}
	bw := max(12, min(48, (chartWidth-120)/max(1, len(values))-10))
	ch := chart.BarChart{
		Width: chartWidth, Height: chartHeight, BarWidth: bw,
		Background: chart.Style{Padding: chart.Box{Top: 20, Left: 10, Right: 10, Bottom: 40}},
		XAxis:      axisStyle(),
		YAxis:      valueAxis(top, whole),
		Bars:       bars,
	}
	return render(labelID, ch.Render)
}

func render(labelID string, fn func(chart.RendererProvider, io.Writer) error) (template.HTML, error) {
	var buf bytes.Buffer
	if err := fn(chart.SVG, &buf); err != nil {
		return "", fmt.Errorf("chart %s: %w", labelID, err)
	}
	return presentational(buf.String(), labelID)
}

// DashboardCharts are the dashboard's charts as inline SVG, each labelled by the
// caption whose id is its field name in lower case (chart-stages …).
type DashboardCharts struct {
	Stages     template.HTML
	Engagement template.HTML
	Pareto     template.HTML
	CLV        template.HTML
}

func weekLabel(d StageWeek) string { return d.Week.Format("01-02") }

// Charts draws the dashboard's charts.
func (d *Dashboard) Charts() (*DashboardCharts, error) {
	var out DashboardCharts
	var err error
	labels := make([]string, len(d.Stages))
	top := 0.0
	series := make([]lineSeries, 0, len(Stages))
	for _, st := range Stages {
		s := lineSeries{color: stageColors[st], values: make([]float64, len(d.Stages))}
		for i, w := range d.Stages {
			labels[i] = weekLabel(w)
			s.values[i] = float64(w.Counts[st])
			top = math.Max(top, s.values[i])
		}
		series = append(series, s)
	}
	if out.Stages, err = lineSVG("chart-stages", labels, valueAxis(top, true), series...); err != nil {
		return nil, err
	}
	elabels := make([]string, len(d.Engagement))
	evals := make([]float64, len(d.Engagement))
	for i, w := range d.Engagement {
		elabels[i], evals[i] = w.Week.Format("01-02"), w.Weight
	}
	if out.Engagement, err = barSVG("chart-engagement", elabels, evals, false, colorBrand); err != nil {
		return nil, err
	}
	if len(d.Pareto.Points) > 1 {
		xs := make([]float64, len(d.Pareto.Points))
		ys := make([]float64, len(d.Pareto.Points))
		for i, p := range d.Pareto.Points {
			xs[i], ys[i] = p.MembersPct, p.ValuePct
		}
		pl := []string{"0%", "", "20%", "", "40%", "", "60%", "", "80%", "", "100%"}
		scale := func(v []float64) []float64 { // 0–100 onto the 0–10 tick positions
			o := make([]float64, len(v))
			for i := range v {
				o[i] = v[i] / 10
			}
			return o
		}
		t := d.Pareto.TopShare
		if out.Pareto, err = lineSVG("chart-pareto", pl, valueAxis(100, true),
			lineSeries{color: colorInk, dashed: true, xs: []float64{0, 10}, values: []float64{0, 100}},
			lineSeries{color: colorBrand, dashed: true, xs: []float64{2, 2, 0}, values: []float64{0, t, t}},
			lineSeries{color: colorBlue, xs: scale(xs), values: ys}); err != nil {
			return nil, err
		}
	}
	if len(d.CLV) > 1 {
		cl := make([]string, len(d.CLV))
		cv := make([]float64, len(d.CLV))
		for i, b := range d.CLV {
			cl[i], cv[i] = clvLabel(b), float64(b.Members)
		}
		if out.CLV, err = barSVG("chart-clv", cl, cv, true, colorGreen); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// clvLabel names a CLV bucket: "0" for no value, else its range ("50–100").
func clvLabel(b CLVBucket) string {
	if b.To == 0 {
		return "0"
	}
	return compactNumber(b.From) + "–" + compactNumber(b.To)
}

package crm

import (
	"fmt"
	"math"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/web"
)

func (h *Handlers) apiDashboard(c *fiber.Ctx) error {
	d, err := h.svc.Dashboard(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (h *Handlers) dashboardPage(c *fiber.Ctx) error {
	d, err := h.svc.Dashboard(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	charts, err := d.Charts()
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "crm_dashboard", &web.View{Title: "crm.dash.title",
		Data: &dashboardPage{Dashboard: d, Charts: charts, Lang: web.Lang(c)}})
}

// dashboardPage is what crm_dashboard.html renders; its methods format for the page.
type dashboardPage struct {
	*Dashboard
	Charts *DashboardCharts
	Lang   string
}

// Stages lists the stages in display order (for table columns and legends).
func (p *dashboardPage) StageList() []Stage { return Stages }

// CategoryName is the category's name in the page's language.
func (p *dashboardPage) CategoryName(r ResponseCategory) string {
	if p.Lang == "zh-Hans" && r.NameZh != "" {
		return r.NameZh
	}
	return r.Name
}

// durationText is a duration as a message id and its number ("3.5 h").
type durationText struct{ Key, V string }

// Duration writes seconds in minutes, hours or days, whichever reads best.
func (p *dashboardPage) Duration(sec *float64) *durationText {
	if sec == nil {
		return nil
	}
	switch s := *sec; {
	case s < 60:
		return &durationText{"crm.dash.seconds", fmt.Sprintf("%.0f", math.Ceil(s))}
	case s < 3600:
		return &durationText{"crm.dash.minutes", fmt.Sprintf("%.0f", math.Max(1, math.Round(s/60)))}
	case s < 48*3600:
		return &durationText{"crm.dash.hours", fmt.Sprintf("%.1f", s/3600)}
	default:
		return &durationText{"crm.dash.days", fmt.Sprintf("%.1f", s/86400)}
	}
}

// Deciles reads the Pareto curve at every tenth of members, for the data table.
func (p *dashboardPage) Deciles() []ParetoPoint {
	if len(p.Pareto.Points) < 2 {
		return nil
	}
	out := make([]ParetoPoint, 0, 10)
	for k := 10.0; k <= 100; k += 10 {
		prev := p.Pareto.Points[0]
		for _, pt := range p.Pareto.Points {
			if pt.MembersPct >= k {
				v := pt.ValuePct
				if pt.MembersPct > prev.MembersPct {
					v = prev.ValuePct + (pt.ValuePct-prev.ValuePct)*(k-prev.MembersPct)/(pt.MembersPct-prev.MembersPct)
				}
				out = append(out, ParetoPoint{MembersPct: k, ValuePct: math.Round(v*10) / 10})
				break
			}
			prev = pt
		}
	}
	return out
}

// CLVLabel names a bucket of the CLV distribution.
func (p *dashboardPage) CLVLabel(b CLVBucket) string { return clvLabel(b) }

// AtRiskFrom is the churn risk from which members are listed as at risk.
func (p *dashboardPage) AtRiskFrom() int { return AtRiskChurn }

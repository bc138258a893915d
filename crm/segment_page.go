package crm

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// The rule builder page works without JavaScript: a form of condition rows (field,
// operator, value) joined by "all" or "any". Preview re-renders the page with the live
// count and a sample, "add a condition" with one more row, Save stores the segment.
// A rule with nested groups (built through the API, or by "edit as JSON") is edited
// as JSON in a text area.

// segmentForm is the builder as submitted or as loaded from a saved segment.
type segmentForm struct {
	ID          int64
	Name        string
	Description string
	Match       string
	Rows        []segmentFormRow
	JSON        string // the rule as JSON, when it is edited that way
	RuleError   string // a problem with the rule as a whole (translated)
}

// segmentFormRow is one condition row; Err is its translated problem.
type segmentFormRow struct {
	Field, Op, Value, Err string
}

// segmentPage is what crm_segments.html renders.
type segmentPage struct {
	Form    segmentForm
	Fields  []SegmentField
	Ops     []string
	Preview *SegmentPreview
	Saved   []Segment
	Segment *Segment
}

const (
	formRowsDefault = 3
	formRowsMax     = 20
)

func newSegmentForm() segmentForm {
	return segmentForm{Match: "all", Rows: make([]segmentFormRow, formRowsDefault)}
}

// segmentFormOf loads a saved segment into the builder.
func segmentFormOf(s *Segment) segmentForm {
	f := segmentForm{ID: s.ID, Name: s.Name, Description: s.Description, Match: "all"}
	match, conds, ok := s.Rule.Flat()
	if !ok {
		b, _ := json.MarshalIndent(s.Rule, "", "  ")
		f.JSON = string(b)
		return f
	}
	f.Match = match
	for _, c := range conds {
		f.Rows = append(f.Rows, segmentFormRow{Field: c.Field, Op: c.Op, Value: formText(c.Value)})
	}
	f.Rows = append(f.Rows, segmentFormRow{}) // room for one more
	return f
}

// parseSegmentForm reads the builder from a POST.
func parseSegmentForm(c *fiber.Ctx, id int64) segmentForm {
	f := segmentForm{ID: id, Name: c.FormValue("name"), Description: c.FormValue("description"), Match: "all"}
	if c.FormValue("match") == "any" {
		f.Match = "any"
	}
	if c.FormValue("mode") == "json" {
		f.JSON = c.FormValue("rule_json")
		return f
	}
	n, _ := strconv.Atoi(c.FormValue("rows"))
	n = min(max(n, 1), formRowsMax)
	for i := 0; i < n; i++ {
		k := strconv.Itoa(i)
		f.Rows = append(f.Rows, segmentFormRow{Field: c.FormValue("field_" + k), Op: c.FormValue("op_" + k),
			Value: strings.TrimSpace(c.FormValue("value_" + k))})
	}
	return f
}

// rule builds the Rule; rowOf maps a condition's index to its form row. A rule typed
// as JSON that does not parse is reported on the rule as a whole.
func (f *segmentForm) rule() (r Rule, rowOf []int, err error) {
	if f.JSON != "" {
		if err := json.Unmarshal([]byte(f.JSON), &r); err != nil {
			return r, nil, apperr.New(apperr.Invalid, "error.invalid").WithField("rule", "crm.seg.err.json")
		}
		return r, nil, nil
	}
	conds := []Rule{}
	for i, row := range f.Rows {
		if row.Field == "" {
			continue
		}
		conds = append(conds, Rule{Field: row.Field, Op: row.Op, Value: formValue(row.Field, row.Op, row.Value)})
		rowOf = append(rowOf, i)
	}
	if f.Match == "any" && len(conds) > 0 {
		return Rule{Any: conds}, rowOf, nil
	}
	return Rule{All: conds}, rowOf, nil
}

// formValue turns a typed value into what the field takes: lists split on commas,
// numbers and yes/no parsed. What does not parse is passed on as text, for the
// compiler to refuse with the field's own message.
func formValue(field, op, raw string) any {
	f, ok := segmentField(field)
	if !ok {
		return raw
	}
	switch {
	case f.typ == typeTags || op == OpIn || op == OpNotIn:
		out := []any{}
		for _, p := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == '，' }) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	case f.typ == typeEnum:
		return raw
	case f.typ == typeBool:
		switch strings.ToLower(raw) {
		case "true", "yes", "1", "是":
			return true
		case "false", "no", "0", "否":
			return false
		}
		return raw
	}
	if n, err := strconv.ParseFloat(raw, 64); err == nil {
		return n
	}
	return raw
}

// formText writes a rule value back into the builder's text box.
func formText(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, formText(p))
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return ""
}

var condPath = regexp.MustCompile(`^rule\.(?:all|any)\[(\d+)\]\.(?:field|op|value)$`)

// applyErrors puts the field problems of err onto the form rows and fields; ok is false
// when err is not a validation problem (the caller returns it).
func (h *Handlers) applyErrors(c *fiber.Ctx, f *segmentForm, rowOf []int, err error) (fields map[string]string, summary string, ok bool) {
	var ae *apperr.Error
	if !errors.As(err, &ae) || (ae.Kind != apperr.Invalid && ae.Kind != apperr.Conflict) {
		return nil, "", false
	}
	loc := h.srv.Localizer(c)
	fields = map[string]string{}
	for k, id := range ae.Fields {
		msg := loc.T(id)
		if m := condPath.FindStringSubmatch(k); m != nil && rowOf != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(rowOf) {
				f.Rows[rowOf[i]].Err = msg
				continue
			}
		}
		if strings.HasPrefix(k, "rule") {
			f.RuleError = msg
			continue
		}
		fields[k] = msg
	}
	return fields, loc.T(ae.MessageID), true
}

func (h *Handlers) renderSegments(c *fiber.Ctx, status int, p *segmentPage, fields map[string]string, summary string) error {
	saved, err := h.svc.Segments().List(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	p.Saved, p.Fields, p.Ops = saved, SegmentFields, SegmentOps
	title := "crm.seg.title"
	v := &web.View{Title: title, Data: p, Errors: fields, Error: summary}
	if p.Segment != nil {
		v.Title, v.NoTitleT = p.Segment.Name, true
	}
	return h.srv.RenderView(c, status, "crm_segments", v)
}

func (h *Handlers) segmentsPage(c *fiber.Ctx) error {
	return h.renderSegments(c, fiber.StatusOK, &segmentPage{Form: newSegmentForm()}, nil, "")
}

func (h *Handlers) segmentPage(c *fiber.Ctx) error {
	id, err := segmentID(c)
	if err != nil {
		return err
	}
	seg, preview, err := h.svc.Segments().GetPreview(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return h.renderSegments(c, fiber.StatusOK, &segmentPage{Form: segmentFormOf(seg), Segment: seg, Preview: preview}, nil, "")
}

// segmentSubmit handles the builder's buttons for a new (id 0) or saved segment.
func (h *Handlers) segmentSubmit(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = segmentID(c); err != nil {
			return err
		}
	}
	ctx, segs := c.UserContext(), h.svc.Segments()
	f := parseSegmentForm(c, id)
	page := &segmentPage{Form: f}
	if err := staffOnly(actor(c)); err != nil {
		return err
	}
	if id != 0 {
		seg, err := segs.load(ctx, id)
		if err != nil {
			return err
		}
		page.Segment = seg
	}
	switch c.FormValue("action") {
	case "add_row":
		if len(page.Form.Rows) < formRowsMax && page.Form.JSON == "" {
			page.Form.Rows = append(page.Form.Rows, segmentFormRow{})
		}
		return h.renderSegments(c, fiber.StatusOK, page, nil, "")
	case "as_json":
		r, _, _ := page.Form.rule()
		b, _ := json.MarshalIndent(r, "", "  ")
		page.Form.JSON, page.Form.Rows = string(b), nil
		return h.renderSegments(c, fiber.StatusOK, page, nil, "")
	}
	r, rowOf, err := page.Form.rule()
	if err == nil && c.FormValue("action") == "save" {
		in := SegmentInput{Name: f.Name, Description: f.Description, Rule: r}
		var seg *Segment
		if id == 0 {
			seg, err = segs.Save(ctx, actor(c), in)
		} else {
			seg, err = segs.Update(ctx, actor(c), id, in)
		}
		if err == nil {
			h.srv.SetFlash(c, "crm.seg.saved")
			return c.Redirect("/crm/segments/"+strconv.FormatInt(seg.ID, 10), fiber.StatusSeeOther)
		}
	} else if err == nil {
		page.Preview, err = segs.Preview(ctx, actor(c), r)
	}
	if err != nil {
		fields, summary, ok := h.applyErrors(c, &page.Form, rowOf, err)
		if !ok {
			return err
		}
		return h.renderSegments(c, fiber.StatusUnprocessableEntity, page, fields, summary)
	}
	return h.renderSegments(c, fiber.StatusOK, page, nil, "")
}

func (h *Handlers) segmentDeletePost(c *fiber.Ctx) error {
	id, err := segmentID(c)
	if err != nil {
		return err
	}
	if err := h.svc.Segments().Delete(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	h.srv.SetFlash(c, "crm.seg.deleted")
	return c.Redirect("/crm/segments", fiber.StatusSeeOther)
}

// segmentCountPost is the live count the optional script asks for while the builder
// is edited: the same form, answered with {"count": n} or the API error shape.
func (h *Handlers) segmentCountPost(c *fiber.Ctx) error {
	f := parseSegmentForm(c, 0)
	r, _, err := f.rule()
	if err != nil {
		return err
	}
	n, err := h.svc.Segments().CountRule(c.UserContext(), actor(c), r)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"count": n})
}

package crm

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearth-community/hearth/internal/apperr"
)

// Rule is a segment's condition tree. A node is either a group — {"all":[…]} (every
// condition holds) or {"any":[…]} (at least one does) — or one condition
// {"field","op","value"} over a whitelisted profile field (SegmentFields). Groups nest
// up to MaxRuleDepth. The top-level {"all":[]} (and the zero Rule) is every member.
type Rule struct {
	All   []Rule `json:"all,omitempty"`
	Any   []Rule `json:"any,omitempty"`
	Field string `json:"field,omitempty"`
	Op    string `json:"op,omitempty"`
	Value any    `json:"value,omitempty"`
}

// Limits on a rule, so that a saved segment stays a readable, cheap query.
const (
	MaxRuleDepth      = 4  // nested groups, the top-level group included
	MaxRuleConditions = 40 // conditions in the whole rule
	maxListValues     = 20 // values of one in / contains condition
)

// IsGroup reports whether the node is a group rather than a condition.
func (r Rule) IsGroup() bool { return r.Field == "" && r.Op == "" && r.Value == nil }

// MarshalJSON writes a group as {"all":[…]} or {"any":[…]} even when empty, and a
// condition as {"field","op","value"}.
func (r Rule) MarshalJSON() ([]byte, error) {
	switch {
	case !r.IsGroup():
		return json.Marshal(struct {
			Field string `json:"field"`
			Op    string `json:"op"`
			Value any    `json:"value"`
		}{r.Field, r.Op, r.Value})
	case r.Any != nil:
		return json.Marshal(struct {
			Any []Rule `json:"any"`
		}{r.Any})
	default:
		all := r.All
		if all == nil {
			all = []Rule{}
		}
		return json.Marshal(struct {
			All []Rule `json:"all"`
		}{all})
	}
}

// Flat reports whether the rule is one group of plain conditions (what the page's rule
// builder edits row by row); match is "all" or "any".
func (r Rule) Flat() (match string, conds []Rule, ok bool) {
	if !r.IsGroup() || (r.All != nil && r.Any != nil) {
		return "", nil, false
	}
	match, conds = "all", r.All
	if r.Any != nil {
		match, conds = "any", r.Any
	}
	for _, c := range conds {
		if c.IsGroup() {
			return "", nil, false
		}
	}
	return match, conds, true
}

// fieldType says what values a segment field takes and how they are bound.
type fieldType int

const (
	typeEnum   fieldType = iota // one of a fixed set of strings
	typeInt                     // whole number within [min, max]
	typeNumber                  // any number within [min, max]
	typeMoney                   // amount ≥ 0 (numeric(14,2) columns)
	typeBool                    // true or false
	typeTags                    // lower-case strings, matched against a text[] column
	typeDays                    // days since a timestamp (0 … 36500)
)

// The operators a rule may use. Their meaning per field type is in compileCond.
const (
	OpEq          = "eq"
	OpNe          = "ne"
	OpIn          = "in"
	OpNotIn       = "not_in"
	OpGt          = "gt"
	OpGte         = "gte"
	OpLt          = "lt"
	OpLte         = "lte"
	OpContains    = "contains"     // has every listed value
	OpContainsAny = "contains_any" // has at least one listed value
)

// SegmentOps lists every operator in display order.
var SegmentOps = []string{OpEq, OpNe, OpIn, OpNotIn, OpGt, OpGte, OpLt, OpLte, OpContains, OpContainsAny}

var (
	opsEnum    = []string{OpEq, OpNe, OpIn, OpNotIn}
	opsCompare = []string{OpGt, OpGte, OpLt, OpLte}
	opsInt     = []string{OpEq, OpGt, OpGte, OpLt, OpLte}
	opsBool    = []string{OpEq}
	opsTags    = []string{OpContains, OpContainsAny}
)

// SegmentField is one whitelisted field: the only SQL a rule can reach. expr is an
// expression over crm_segment_filters p (the copy of crm_profiles' rule fields, same
// column names) and users u when users is set; values are always bound as parameters,
// cast to the column's type so its index stays usable. A new profile field joins
// crm_segment_filters and its trigger (migration 00042) before it joins this list.
type SegmentField struct {
	Name  string
	Ops   []string
	Enum  []string // allowed values of an enum field
	typ   fieldType
	expr  string
	day   string // typeDays: the UTC day of expr, kept beside it for indexes (see cond)
	cast  string // SQL type the bound value is cast to
	users bool
	min   float64
	max   float64
}

// Type names the field's value type for documentation and forms: enum, int, number,
// money, bool, tags or days.
func (f SegmentField) Type() string {
	return [...]string{"enum", "int", "number", "money", "bool", "tags", "days"}[f.typ]
}

// Engagement is stored as its value at engagement_at (each profile its own reference
// time until the scheduled refresh re-bases them all), so rules compare the score
// decayed to the moment of the query; the two placeholders take now and the half-life.
const engagementExpr = `coalesce(p.engagement * power(0.5, greatest(0, extract(epoch FROM CAST(? AS timestamptz) - p.engagement_at)) / ?), 0)`

var rfmNames = func() []string {
	out := make([]string, 0, len(rfmRules)+1)
	for _, r := range rfmRules {
		out = append(out, r.name)
	}
	return append(out, "needs_attention")
}()

var stageNames = func() []string {
	out := make([]string, len(Stages))
	for i, s := range Stages {
		out[i] = string(s)
	}
	return out
}()

// SegmentFields is the whitelist, in display order. A new field (partner claims,
// campaign responses …) is one entry here plus its label in static/i18n.
var SegmentFields = []SegmentField{
	{Name: "stage", typ: typeEnum, expr: "p.stage", Ops: opsEnum, Enum: stageNames},
	{Name: "engagement", typ: typeNumber, expr: engagementExpr, cast: "double precision", Ops: opsCompare, max: 1e9},
	{Name: "churn_risk", typ: typeInt, expr: "p.churn_risk", cast: "integer", Ops: opsInt, max: 100},
	{Name: "clv", typ: typeMoney, expr: "p.clv", cast: "numeric", Ops: opsInt, max: 1e12},
	{Name: "clv_percentile", typ: typeInt, expr: "p.clv_percentile", cast: "integer", Ops: opsInt, max: 100},
	{Name: "rfm_segment", typ: typeEnum, expr: "p.rfm_segment", Ops: opsEnum, Enum: rfmNames},
	{Name: "r_score", typ: typeInt, expr: "p.r_score", cast: "integer", Ops: opsInt, max: 5},
	{Name: "f_score", typ: typeInt, expr: "p.f_score", cast: "integer", Ops: opsInt, max: 5},
	{Name: "m_score", typ: typeInt, expr: "p.m_score", cast: "integer", Ops: opsInt, max: 5},
	{Name: "core_member", typ: typeBool, expr: "p.core_member", Ops: opsBool},
	{Name: "advocate", typ: typeBool, expr: "p.advocate", Ops: opsBool},
	{Name: "interests", typ: typeTags, expr: "p.interests", Ops: opsTags},
	{Name: "last_active_days", typ: typeDays, expr: "p.last_event_at", day: "p.last_active_on", Ops: opsCompare, max: 36500},
	{Name: "events_90d", typ: typeInt, expr: "p.events_90d", cast: "integer", Ops: opsInt, max: 1e9},
	{Name: "consent_email", typ: typeBool, expr: "p.consent_email", Ops: opsBool},
	{Name: "consent_inapp", typ: typeBool, expr: "p.consent_inapp", Ops: opsBool},
	{Name: "purchases", typ: typeInt, expr: "p.purchases", cast: "integer", Ops: opsInt, max: 1e9},
	{Name: "purchase_total", typ: typeMoney, expr: "p.purchase_total", cast: "numeric", Ops: opsInt, max: 1e12},
	{Name: "monetary_365d", typ: typeMoney, expr: "p.monetary_365d", cast: "numeric", Ops: opsInt, max: 1e12},
	{Name: "joined_days", typ: typeDays, expr: "u.created_at", users: true, Ops: opsCompare, max: 36500},
	{Name: "role", typ: typeEnum, expr: "u.role", users: true, Ops: opsEnum,
		Enum: []string{"member", "partner", "moderator", "marketer", "admin"}},
}

// segmentField finds a whitelisted field by name.
func segmentField(name string) (SegmentField, bool) {
	for _, f := range SegmentFields {
		if f.Name == name {
			return f, true
		}
	}
	return SegmentField{}, false
}

// compiled is a rule turned into a WHERE clause over crm_segment_filters p (joined to users u
// when users is set); args bind its placeholders in order.
type compiled struct {
	where string
	args  []any
	users bool
}

// compiler walks a rule once, validating and emitting SQL; problems are collected per
// path ("rule.all[2].field") so a form or API client can point at the condition.
type compiler struct {
	now      time.Time
	halfLife time.Duration
	fields   apperr.Fields
	conds    int
	args     []any
	users    bool
}

// compileRule validates a rule and compiles it to a parameterised WHERE clause over
// crm_segment_filters p. now and halfLife bind the time-relative fields (engagement, days).
func compileRule(r Rule, now time.Time, halfLife time.Duration) (compiled, error) {
	c := &compiler{now: now, halfLife: halfLife, fields: apperr.Fields{}}
	var where string
	if r.IsGroup() && len(r.All) == 0 && r.Any == nil {
		where = "TRUE" // every member
	} else {
		where = c.node(r, "rule", 1)
	}
	if err := c.fields.Err(); err != nil {
		return compiled{}, err
	}
	return compiled{where: where, args: c.args, users: c.users}, nil
}

func (c *compiler) node(r Rule, path string, depth int) string {
	if !r.IsGroup() {
		if r.All != nil || r.Any != nil {
			c.fields.Add(path, "crm.seg.err.node")
			return ""
		}
		c.conds++
		if c.conds > MaxRuleConditions {
			c.fields.Add("rule", "crm.seg.err.too_many")
			return ""
		}
		return c.cond(r, path)
	}
	if depth > MaxRuleDepth {
		c.fields.Add(path, "crm.seg.err.too_deep")
		return ""
	}
	if (r.All != nil) == (r.Any != nil) { // neither or both
		c.fields.Add(path, "crm.seg.err.node")
		return ""
	}
	join, key, kids := " AND ", "all", r.All
	if r.Any != nil {
		join, key, kids = " OR ", "any", r.Any
	}
	if len(kids) == 0 {
		c.fields.Add(path+"."+key, "crm.seg.err.empty_group")
		return ""
	}
	parts := make([]string, 0, len(kids))
	for i, k := range kids {
		parts = append(parts, c.node(k, fmt.Sprintf("%s.%s[%d]", path, key, i), depth+1))
	}
	return "(" + strings.Join(parts, join) + ")"
}

// cond compiles one condition. Only the whitelisted expression and fixed SQL reach the
// text; every value is a bound parameter.
func (c *compiler) cond(r Rule, path string) string {
	f, ok := segmentField(r.Field)
	if !ok {
		c.fields.Add(path+".field", "crm.seg.err.unknown_field")
		return ""
	}
	if !slices.Contains(f.Ops, r.Op) {
		c.fields.Add(path+".op", "crm.seg.err.unknown_op")
		return ""
	}
	vpath := path + ".value"
	expr := f.expr
	if f.users {
		c.users = true
	}
	if f.expr == engagementExpr {
		c.args = append(c.args, c.now, c.halfLife.Seconds())
	}
	switch f.typ {
	case typeEnum:
		vals, ok := c.strings(r.Value, r.Op == OpIn || r.Op == OpNotIn, vpath)
		if !ok {
			return ""
		}
		for _, v := range vals {
			if !slices.Contains(f.Enum, v) {
				c.fields.Add(vpath, "crm.seg.err.value_enum")
				return ""
			}
		}
		return c.list(expr, r.Op, vals)
	case typeBool:
		b, ok := r.Value.(bool)
		if !ok {
			c.fields.Add(vpath, "crm.seg.err.value_bool")
			return ""
		}
		c.args = append(c.args, b)
		return expr + " = ?"
	case typeTags:
		vals, ok := c.strings(r.Value, true, vpath)
		if !ok {
			return ""
		}
		// @> and && on the array keep the GIN index crm_segment_filters_interests in play;
		// "= ANY(interests)" would scan every profile.
		op := " @> "
		if r.Op == OpContainsAny {
			op = " && "
		}
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = "CAST(? AS text)"
			c.args = append(c.args, strings.ToLower(v))
		}
		return expr + op + "ARRAY[" + strings.Join(ph, ", ") + "]"
	case typeDays:
		n, ok := c.number(r.Value, f, true, vpath)
		if !ok {
			return ""
		}
		// "more than N days ago" is a timestamp before now − N days; a member never
		// active counts as inactive for any N.
		cutoff := c.now.Add(-time.Duration(n) * 24 * time.Hour)
		cmp := map[string]string{OpGt: " < ", OpGte: " <= ", OpLt: " > ", OpLte: " >= "}[r.Op]
		exact := expr + cmp + "CAST(? AS timestamptz)"
		if f.day != "" {
			// The exact timestamp changes with every event, so no index holds it; its UTC
			// day changes once a day at most and is indexed. The day condition is implied
			// by the exact one (same result), but lets an index drop most non-members
			// before the exact test reads the row.
			dayCmp := map[string]string{OpGt: " <= ", OpGte: " <= ", OpLt: " >= ", OpLte: " >= "}[r.Op]
			c.args = append(c.args, cutoff.UTC().Format(time.DateOnly))
			exact = f.day + dayCmp + "CAST(? AS date) AND " + exact
		}
		c.args = append(c.args, cutoff)
		if r.Op == OpGt || r.Op == OpGte {
			return "(" + exact + " OR " + expr + " IS NULL)"
		}
		return exact
	default: // typeInt, typeNumber, typeMoney
		n, ok := c.number(r.Value, f, f.typ == typeInt, vpath)
		if !ok {
			return ""
		}
		if f.typ == typeInt {
			c.args = append(c.args, int64(n))
		} else {
			c.args = append(c.args, n)
		}
		cmp := map[string]string{OpEq: " = ", OpGt: " > ", OpGte: " >= ", OpLt: " < ", OpLte: " <= "}[r.Op]
		return expr + cmp + "CAST(? AS " + f.cast + ")"
	}
}

// list emits = / <> / IN / NOT IN with one placeholder per value.
func (c *compiler) list(expr, op string, vals []string) string {
	for _, v := range vals {
		c.args = append(c.args, v)
	}
	switch op {
	case OpEq:
		return expr + " = ?"
	case OpNe:
		return expr + " <> ?"
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
	if op == OpNotIn {
		return expr + " NOT IN (" + ph + ")"
	}
	return expr + " IN (" + ph + ")"
}

// strings reads a string value, or a list of them when list is set (a single string
// is a list of one).
func (c *compiler) strings(v any, list bool, path string) ([]string, bool) {
	var raw []any
	switch x := v.(type) {
	case string:
		raw = []any{x}
	case []any:
		if !list {
			c.fields.Add(path, "crm.seg.err.value_string")
			return nil, false
		}
		raw = x
	case []string:
		for _, s := range x {
			raw = append(raw, s)
		}
	default:
		if list {
			c.fields.Add(path, "crm.seg.err.value_list")
		} else {
			c.fields.Add(path, "crm.seg.err.value_string")
		}
		return nil, false
	}
	if len(raw) == 0 || len(raw) > maxListValues {
		c.fields.Add(path, "crm.seg.err.value_list")
		return nil, false
	}
	out := make([]string, 0, len(raw))
	for _, x := range raw {
		s, ok := x.(string)
		s = strings.TrimSpace(s)
		if !ok || s == "" || utf8.RuneCountInString(s) > 64 {
			c.fields.Add(path, "crm.seg.err.value_string")
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// number reads a finite number within the field's range (whole when whole is set).
func (c *compiler) number(v any, f SegmentField, whole bool, path string) (float64, bool) {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case json.Number:
		var err error
		if n, err = x.Float64(); err != nil {
			c.fields.Add(path, "crm.seg.err.value_number")
			return 0, false
		}
	default:
		c.fields.Add(path, "crm.seg.err.value_number")
		return 0, false
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || (whole && n != math.Trunc(n)) {
		c.fields.Add(path, map[bool]string{true: "crm.seg.err.value_int", false: "crm.seg.err.value_number"}[whole])
		return 0, false
	}
	if n < f.min || n > f.max {
		c.fields.Add(path, "crm.seg.err.value_range")
		return 0, false
	}
	return n, true
}

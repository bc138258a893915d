package crm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/apperr"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func mustRule(t *testing.T, js string) Rule {
	t.Helper()
	var r Rule
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return r
}

// TestCompileRuleSQL: each whitelisted kind of condition compiles to the SQL that
// uses its index, with every value bound as a parameter.
func TestCompileRuleSQL(t *testing.T) {
	cases := []struct {
		rule, where string
		args        []any
		users       bool
	}{
		{`{"all":[]}`, `TRUE`, nil, false},
		{`{"all":[{"field":"stage","op":"eq","value":"growth"}]}`, `(p.stage = ?)`, []any{"growth"}, false},
		{`{"any":[{"field":"stage","op":"in","value":["growth","stable"]},{"field":"rfm_segment","op":"not_in","value":["hibernating"]}]}`,
			`(p.stage IN (?, ?) OR p.rfm_segment NOT IN (?))`, []any{"growth", "stable", "hibernating"}, false},
		// GIN-friendly array operators, never = ANY
		{`{"all":[{"field":"interests","op":"contains","value":["X200"," App "]}]}`,
			`(p.interests @> ARRAY[CAST(? AS text), CAST(? AS text)])`, []any{"x200", "app"}, false},
		{`{"all":[{"field":"interests","op":"contains_any","value":"x200"}]}`,
			`(p.interests && ARRAY[CAST(? AS text)])`, []any{"x200"}, false},
		{`{"all":[{"field":"churn_risk","op":"gte","value":50},{"field":"clv","op":"gt","value":99.5}]}`,
			`(p.churn_risk >= CAST(? AS integer) AND p.clv > CAST(? AS numeric))`, []any{int64(50), 99.5}, false},
		{`{"all":[{"field":"consent_email","op":"eq","value":true}]}`, `(p.consent_email = ?)`, []any{true}, false},
		{`{"all":[{"field":"last_active_days","op":"gt","value":30}]}`,
			`((p.last_active_on <= CAST(? AS date) AND p.last_event_at < CAST(? AS timestamptz) OR p.last_event_at IS NULL))`,
			[]any{testNow.AddDate(0, 0, -30).UTC().Format(time.DateOnly), testNow.AddDate(0, 0, -30)}, false},
		{`{"all":[{"field":"last_active_days","op":"lte","value":7}]}`,
			`(p.last_active_on >= CAST(? AS date) AND p.last_event_at >= CAST(? AS timestamptz))`,
			[]any{testNow.AddDate(0, 0, -7).UTC().Format(time.DateOnly), testNow.AddDate(0, 0, -7)}, false},
		{`{"all":[{"field":"joined_days","op":"lt","value":10},{"field":"role","op":"eq","value":"member"}]}`,
			`(u.created_at > CAST(? AS timestamptz) AND u.role = ?)`, []any{testNow.AddDate(0, 0, -10), "member"}, true},
		{`{"all":[{"field":"engagement","op":"gte","value":5}]}`,
			`(` + engagementExpr + ` >= CAST(? AS double precision))`, []any{testNow, DefaultParams.HalfLife.Seconds(), 5.0}, false},
		{`{"all":[{"field":"core_member","op":"eq","value":true},{"any":[{"field":"r_score","op":"eq","value":5},{"field":"advocate","op":"eq","value":true}]}]}`,
			`(p.core_member = ? AND (p.r_score = CAST(? AS integer) OR p.advocate = ?))`, []any{true, int64(5), true}, false},
	}
	for _, c := range cases {
		got, err := compileRule(mustRule(t, c.rule), testNow, DefaultParams.HalfLife)
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if got.where != c.where || got.users != c.users || len(got.args) != len(c.args) {
			t.Errorf("%s:\n got %s %v (users %v)\nwant %s %v", c.rule, got.where, got.args, got.users, c.where, c.args)
			continue
		}
		for i := range c.args {
			if g, w := got.args[i], c.args[i]; g != w {
				if gt, ok := g.(time.Time); !ok || !gt.Equal(w.(time.Time)) {
					t.Errorf("%s: arg %d = %#v, want %#v", c.rule, i, g, w)
				}
			}
		}
		if strings.Contains(got.where, "ANY") {
			t.Errorf("%s compiles to = ANY, which cannot use the GIN index: %s", c.rule, got.where)
		}
	}
}

// TestCompileRuleRefuses: unknown fields and operators, bad values and shapes are
// refused with a message on the condition's path; hostile strings never reach the
// SQL text.
func TestCompileRuleRefuses(t *testing.T) {
	inject := `'; DROP TABLE users; --`
	cases := []struct{ rule, path, msg string }{
		{`{"all":[{"field":"stage","op":"eq","value":"growth"},{"field":"clv","op":"gt","value":1},{"field":"email","op":"eq","value":"x"}]}`,
			"rule.all[2].field", "crm.seg.err.unknown_field"},
		{`{"all":[{"field":"stage","op":"gt","value":"growth"}]}`, "rule.all[0].op", "crm.seg.err.unknown_op"},
		{`{"all":[{"field":"interests","op":"eq","value":"x"}]}`, "rule.all[0].op", "crm.seg.err.unknown_op"},
		{`{"all":[{"field":"stage","op":"like","value":"g%"}]}`, "rule.all[0].op", "crm.seg.err.unknown_op"},
		{`{"all":[{"field":"stage","op":"eq","value":"gold"}]}`, "rule.all[0].value", "crm.seg.err.value_enum"},
		{`{"all":[{"field":"stage","op":"eq","value":["growth"]}]}`, "rule.all[0].value", "crm.seg.err.value_string"},
		{`{"all":[{"field":"stage","op":"in","value":[]}]}`, "rule.all[0].value", "crm.seg.err.value_list"},
		{`{"all":[{"field":"churn_risk","op":"gt","value":"50"}]}`, "rule.all[0].value", "crm.seg.err.value_number"},
		{`{"all":[{"field":"churn_risk","op":"gt","value":50.5}]}`, "rule.all[0].value", "crm.seg.err.value_int"},
		{`{"all":[{"field":"churn_risk","op":"gt","value":101}]}`, "rule.all[0].value", "crm.seg.err.value_range"},
		{`{"all":[{"field":"last_active_days","op":"gt","value":-1}]}`, "rule.all[0].value", "crm.seg.err.value_range"},
		{`{"all":[{"field":"consent_email","op":"eq","value":"yes"}]}`, "rule.all[0].value", "crm.seg.err.value_bool"},
		{`{"all":[{"field":"interests","op":"contains","value":[1]}]}`, "rule.all[0].value", "crm.seg.err.value_string"},
		{`{"all":[{"any":[]}]}`, "rule.all[0].any", "crm.seg.err.empty_group"},
		{`{"all":[{}]}`, "rule.all[0]", "crm.seg.err.node"},
		{`{"all":[{"field":"stage","op":"eq","value":"growth","any":[{"field":"stage","op":"eq","value":"growth"}]}]}`, "rule.all[0]", "crm.seg.err.node"},
		{`{"all":[{"any":[{"all":[{"any":[{"all":[{"field":"stage","op":"eq","value":"growth"}]}]}]}]}]}`, "rule.all[0].any[0].all[0].any[0]", "crm.seg.err.too_deep"},
		{`{"all":[{"field":"` + strings.ReplaceAll(inject, `"`, ``) + `","op":"eq","value":"x"}]}`, "rule.all[0].field", "crm.seg.err.unknown_field"},
		{`{"all":[{"field":"stage","op":"eq; DELETE FROM users","value":"growth"}]}`, "rule.all[0].op", "crm.seg.err.unknown_op"},
		{`{"all":[{"field":"stage","op":"eq","value":"growth' OR '1'='1"}]}`, "rule.all[0].value", "crm.seg.err.value_enum"},
		{`{"all":[{"field":"p.erased","op":"eq","value":true}]}`, "rule.all[0].field", "crm.seg.err.unknown_field"},
	}
	for _, c := range cases {
		_, err := compileRule(mustRule(t, c.rule), testNow, DefaultParams.HalfLife)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.Invalid {
			t.Errorf("%s: err %v, want Invalid", c.rule, err)
			continue
		}
		if ae.Fields[c.path] != c.msg {
			t.Errorf("%s: fields %v, want %s: %s", c.rule, ae.Fields, c.path, c.msg)
		}
	}
	// too many conditions
	many := Rule{All: make([]Rule, MaxRuleConditions+1)}
	for i := range many.All {
		many.All[i] = Rule{Field: "churn_risk", Op: OpGt, Value: 1.0}
	}
	if _, err := compileRule(many, testNow, time.Hour); err == nil || apperr.As(err).Fields["rule"] != "crm.seg.err.too_many" {
		t.Errorf("41 conditions: %v", err)
	}
	// a hostile string as a tag is a valid value: bound, never in the SQL text
	got, err := compileRule(Rule{All: []Rule{{Field: "interests", Op: OpContainsAny, Value: []any{inject}}}}, testNow, time.Hour)
	if err != nil || strings.Contains(got.where, "DROP") || got.args[0] != strings.ToLower(inject) {
		t.Fatalf("tag value: %v %q %v", err, got.where, got.args)
	}
}

// TestRuleJSONRoundTrip: groups stay groups when written back, even empty ones.
func TestRuleJSONRoundTrip(t *testing.T) {
	for _, js := range []string{`{"all":[]}`, `{"any":[{"field":"stage","op":"eq","value":"growth"}]}`,
		`{"all":[{"field":"interests","op":"contains","value":["a","b"]},{"any":[{"field":"clv","op":"gt","value":10}]}]}`} {
		b, err := json.Marshal(mustRule(t, js))
		if err != nil || string(b) != js {
			t.Errorf("%s → %s (%v)", js, b, err)
		}
	}
	if b, _ := json.Marshal(Rule{}); string(b) != `{"all":[]}` {
		t.Errorf("zero rule → %s", b)
	}
	match, conds, ok := mustRule(t, `{"any":[{"field":"stage","op":"eq","value":"growth"}]}`).Flat()
	if !ok || match != "any" || len(conds) != 1 {
		t.Errorf("flat: %v %v %v", match, conds, ok)
	}
	if _, _, ok := mustRule(t, `{"all":[{"any":[{"field":"stage","op":"eq","value":"growth"}]}]}`).Flat(); ok {
		t.Error("a nested rule is not flat")
	}
}

// TestFormValues: the no-JavaScript builder's text boxes become typed values.
func TestFormValues(t *testing.T) {
	cases := []struct {
		field, op, raw string
		want           any
	}{
		{"stage", OpIn, "growth, stable，decline", []any{"growth", "stable", "decline"}},
		{"stage", OpEq, "growth", "growth"},
		{"interests", OpContains, "x200", []any{"x200"}},
		{"churn_risk", OpGte, "50", 50.0},
		{"churn_risk", OpGte, "fifty", "fifty"},
		{"consent_email", OpEq, "是", true},
		{"consent_email", OpEq, "no", false},
	}
	for _, c := range cases {
		got := formValue(c.field, c.op, c.raw)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(c.want)
		if string(gb) != string(wb) {
			t.Errorf("%s %s %q → %s, want %s", c.field, c.op, c.raw, gb, wb)
		}
		if back := formText(got); c.op == OpEq && back != c.raw && c.field != "consent_email" {
			t.Errorf("formText(%v) = %q", got, back)
		}
	}
}

package crm_test

import (
	"strings"
	"testing"

	"github.com/hearth-community/hearth/crm"
)

func TestReadPurchasesCSV(t *testing.T) {
	t.Parallel()
	// a BOM, columns in any order and case, a quoted field spanning two lines (so rows
	// and file lines differ), and a short line
	in := "\ufeffEmail,external_id,Amount,occurred_at,source\n" +
		"bob@example.com,o-1,10.50,2026-01-02,shop\n" +
		"\"al\nice@example.com\",o-2,3,2026-01-03,shop\n" +
		"x@example.com,o-3\n" +
		"carol@example.com, o-4 ,1,2026-01-04,pos\n"
	got, err := crm.ReadPurchasesCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 3 || got.Rows[0].Email != "bob@example.com" || got.Rows[0].Amount != "10.50" || got.Rows[2].ExternalID != "o-4" {
		t.Fatalf("rows: %+v", got.Rows)
	}
	if want := []int{2, 3, 6}; len(got.Lines) != 3 || got.Lines[0] != want[0] || got.Lines[1] != want[1] || got.Lines[2] != want[2] {
		t.Fatalf("lines %v, want %v", got.Lines, want)
	}
	if len(got.Problems) != 1 || got.Problems[0].Line != 5 || got.Problems[0].MessageID != "crm.import.bad_row" {
		t.Fatalf("problems: %+v", got.Problems)
	}
}

func TestReadCSVHeaderProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     []string // column:message id
	}{
		{"missing", "email,amount\n", []string{"external_id:crm.import.missing_column", "occurred_at:crm.import.missing_column"}},
		{"unknown", "external_id,email,amount,occurred_at,colour\n", []string{"colour:crm.import.unknown_column"}},
		{"no member column", "external_id,amount,occurred_at\n", []string{"email:crm.import.missing_column"}},
		{"twice", "external_id,email,amount,occurred_at,amount\n", []string{"amount:crm.import.duplicate_column"}},
		{"empty", "", []string{":crm.import.empty"}},
		{"header only", "external_id,email,amount,occurred_at\n", []string{":crm.import.empty"}},
	}
	for _, c := range cases {
		got, err := crm.ReadPurchasesCSV(strings.NewReader(c.in))
		if err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, p := range got.Problems {
			ps = append(ps, p.Column+":"+p.MessageID)
		}
		if strings.Join(ps, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: %v, want %v", c.name, ps, c.want)
		}
	}
}

func TestReadAttributesCSV(t *testing.T) {
	t.Parallel()
	got, err := crm.ReadAttributesCSV(strings.NewReader("email,external_id,Tier,ltv\nbob@example.com,SF-1,gold,\n,SF-2,,12\n"))
	if err != nil || len(got.Problems) != 0 || len(got.Rows) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	r := got.Rows[0]
	if r.ExternalID != "SF-1" || r.Attributes["Tier"] != "gold" || len(r.Attributes) != 1 {
		t.Fatalf("row 0: %+v (empty cells leave attributes alone)", r)
	}
	if got.Rows[1].Email != "" || got.Rows[1].Attributes["ltv"] != "12" {
		t.Fatalf("row 1: %+v", got.Rows[1])
	}
	bad, _ := crm.ReadAttributesCSV(strings.NewReader("name,tier level\nx,y\n"))
	if len(bad.Problems) != 2 {
		t.Fatalf("header problems: %+v", bad.Problems)
	}
}

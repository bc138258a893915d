package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/testenv"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportCommand: `hearth import` reports every problem of a bad file by line and
// column and writes nothing; a good file is imported behind a progress bar, and
// importing it again skips every row instead of counting it twice.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.URL(t)
	g := testenv.Open(t, url)
	for _, email := range []string{"ann@example.com", "ben@example.com"} {
		if err := g.Exec(`INSERT INTO users (email, password_hash, display_name, handle) VALUES (?, '!', ?, ?)`, email, email, strings.Split(email, "@")[0]).Error; err != nil {
			t.Fatal(err)
		}
	}
	getenv := envFor(t, url, nil)
	count := func(q string) (n int64) {
		g.Raw(q).Scan(&n)
		return n
	}

	bad := writeFile(t, "bad.csv", "external_id,email,amount,occurred_at\n"+
		"o-1,ann@example.com,10.00,2025-01-02\n"+
		"o-2,nobody@example.com,5,2025-01-02\n"+
		"o-3,ben@example.com,ten,2025-01-02\n"+
		"o-4,ben@example.com\n")
	out, err := runOut(t, ctx, getenv, "import", "purchases", bad)
	if err == nil || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("bad file accepted: %v\n%s", err, out)
	}
	for _, want := range []string{"3 problem(s)", "3  email", "No member matches this.", "4  amount", "Not a valid amount",
		"5", "This line cannot be read"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if n := count(`SELECT count(*) FROM crm_purchases`); n != 0 {
		t.Fatalf("a bad file wrote %d purchases", n)
	}

	good := writeFile(t, "orders.csv", "external_id,email,amount,currency,occurred_at,source\n"+
		"o-1,ann@example.com,10.00,EUR,2025-01-02T10:00:00Z,shop\n"+
		"o-2,ben@example.com,5.25,,2025-01-03,\n"+
		"o-1,ann@example.com,10.00,EUR,2025-01-02T10:00:00Z,shop\n"+
		"o-3,ANN@example.com,1,,2025-01-04,pos\n")
	out, err = runOut(t, ctx, getenv, "import", "purchases", good, "--dry-run")
	if err != nil || !strings.Contains(out, "would import (dry run, nothing written) 3") || count(`SELECT count(*) FROM crm_purchases`) != 0 {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = runOut(t, ctx, getenv, "import", "purchases", good)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, "imported 3") || !strings.Contains(out, "importing purchases") || !strings.Contains(out, "100%") ||
		!strings.Contains(out, "line 4 (o-1, duplicate in batch)") {
		t.Fatalf("import output (summary and progress bar):\n%s", out)
	}
	var total float64
	g.Raw(`SELECT purchase_total FROM crm_profiles p JOIN users u ON u.id = p.member_id WHERE u.email = 'ann@example.com'`).Scan(&total)
	if n := count(`SELECT count(*) FROM crm_events WHERE kind = 'shop.purchase'`); n != 3 || total != 11 {
		t.Fatalf("events %d, ann's purchase total %.2f", n, total)
	}
	out, err = runOut(t, ctx, getenv, "import", "purchases", good)
	if err != nil || !strings.Contains(out, "imported 0") || !strings.Contains(out, "skipped 4") ||
		count(`SELECT count(*) FROM crm_events WHERE kind = 'shop.purchase'`) != 3 {
		t.Fatalf("second import: %v\n%s", err, out)
	}

	attrs := writeFile(t, "crm.csv", "email,external_id,tier\nann@example.com,SF-1,gold\nben@example.com,SF-2,silver\n")
	if out, err = runOut(t, ctx, getenv, "import", "attributes", attrs); err != nil || !strings.Contains(out, "imported 2") {
		t.Fatalf("attributes: %v\n%s", err, out)
	}
	var tier string
	g.Raw(`SELECT attributes->>'tier' FROM crm_profiles WHERE external_id = 'SF-2'`).Scan(&tier)
	if tier != "silver" {
		t.Fatalf("ben's tier %q", tier)
	}
	missing := writeFile(t, "m.csv", "email,amount\nann@example.com,1\n")
	if out, err = runOut(t, ctx, getenv, "import", "purchases", missing); err == nil || !strings.Contains(out, "external_id") ||
		!strings.Contains(out, "A required column is missing.") {
		t.Fatalf("missing columns: %v\n%s", err, out)
	}
	if _, err = runOut(t, ctx, getenv, "import", "orders", good); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("unknown import: %v", err)
	}
}

package app_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

func seed(t *testing.T, e *testenv.AppEnv) error {
	return demo.Seed(context.Background(), e.Auth, e.Forums, e.Partners, io.Discard)
}

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	var out strings.Builder
	for i := 0; i < 2; i++ {
		out.Reset()
		if err := demo.Seed(context.Background(), e.Auth, e.Forums, e.Partners, &out); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if err := demo.SeedContent(context.Background(), e.Auth, e.Forum); err != nil {
			t.Fatalf("seed content %d: %v", i, err)
		}
	}
	counts := map[string]int64{}
	for _, tbl := range []string{"users", "forum_categories", "partner_companies", "forum_threads", "forum_posts", "forum_reactions"} {
		var n int64
		e.DB.Raw("SELECT count(*) FROM " + tbl).Scan(&n)
		counts[tbl] = n
	}
	if counts["users"] != int64(len(demo.Logins)) || counts["forum_categories"] != 5 || counts["partner_companies"] != 1 ||
		counts["forum_threads"] != 6 || counts["forum_posts"] != 11 || counts["forum_reactions"] != 7 {
		t.Fatalf("after two seeds: %v", counts)
	}
	var roles []string
	e.DB.Raw("SELECT DISTINCT role FROM users ORDER BY role").Scan(&roles)
	if strings.Join(roles, ",") != "admin,marketer,member,moderator,partner" {
		t.Fatalf("roles seeded: %v", roles)
	}
	var zh int64
	e.DB.Raw("SELECT count(*) FROM users WHERE display_name ~ '[\u4e00-\u9fff]'").Scan(&zh)
	if zh < 2 {
		t.Fatalf("members with Chinese names: %d", zh)
	}
	if !strings.Contains(out.String(), "admin@demo.hearth.local") || !strings.Contains(out.String(), demo.Password) {
		t.Fatalf("logins not printed: %s", out.String())
	}
	e.Login(t, "partner@demo.hearth.local", demo.Password)
}

func TestDemoContentHasAnAcceptedAnswer(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	if err := seed(t, e); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedContent(context.Background(), e.Auth, e.Forum); err != nil {
		t.Fatal(err)
	}
	var solved, zh int64
	e.DB.Raw("SELECT count(*) FROM forum_threads WHERE accepted_post_id IS NOT NULL").Scan(&solved)
	e.DB.Raw("SELECT count(*) FROM forum_threads WHERE title ~ '[\u4e00-\u9fff]'").Scan(&zh)
	if solved != 1 || zh == 0 {
		t.Fatalf("solved=%d chinese=%d", solved, zh)
	}
	if p := e.Page(t, "/"); !strings.Contains(string(p.Body), "Welcome to the Hearth community!") {
		t.Fatal("home page does not list the demo threads")
	}
}

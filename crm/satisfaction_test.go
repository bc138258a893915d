package crm_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/hearth-community/hearth/internal/demo"
)

// TestCSATAndNPS: the asker rates the accepted answer (satisfaction), answers the NPS
// survey, and both land on their profile after a refresh; others may not rate.
func TestCSATAndNPS(t *testing.T) {
	t.Parallel()
	e := demoApp(t)
	// demo thread 2 is alice's solved question
	bob, _ := e.Login(t, "bob@demo.hearth.local", demo.Password)
	if r := e.API(t, http.MethodPut, "/api/v1/threads/2/rating", map[string]bool{"helpful": true}, bob); r.Status != 403 {
		t.Fatalf("non-asker rating: %d", r.Status)
	}
	alice, _ := e.Login(t, "alice@demo.hearth.local", demo.Password)
	if r := e.API(t, http.MethodPut, "/api/v1/threads/2/rating", map[string]bool{"helpful": true}, alice); r.Status != 200 {
		t.Fatalf("rating: %d %s", r.Status, r.Body)
	}
	// an unsolved question cannot be rated
	if r := e.API(t, http.MethodPut, "/api/v1/threads/6/rating", map[string]bool{"helpful": true}, alice); r.Status == 200 {
		t.Fatal("rated a question that is not hers or not solved")
	}
	for _, bad := range []any{map[string]int{"score": 11}, map[string]int{"score": -1}, map[string]string{}} {
		if r := e.API(t, http.MethodPost, "/api/v1/me/nps", bad, alice); r.Status != 422 {
			t.Fatalf("nps %v: %d", bad, r.Status)
		}
	}
	if r := e.API(t, http.MethodPost, "/api/v1/me/nps", map[string]int{"score": 9}, alice); r.Status != 204 {
		t.Fatalf("nps: %d %s", r.Status, r.Body)
	}
	id := userID(t, e, "alice@demo.hearth.local")
	if err := e.CRM.RefreshMember(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	r := e.API(t, http.MethodGet, "/api/v1/me/data", nil, alice)
	p := r.JSON(t)["profile"].(map[string]any)
	if p["csat"] != 100.0 || p["nps"] != 9.0 {
		t.Fatalf("csat %v nps %v (%s)", p["csat"], p["nps"], strconv.Quote(string(r.Body[:200])))
	}
	// changing her mind replaces the rating rather than adding one
	e.API(t, http.MethodPut, "/api/v1/threads/2/rating", map[string]bool{"helpful": false}, alice)
	var n int64
	e.DB.Raw(`SELECT count(*) FROM forum_answer_ratings WHERE thread_id = 2`).Scan(&n)
	if n != 1 {
		t.Fatalf("ratings rows %d", n)
	}
	if err := e.CRM.RefreshMember(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	p = e.API(t, http.MethodGet, "/api/v1/me/data", nil, alice).JSON(t)["profile"].(map[string]any)
	if p["csat"] != 0.0 {
		t.Fatalf("csat after changing her answer: %v, want 0 (latest rating counts)", p["csat"])
	}
}

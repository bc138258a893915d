package search_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-community/hearth/internal/browsertest"
	"github.com/hearth-community/hearth/internal/demo"
)

// waitVisible polls until sel is visible (the script fetches after a debounce).
func waitVisible(t *testing.T, p *browsertest.Page, sel string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if p.Visible(sel) {
			return
		}
	}
	t.Fatalf("%s never became visible: %s", sel, p.BodyText())
}

func browserLogIn(p *browsertest.Page, base, who string) {
	p.Visit(base + "/login")
	p.Fill("#f-email", who+"@demo.hearth.local")
	p.Fill("#f-password", demo.Password)
	p.Click("#login-submit")
}

// TestSuggestionsAndSimilarInTheBrowser drives search.js in Chromium: suggestions
// under the header box (from the categories the member may read), similar threads on
// the compose page with the solved one first, and the plain form submit to /search.
func TestSuggestionsAndSimilarInTheBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	solved := e.thread(t, "bob", "questions", "Headset microphone crackles on calls", "It crackles.")
	ans := e.reply(t, "alice", solved.ID, "Update the firmware.")
	if _, err := e.Forum.Accept(ctx, e.actor("bob"), solved.ID, ans.ID); err != nil {
		t.Fatal(err)
	}
	e.thread(t, "wang", "questions", "Headset microphone too quiet", "Too quiet.")
	e.thread(t, "moderator", "staff", "Headset recall plan (staff only)", "Internal.")
	e.settle(t)
	base := e.Listen(t)
	b := browsertest.New(t)

	visitor := b.NewPage(t)
	visitor.Visit(base + "/")
	visitor.Fill("#header-q", "headset micro")
	waitVisible(t, visitor, "#header-suggest li")
	if got := visitor.Text("#header-suggest"); !strings.Contains(got, "Headset microphone crackles") || strings.Contains(got, "recall") {
		t.Errorf("visitor suggestions: %q", got)
	}
	if got := visitor.Attr("#header-q", "aria-expanded"); got != "true" {
		t.Errorf("aria-expanded = %q", got)
	}
	// Without waiting for suggestions the form itself submits to the search page.
	if st := visitor.Click("#header-search-submit"); st != 200 || visitor.Path() != "/search" || !visitor.Has(".result mark") {
		t.Fatalf("header search: %d %s", st, visitor.URL())
	}

	mod := b.NewPage(t)
	browserLogIn(mod, base, "moderator")
	mod.Fill("#header-q", "headset")
	waitVisible(t, mod, "#header-suggest li")
	if got := mod.Text("#header-suggest"); !strings.Contains(got, "recall plan") {
		t.Errorf("moderator suggestions lack the staff thread: %q", got)
	}

	alice := b.NewPage(t)
	browserLogIn(alice, base, "alice")
	alice.Visit(base + "/new?category=questions")
	if alice.Visible("#similar") {
		t.Error("similar box shown before a title is typed")
	}
	alice.Fill("#f-title", "My headset microphone crackles")
	waitVisible(t, alice, "#similar li")
	first := alice.Text("#similar li")
	if !strings.Contains(first, "Headset microphone crackles on calls") || !strings.Contains(first, "✓") {
		t.Errorf("similar threads, solved first: %q", alice.Text("#similar"))
	}
	for _, p := range []*browsertest.Page{visitor, mod, alice} {
		p.NoConsoleErrors()
	}
}

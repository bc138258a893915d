package browsertest_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/internal/browsertest"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/testenv"
)

// demoSite serves a fresh Hearth with the demo accounts and categories.
func demoSite(t *testing.T) (*testenv.AppEnv, string) {
	t.Helper()
	env, base := site(t)
	if err := demo.Seed(context.Background(), env.Auth, env.Forums, env.Partners, io.Discard); err != nil {
		t.Fatal(err)
	}
	return env, base
}

// TestAskReplyReactAccept walks the forum's core loop through the real pages, without
// JavaScript: a member asks, another answers, the asker likes and accepts the answer.
func TestAskReplyReactAccept(t *testing.T) {
	t.Parallel()
	_, base := demoSite(t)
	b := browsertest.New(t)

	alice := b.NewPage(t)
	logIn(alice, base, "alice@demo.hearth.local", demo.Password)
	alice.Visit(base + "/new?category=questions")
	alice.Fill("#f-title", "Which charger works with the X200?")
	alice.Fill("#f-body", "Is a **USB-C** phone charger safe?\n\n<script>alert(1)</script>")
	alice.Fill("#f-tags", "x200, charging")
	alice.ClickOnly(`input[name="kind"][value="question"]`)
	if st := alice.Click("#compose-submit"); st != 200 || !strings.HasPrefix(alice.Path(), "/t/") {
		t.Fatalf("after posting: %d %s: %s", st, alice.URL(), alice.BodyText())
	}
	threadURL := alice.URL()
	if got := alice.Text("#thread-title"); got != "Which charger works with the X200?" {
		t.Fatalf("thread title %q", got)
	}
	if got := alice.Text("#post-1 .post-body strong"); got != "USB-C" {
		t.Errorf("markdown not rendered: %q", got)
	}
	if alice.Has("#post-1 .post-body script") {
		t.Fatal("script survived into the page")
	}

	bob := b.NewPage(t)
	logIn(bob, base, "bob@demo.hearth.local", demo.Password)
	bob.Visit(threadURL)
	bob.Fill("#f-body", "Yes, any 5 V USB-C charger works. @alice")
	bob.Click("#reply-submit")
	if !bob.Has("#post-2") || !strings.Contains(bob.Text("#post-2 .post-body"), "5 V USB-C") {
		t.Fatalf("reply not shown: %s", bob.BodyText())
	}
	if got := bob.Attr("#post-2 a.mention", "href"); got != "/u/alice" {
		t.Errorf("mention link = %q", got)
	}

	// alice sees the reply as new, likes it and accepts it
	alice.Visit(base + "/")
	if !strings.Contains(alice.Text(".thread-row"), "1 new") {
		t.Errorf("home page does not show the unread reply: %q", alice.Text(".thread-row"))
	}
	alice.Click(".thread-row .thread-title")
	if !strings.Contains(alice.URL(), "#post-2") {
		t.Errorf("opening the thread did not go to the first unread reply: %s", alice.URL())
	}
	alice.Click(`#post-2 form[action$="/react"] button[aria-label="Like"]`)
	if got := alice.Attr(`#post-2 button[aria-label="Like"]`, "aria-pressed"); got != "true" {
		t.Errorf("like not pressed after clicking: %q", got)
	}
	alice.Click(`#post-2 form[action$="/accept"] button`)
	if !alice.Has("#post-2.accepted") || !strings.Contains(alice.Text(".badges"), "Solved") {
		t.Fatalf("answer not accepted: %s", alice.BodyText())
	}
	// bob's reputation: +1 for the like, +15 for the accepted answer
	bob.Visit(base + "/u/bob")
	if got := bob.Text("#reputation"); got != "16" {
		t.Errorf("bob's reputation = %s, want 16", got)
	}
	alice.NoConsoleErrors()
	bob.NoConsoleErrors()
}

// TestComposeErrorsInChinese: a too-short title is refused next to the field, in the
// member's language, and what was typed is kept.
func TestComposeErrorsInChinese(t *testing.T) {
	t.Parallel()
	_, base := demoSite(t)
	b := browsertest.New(t)
	wang := b.NewPage(t)
	logIn(wang, base, "wang@demo.hearth.local", demo.Password)
	wang.Visit(base + "/new")
	if got := wang.Text(`label[for="f-title"]`); got != "标题" {
		t.Fatalf("compose page not in Chinese: label %q", got)
	}
	wang.Fill("#f-title", "太短")
	wang.Fill("#f-body", "正文内容")
	if st := wang.Click("#compose-submit"); st != 422 {
		t.Errorf("status %d, want 422", st)
	}
	if got := wang.Text("#f-title-error"); !strings.Contains(got, "至少 8 个字符") {
		t.Errorf("title error %q", got)
	}
	if got := wang.Value("#f-body"); got != "正文内容" {
		t.Errorf("body not kept: %q", got)
	}
	wang.Screenshot("compose-error-zh")
}

// TestModeratorHidesReply: a hidden reply disappears for members and visitors.
func TestModeratorHidesReply(t *testing.T) {
	t.Parallel()
	env, base := demoSite(t)
	if err := demo.SeedContent(context.Background(), env.Auth, env.Forum); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	mod := b.NewPage(t)
	logIn(mod, base, "moderator@demo.hearth.local", demo.Password)
	mod.Visit(base + "/t/2/x")
	if !mod.Has("#post-3") {
		t.Fatalf("demo thread 2 lacks a third post: %s", mod.BodyText())
	}
	mod.Click(`#post-3 button[value="hide"]`)
	if !mod.Has("#post-3.muted") {
		t.Fatalf("moderator no longer sees the hidden reply as hidden: %s", mod.BodyText())
	}
	visitor := b.NewPage(t)
	visitor.Visit(base + "/t/2/x")
	if visitor.Has("#post-3") || strings.Contains(visitor.BodyText(), "manual, page 12") {
		t.Fatal("visitor sees the hidden reply")
	}
	if visitor.Has(`button[value="hide"]`) {
		t.Fatal("visitor is offered moderation buttons")
	}
}

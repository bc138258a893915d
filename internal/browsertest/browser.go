// Package browsertest drives a real headless Chromium (Debian's chromium package)
// against a running Hearth server, so a test sees what a member sees: the rendered
// templates and CSS, cookies, redirects, forms and the browser console.
//
//	env := testenv.NewApp(t)
//	base := env.Listen(t)
//	b := browsertest.New(t)
//	b.Visit(base + "/login")
//	b.Fill("#f-email", "ada@example.com")
//	b.Click("#login-submit") // waits for the page the form loads
//
// A Browser is one Chromium process for one test; each Page is a tab in its own
// browser context (its own cookie jar), because every test server listens on
// 127.0.0.1 and cookies do not tell ports apart.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// TestTimeout bounds the whole browser session of one test.
	TestTimeout = 60 * time.Second
	// StepTimeout bounds one step (a page load, a wait for an element), so a
	// missing element fails with its selector rather than the test's deadline.
	StepTimeout = 10 * time.Second

	// Width and Height are the viewport every page is laid out in.
	Width, Height = 1280, 900

	defaultChromium = "/usr/bin/chromium"
	howTo           = "run the tests with `make test`, which installs Debian's chromium and fonts-noto-cjk " +
		"(scripts/setup.sh --browser) and sets HEARTH_CHROMIUM"
)

// Browser is a headless Chromium for one test. Its embedded Page is the first tab,
// so a test that needs one visitor calls the Page methods on it directly.
type Browser struct {
	*Page
	root  context.Context // the browser; tabs are its children
	pages int
}

// ExecPath is the Chromium the tests run: $HEARTH_CHROMIUM, else /usr/bin/chromium.
// It fails the test when neither exists; a browser test never skips.
func ExecPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HEARTH_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("HEARTH_CHROMIUM=%s: %v; %s", p, err, howTo)
		}
		return p
	}
	if _, err := os.Stat(defaultChromium); err != nil {
		t.Fatalf("no Chromium: HEARTH_CHROMIUM is not set and %s is missing; %s", defaultChromium, howTo)
	}
	return defaultChromium
}

// New starts headless Chromium with a fresh profile and opens its first page. The
// browser is closed when the test ends, and killed after TestTimeout (or the test
// binary's deadline, if sooner).
func New(t testing.TB) *Browser {
	t.Helper()
	exe := ExecPath(t)
	dir, err := os.MkdirTemp("", "hearth-chromium-")
	if err != nil {
		t.Fatalf("profile dir: %v", err)
	}
	deadline := time.Now().Add(TestTimeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Before(deadline) {
			deadline = td.Add(-2 * time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	out := &lockedBuffer{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate"),
		chromedp.Flag("password-store", "basic"),
		// Pages start in English whatever the machine's locale; tests switch on purpose.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(Width, Height),
		chromedp.CombinedOutput(out),
	)
	root, cancelRoot := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc() // waits for the process to exit
		cancel()
		_ = os.RemoveAll(dir)
	})
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, tail(out.String(), 2000))
	}
	b := &Browser{root: root}
	b.Page = b.NewPage(t)
	return b
}

// Page is one tab in its own browser context (no cookies shared with other pages).
// Its methods fail the test they were opened in, so use a page only from that test's
// goroutine. Failures name the step, the current URL and the start of the page text.
type Page struct {
	t        testing.TB
	ctx      context.Context
	name     string // "page 1", "page 2" … in failure messages
	console  *console
	reported bool // a failure message already described the page
}

// NewPage opens another tab with its own cookies: a second visitor or member.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Width, Height)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	b.pages++
	p := &Page{t: t, ctx: ctx, name: fmt.Sprintf("page %d", b.pages), console: newConsole(ctx)}
	t.Cleanup(p.failed) // runs before cancel: cleanups run last-in first-out
	return p
}

// Ctx is the tab's chromedp context, for actions the helpers do not cover.
func (p *Page) Ctx() context.Context { return p.ctx }

// tail keeps the last n runes of s, or with n < 0 the first -n: a page's useful
// text is at the top, a crashed browser's reason at the bottom of its output.
func tail(s string, n int) string {
	r := []rune(s)
	switch {
	case n < 0 && len(r) > -n:
		return string(r[:-n]) + "…"
	case n > 0 && len(r) > n:
		return "…" + string(r[len(r)-n:])
	}
	return s
}

// lockedBuffer collects Chromium's output, written from chromedp's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Visit loads url and returns the HTTP status of the document.
func (p *Page) Visit(url string) int {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.fatalf("visit %s: %v", url, p.explain(ctx, err))
	}
	return p.status(resp)
}

// Reload reloads the page and returns the HTTP status of the document.
func (p *Page) Reload() int {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Reload())
	if err != nil {
		p.fatalf("reload: %v", p.explain(ctx, err))
	}
	return p.status(resp)
}

// Click clicks the first visible element matching the CSS selector and waits for
// the page the click loads (a link, a form's submit button), returning its HTTP
// status after redirects. Use ClickOnly for a click that stays on the page.
func (p *Page) Click(sel string) int {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.fatalf("click %s (and wait for the next page): %v", sel, p.explain(ctx, err))
	}
	return p.status(resp)
}

// ClickOnly clicks the first visible element matching the CSS selector and does not
// wait for a navigation.
func (p *Page) ClickOnly(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Fill replaces the value of an input or textarea by typing value into it, and
// fails if the field then holds something else (a maxlength, a script).
func (p *Page) Fill(sel, value string) {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	msg := p.eval("clear "+sel, `(() => {
		const el = document.querySelector(`+jsString(sel)+`);
		if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)) return "not an input or textarea";
		el.value = "";
		return "";
	})()`)
	if msg != "" {
		p.fatalf("fill %s: %s", sel, msg)
	}
	p.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
	if got := p.Value(sel); got != value {
		p.fatalf("fill %s: typed %q but the field holds %q", sel, value, got)
	}
}

// SetSelect chooses the option with the given value in a <select>, as a member
// picking it would (input and change events fire). It fails when no such option exists.
func (p *Page) SetSelect(sel, value string) {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	msg := p.eval("select "+value+" in "+sel, `(() => {
		const el = document.querySelector(`+jsString(sel)+`), v = `+jsString(value)+`;
		if (!(el instanceof HTMLSelectElement)) return "not a <select>";
		const opts = [...el.options].map(o => o.value);
		if (!opts.includes(v)) return "no option " + JSON.stringify(v) + "; options: " + JSON.stringify(opts);
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return "";
	})()`)
	if msg != "" {
		p.fatalf("select %q in %s: %s", value, sel, msg)
	}
}

// Text is the visible text (innerText) of the first element matching the CSS
// selector, waiting up to StepTimeout for it to appear.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.fatalf("text of %s: %v", sel, p.explain(ctx, err))
	}
	return strings.TrimSpace(s)
}

// Value is the current value of an input, textarea or select.
func (p *Page) Value(sel string) string {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		p.fatalf("value of %s: %v", sel, p.explain(ctx, err))
	}
	return s
}

// Attr is an attribute of the first element matching the CSS selector ("" when the
// attribute is absent), waiting up to StepTimeout for the element.
func (p *Page) Attr(sel, name string) string {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	return p.eval("attribute "+name+" of "+sel,
		`document.querySelector(`+jsString(sel)+`)?.getAttribute(`+jsString(name)+`) ?? ""`)
}

// Has reports whether an element matches the CSS selector now, without waiting.
func (p *Page) Has(sel string) bool {
	p.t.Helper()
	return p.eval("look for "+sel, `String(document.querySelector(`+jsString(sel)+`) !== null)`) == "true"
}

// Visible reports whether the first element matching the CSS selector is rendered
// and visible now (not display:none, visibility:hidden or transparent), without waiting.
func (p *Page) Visible(sel string) bool {
	p.t.Helper()
	return p.eval("look at "+sel, `String(document.querySelector(`+jsString(sel)+`)
		?.checkVisibility({opacityProperty: true, visibilityProperty: true}) ?? false)`) == "true"
}

// Rect is where an element is laid out, in CSS pixels from the top left of the page.
type Rect struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Bottom is the page coordinate of the rectangle's lower edge.
func (r Rect) Bottom() float64 { return r.Y + r.Height }

// Box is the layout rectangle of the first element matching the CSS selector, for
// assertions about layout (this error sits under that field).
func (p *Page) Box(sel string) Rect {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	ctx, cancel := p.step()
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[Rect](`(() => {
		const r = document.querySelector(`+jsString(sel)+`).getBoundingClientRect();
		return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height};
	})()`))
	if err != nil {
		p.fatalf("box of %s: %v", sel, p.explain(ctx, err))
	}
	return r
}

// URL is the address of the current page.
func (p *Page) URL() string {
	p.t.Helper()
	return p.eval("read the URL", `location.href`)
}

// Path is the path of the current page, such as "/login".
func (p *Page) Path() string {
	p.t.Helper()
	return p.eval("read the path", `location.pathname`)
}

// BodyText is the visible text of the whole page.
func (p *Page) BodyText() string {
	p.t.Helper()
	return p.eval("read the page text", `document.body ? document.body.innerText : ""`)
}

// Screenshot writes a full-page PNG named name+".png" into $HEARTH_SCREENSHOTS when
// that variable names a directory, and does nothing otherwise.
func (p *Page) Screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("HEARTH_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := p.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fatalf("screenshot %s: %v", name, p.explain(ctx, err))
	}
	if err := writeShot(dir, name, png); err != nil {
		p.fatalf("screenshot %s: %v", name, err)
	}
}

// ConsoleErrors are the console errors and uncaught exceptions the page reported so
// far (console.error, exceptions, failed sub-resources, CSP violations).
func (p *Page) ConsoleErrors() []string {
	p.t.Helper()
	p.console.sync(p)
	return p.console.errors()
}

// NoConsoleErrors fails the test (without stopping it) if the page reported any
// console error or uncaught exception.
func (p *Page) NoConsoleErrors() {
	p.t.Helper()
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		p.t.Errorf("browser console errors on %s:\n  %s", p.URL(), strings.Join(errs, "\n  "))
	}
}

// do runs steps under a step timeout and fails the test on error.
func (p *Page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fatalf("%s: %v", what, p.explain(ctx, err))
	}
}

// eval evaluates a JavaScript expression whose value is a string.
func (p *Page) eval(what, expr string) string {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.fatalf("%s: %v", what, p.explain(ctx, err))
	}
	return s
}

func (p *Page) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, StepTimeout)
}

// explain turns a step's deadline into words; chromedp reports only the context error.
func (p *Page) explain(ctx context.Context, err error) error {
	switch {
	case p.ctx.Err() != nil:
		return fmt.Errorf("%w (the test's browser session is over: it lasts at most %s)", err, TestTimeout)
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return fmt.Errorf("nothing happened within %s (element missing or hidden, or no page load): %w", StepTimeout, err)
	}
	return err
}

// fatalf stops the test with msg, where the page is and what it says.
func (p *Page) fatalf(format string, args ...any) {
	p.t.Helper()
	p.reported = true
	p.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), p.state("FAILED-"+p.t.Name()))
}

// failed logs where a page of a failed test ended up, unless fatalf already did:
// most failures are assertions in the test, which know nothing of the page.
func (p *Page) failed() {
	if p.t.Failed() && !p.reported {
		p.t.Logf("%s ended %s", p.name, p.state("FAILED-"+p.t.Name()+"-"+p.name))
	}
}

// state describes the page for a failure message: its URL, the start of its text
// and its console errors; with HEARTH_SCREENSHOTS set it also saves a screenshot.
func (p *Page) state(shot string) string {
	if p.ctx.Err() != nil {
		return "(no page state: the browser is closed)"
	}
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if dir := os.Getenv("HEARTH_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = writeShot(dir, shot, png)
		}
	}
	s := fmt.Sprintf("at %s, page text: %q", url, tail(strings.Join(strings.Fields(text), " "), -400))
	if errs := p.console.errors(); len(errs) > 0 {
		s += "\nconsole errors:\n  " + strings.Join(errs, "\n  ")
	}
	return s
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func writeShot(dir, name string, png []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".png"), png, 0o644)
}

// status records the page a navigation loaded and returns its HTTP status.
func (p *Page) status(resp *network.Response) int {
	if resp == nil {
		return 0
	}
	p.console.loaded(resp.URL)
	return int(resp.Status)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

package browsertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// syncPrefix marks the console.debug calls sync writes; they are not the page's.
const syncPrefix = "browsertest:sync:"

// console collects a tab's console errors and uncaught exceptions for its whole life.
type console struct {
	mu    sync.Mutex
	msgs  []chromedp.ConsoleMessage
	seq   int
	marks map[string]chan struct{}
	// docs are the pages the tab loaded through the helpers, whose HTTP status the
	// test sees (and checks) itself: a 404 or 422 page is not a console error.
	docs map[string]bool
}

func newConsole(ctx context.Context) *console {
	c := &console{marks: map[string]chan struct{}{}, docs: map[string]bool{}}
	msgs := chromedp.Console(ctx) // subscribed from here on, read below
	go func() {
		for m, err := range msgs {
			if err != nil { // the tab is closed
				return
			}
			c.add(m)
		}
	}()
	return c
}

func (c *console) add(m chromedp.ConsoleMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.HasPrefix(m.Text, syncPrefix) {
		if ch, ok := c.marks[m.Text]; ok {
			close(ch)
			delete(c.marks, m.Text)
		}
		return
	}
	if m.Type == chromedp.ConsoleError || m.IsException() {
		c.msgs = append(c.msgs, m)
	}
}

// loaded records a document the test navigated to.
func (c *console) loaded(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.docs[url] = true
}

func (c *console) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []string
	for _, m := range c.msgs {
		if m.Source == "network" && (c.docs[m.URL] || strings.HasSuffix(m.URL, "/favicon.ico")) {
			// The page's own status, or the icon Chromium asks for by itself.
			continue
		}
		where := m.URL
		if where != "" && m.Line > 0 {
			where += fmt.Sprintf(":%d", m.Line+1)
		}
		if m.Source != "" {
			where = m.Source + " " + where
		}
		errs = append(errs, fmt.Sprintf("%s: %s [%s]", m.Type, m.Text, strings.TrimSpace(where)))
	}
	return errs
}

// sync waits until the messages the page wrote so far have been collected: the
// console events arrive asynchronously, in order, so it writes a marker and waits
// for that to come back.
func (c *console) sync(p *Page) {
	c.mu.Lock()
	c.seq++
	mark := fmt.Sprintf("%s%d", syncPrefix, c.seq)
	ch := make(chan struct{})
	c.marks[mark] = ch
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.debug(`+jsString(mark)+`)`)); err != nil {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

package forum_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-community/hearth/forum"
)

// Pages served at once must each be whole and their own: thread pages are written
// into each response's own buffer, visitors' lists are one shared page with each
// request's CSRF token spliced in. (A pooled buffer handed to fasthttp before the
// response was written, as send once did, could be reused meanwhile; that only shows
// when a write blocks on a slow client, which this test does not provoke.)
func TestConcurrentPagesAreWhole(t *testing.T) {
	e := newEnv(t)
	type page struct{ url, title string }
	var pages []page
	for i := 0; i < 4; i++ {
		title := fmt.Sprintf("Concurrent page %d %s", i, strings.Repeat("x", i*40))
		th := e.newThread(t, "alice", "questions", forum.KindDiscussion, title, strings.Repeat("Body text. ", 200*(i+1)))
		pages = append(pages, page{fmt.Sprintf("/t/%d/%s", th.ID, th.Slug), title})
	}
	pages = append(pages, page{"/latest", "Concurrent page 3"}, page{"/c/questions", "Concurrent page 2"})
	base := e.Listen(t)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				p := pages[(g+i)%len(pages)]
				resp, err := http.Get(base + p.url)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), p.title) || !strings.HasSuffix(strings.TrimSpace(string(b)), "</html>") ||
					strings.Count(string(b), "<html") != 1 {
					errs <- fmt.Sprintf("%s: status %d, %d bytes, not the whole page", p.url, resp.StatusCode, len(b))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

package forum_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/hearth-community/hearth/forum"
)

// seedThreads creates n threads through the service, round-robin by four members.
func seedThreads(t *testing.T, e *fenv, n int, kind forum.ThreadKind, prefix string) []int64 {
	t.Helper()
	authors := []string{"alice", "bob", "wang", "li"}
	out := make([]int64, 0, n)
	for i := range n {
		who := authors[i%len(authors)]
		th, _, err := e.Forum.CreateThread(context.Background(), forum.Actor{ID: e.ids[who], Role: "member"}, forum.NewThread{
			CategoryID: e.cats["questions"], Kind: kind, Title: fmt.Sprintf("%s thread number %03d", prefix, i),
			Body: "body", Tags: []string{"paging"}}, "")
		if err != nil {
			t.Fatalf("create thread %d: %v", i, err)
		}
		out = append(out, th.ID)
	}
	return out
}

// TestKeysetPagination follows `next` through every list while new threads arrive
// between page requests: every thread that existed at the start comes exactly once.
func TestKeysetPagination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		query string
		kind  forum.ThreadKind
	}{
		{"latest", "mode=latest", forum.KindDiscussion},
		{"unanswered", "mode=unanswered", forum.KindQuestion},
		{"top", "mode=top&period=all", forum.KindDiscussion},
		{"category", "category=questions", forum.KindDiscussion},
		{"tag", "tag=paging", forum.KindQuestion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			existing := seedThreads(t, e, 95, tc.kind, "Old")
			// noise that must never appear in unanswered: an answered question, a discussion
			if tc.name == "unanswered" {
				q := e.newThread(t, "alice", "questions", "question", "Answered question here", "?", "paging")
				e.reply(t, "bob", q.ID, "answer")
				e.newThread(t, "alice", "questions", "discussion", "Not a question at all", "!", "paging")
			}
			seen := map[int64]int{}
			after, pages := "", 0
			for {
				q := tc.query
				if after != "" {
					q += "&after=" + url.QueryEscape(after)
				}
				page := e.list(t, "bob", q)
				pages++
				if len(page.Threads) > forum.PageSize {
					t.Fatalf("page %d has %d threads", pages, len(page.Threads))
				}
				for _, th := range page.Threads {
					seen[th.ID]++
					if tc.name == "unanswered" && (th.Kind != "question" || th.ReplyCount != 0) {
						t.Fatalf("unanswered lists %q (kind %s, %d replies)", th.Title, th.Kind, th.ReplyCount)
					}
				}
				// new threads arrive while the reader pages
				seedThreads(t, e, 3, tc.kind, fmt.Sprintf("New p%d", pages))
				if page.Next == "" {
					break
				}
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				after = page.Next
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("thread %d returned %d times", id, n)
				}
			}
			for _, id := range existing {
				if seen[id] != 1 {
					t.Errorf("thread %d (existing at the start) returned %d times", id, seen[id])
				}
			}
			if pages != 4 {
				t.Errorf("95 threads in %d pages, want 4 of at most %d", pages, forum.PageSize)
			}
		})
	}
}

func TestListQueryErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedThreads(t, e, 2, forum.KindQuestion, "Some")
	for _, tc := range []struct {
		query  string
		status int
		field  string
	}{
		{"mode=latest&after=abc", 422, "after"},
		{"mode=latest&after=123", 422, "after"},
		{"mode=latest&after=x.5", 422, "after"},
		{"mode=latest&after=5.x", 422, "after"},
		{"mode=latest&after=5.0", 422, "after"},
		{"mode=latest&after=5.-3", 422, "after"},
		{"mode=unanswered&after=1.2.3", 422, "after"},
		{"mode=top&period=all&after=%3B--", 422, "after"},
		{"mode=bogus", 422, "mode"},
		{"mode=top&period=year", 422, "period"},
		{"category=no-such-category", 404, ""},
		{"category=staff", 404, ""},
	} {
		mustErr(t, e.call(t, http.MethodGet, "/api/v1/threads?"+tc.query, nil, "bob"), tc.status, tc.field, tc.query)
	}
	// a well-formed cursor past the end is simply an empty page
	if got := e.list(t, "bob", "mode=latest&after=1.1"); len(got.Threads) != 0 || got.Next != "" {
		t.Fatalf("cursor past the end: %+v", got)
	}
	if r := e.page(t, "bob", "/latest?after=nonsense"); r.Status != 422 {
		t.Fatalf("page with a malformed cursor: %d", r.Status)
	}
	// the staff category, not found for bob above, lists for staff
	e.list(t, "moderator", "category=staff")
}

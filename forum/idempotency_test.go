package forum_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

func TestIdempotentThreadAndReply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := map[string]any{"category_id": e.cats["questions"], "title": "Retried request makes one thread", "body": "once"}
	first := e.idem(t, "/api/v1/threads", in, "alice", "key-1")
	second := e.idem(t, "/api/v1/threads", in, "alice", "key-1")
	must(t, first, http.StatusCreated, "first create")
	must(t, second, http.StatusOK, "retried create")
	th := decode[threadJSON](t, first)
	if again := decode[threadJSON](t, second); again.ID != th.ID || again.Title != th.Title {
		t.Fatalf("retry returned %+v, want thread %d", again, th.ID)
	}
	if n := e.count(t, "SELECT count(*) FROM forum_threads"); n != 1 {
		t.Fatalf("threads: %d, want 1", n)
	}
	if p := e.profile(t, "", "alice"); p.Threads != 1 {
		t.Fatalf("retry counted twice in the profile: %d threads", p.Threads)
	}
	if n := e.count(t, "SELECT count(*) FROM crm_events WHERE kind = 'forum.thread_created'"); n != 1 {
		t.Fatalf("thread_created events: %d, want 1", n)
	}
	// the key belongs to its member: bob's identical request is his own thread
	must(t, e.idem(t, "/api/v1/threads", in, "bob", "key-1"), http.StatusCreated, "same key, other member")
	// a different key is a different thread
	must(t, e.idem(t, "/api/v1/threads", in, "alice", "key-2"), http.StatusCreated, "new key")

	path := fmt.Sprintf("/api/v1/threads/%d/posts", th.ID)
	r1 := must(t, e.idem(t, path, map[string]any{"body": "my answer"}, "wang", "reply-1"), http.StatusCreated, "first reply")
	r2 := must(t, e.idem(t, path, map[string]any{"body": "my answer"}, "wang", "reply-1"), http.StatusOK, "retried reply")
	if a, b := decode[postJSON](t, r1), decode[postJSON](t, r2); a.ID == 0 || a.ID != b.ID || b.Number != 2 {
		t.Fatalf("retried reply: %+v vs %+v", a, b)
	}
	if v := e.view(t, "alice", th.ID); v.Thread.ReplyCount != 1 || len(v.Posts) != 2 {
		t.Fatalf("after a retried reply: reply_count %d, %d posts", v.Thread.ReplyCount, len(v.Posts))
	}
	if n := e.count(t, "SELECT count(*) FROM outbox WHERE topic = 'notify.reply'"); n != 1 {
		t.Fatalf("reply notifications: %d, want 1", n)
	}
}

// Ten clients retrying the same reply at once still make one post.
func TestIdempotentReplyConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "question", "Concurrent retries of one reply", "?")
	path := fmt.Sprintf("/api/v1/threads/%d/posts", th.ID)
	const n = 10
	status := make([]int, n)
	got := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i], got[i], errs[i] = e.callFromGoroutine(http.MethodPost, path, map[string]any{"body": "only once"}, "bob", "same-key")
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		switch status[i] {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("request %d: status %d", i, status[i])
		}
		if got[i] != got[0] || got[i] == 0 {
			t.Fatalf("request %d got post %d, request 0 got %d", i, got[i], got[0])
		}
	}
	if created != 1 {
		t.Fatalf("%d requests answered 201, want exactly 1", created)
	}
	if c := e.count(t, "SELECT count(*) FROM forum_posts WHERE thread_id = ? AND number > 1", th.ID); c != 1 {
		t.Fatalf("replies stored: %d, want 1", c)
	}
	if v := e.view(t, "alice", th.ID); v.Thread.ReplyCount != 1 {
		t.Fatalf("reply_count %d, want 1", v.Thread.ReplyCount)
	}
}

// The same for threads: concurrent creates with one key make one thread.
func TestIdempotentThreadConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := map[string]any{"category_id": e.cats["ideas"], "title": "Double-clicked idea", "body": "x"}
	var wg sync.WaitGroup
	ids := make([]int64, 10)
	status := make([]int, 10)
	errs := make([]error, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i], ids[i], errs[i] = e.callFromGoroutine(http.MethodPost, "/api/v1/threads", in, "li", "dbl")
		}()
	}
	wg.Wait()
	created := 0
	for i, id := range ids {
		if errs[i] != nil || status[i] >= 300 || id == 0 || id != ids[0] {
			t.Fatalf("request %d: status %d, thread %d (request 0: %d), err %v", i, status[i], id, ids[0], errs[i])
		}
		if status[i] == http.StatusCreated {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d requests answered 201, want exactly 1", created)
	}
	if n := e.count(t, "SELECT count(*) FROM forum_threads"); n != 1 {
		t.Fatalf("threads: %d, want 1", n)
	}
}

// The compose form carries a key: posting it twice (a double click) makes one thread.
func TestNewThreadFormIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := must(t, e.page(t, "alice", "/new"), http.StatusOK, "compose page")
	m := keyField.FindSubmatch(page.Body)
	if m == nil || len(m[1]) < 16 {
		t.Fatalf("compose page has no idempotency key: %s", page.Body)
	}
	form := url.Values{"key": {string(m[1])}, "category_id": {fmt.Sprint(e.cats["questions"])}, "kind": {"question"},
		"title": {"Submitted twice by accident"}, "body": {"once please"}, "tags": {"double, click"}}
	first := e.form(t, "alice", "/new", form)
	second := e.form(t, "alice", "/new", form)
	if first.Status != http.StatusSeeOther || second.Status != http.StatusSeeOther {
		t.Fatalf("posts: %d, %d", first.Status, second.Status)
	}
	loc := first.Header.Get("Location")
	if loc == "" || second.Header.Get("Location") != loc {
		t.Fatalf("redirects differ: %q vs %q", loc, second.Header.Get("Location"))
	}
	if n := e.count(t, "SELECT count(*) FROM forum_threads"); n != 1 {
		t.Fatalf("threads: %d, want 1", n)
	}
	var tags string
	e.DB.Raw("SELECT array_to_string(tags, ',') FROM forum_threads").Scan(&tags)
	if tags != "double,click" {
		t.Fatalf("form tags: %q", tags)
	}
}

// A key is remembered with what it made (result_kind): reusing a thread's key for a
// reply must not hand back some other post.
func TestIdempotencyKeyOfAnotherKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target := e.newThread(t, "bob", "questions", "question", "Thread that gets the reply", "?")
	in := map[string]any{"category_id": e.cats["ideas"], "title": "Thread made with key K", "body": "x"}
	made := decode[threadJSON](t, must(t, e.idem(t, "/api/v1/threads", in, "alice", "K"), http.StatusCreated, "thread with key K"))
	r := e.idem(t, fmt.Sprintf("/api/v1/threads/%d/posts", target.ID), map[string]any{"body": "a reply"}, "alice", "K")
	if r.Status < 300 {
		if p := decode[postJSON](t, r); p.ThreadID != target.ID {
			t.Fatalf("reply with a thread's key K answered %d with post %d of thread %d (the thread made with K is %d), want a post of thread %d or a refusal",
				r.Status, p.ID, p.ThreadID, made.ID, target.ID)
		}
	}
}

// Replies and reactions arriving at once: reply numbers stay dense and unique, and
// every reaction counts exactly once (in the post, the thread score and reputation).
func TestConcurrentRepliesAndReactions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", "", "Busy thread with many writers", "go")
	opening := e.view(t, "alice", th.ID).Posts[0]
	others := []string{"bob", "wang", "li", "partner", "marketer", "moderator", "admin"}
	type result struct {
		status int
		err    error
	}
	results := make(chan result, len(others)*5)
	var wg sync.WaitGroup
	for _, who := range others {
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, _, err := e.callFromGoroutine(http.MethodPost, fmt.Sprintf("/api/v1/threads/%d/posts", th.ID),
					map[string]any{"body": fmt.Sprintf("%s says %d", who, i)}, who, "")
				results <- result{s, err}
			}()
		}
		for range 2 { // the same reaction twice: counted once
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, _, err := e.callFromGoroutine(http.MethodPut, fmt.Sprintf("/api/v1/posts/%d/reactions/like", opening.ID), nil, who, "")
				results <- result{s, err}
			}()
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil || (r.status != http.StatusCreated && r.status != http.StatusOK) {
			t.Fatalf("concurrent request: %d %v", r.status, r.err)
		}
	}
	var numbers []int
	e.DB.Raw("SELECT number FROM forum_posts WHERE thread_id = ? ORDER BY number", th.ID).Scan(&numbers)
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("post numbers not dense: %v", numbers)
		}
	}
	want := 1 + 3*len(others)
	v := e.view(t, "alice", th.ID)
	if len(numbers) != want || v.Thread.ReplyCount != want-1 {
		t.Fatalf("%d posts, reply_count %d; want %d posts", len(numbers), v.Thread.ReplyCount, want)
	}
	if got := v.Posts[0].Reactions["like"]; got != len(others) {
		t.Fatalf("likes: %d, want %d", got, len(others))
	}
	if v.Thread.Score != len(others)+want-1 {
		t.Fatalf("thread score %d, want %d (reactions + replies)", v.Thread.Score, len(others)+want-1)
	}
	if rep := e.reputation(t, "alice"); rep != len(others) {
		t.Fatalf("alice's reputation %d, want %d", rep, len(others))
	}
}

package scale_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/markup"
	"github.com/hearth-community/hearth/internal/scale"
	"github.com/hearth-community/hearth/internal/testenv"
)

// generated builds an application on a fresh database, seeds the demo categories and
// generates s into it.
func generated(t *testing.T, s scale.Scale) (*testenv.AppEnv, map[string][2]int64) {
	t.Helper()
	e := testenv.NewApp(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, e.Auth, e.Forums, e.Partners, io.Discard); err != nil {
		t.Fatalf("demo seed: %v", err)
	}
	var mu sync.Mutex
	last := map[string][2]int64{}
	err := scale.Generate(ctx, e.DB, s, func(step string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := last[step]; ok && done < p[0] {
			t.Errorf("progress of %q went backwards: %d after %d", step, done, p[0])
		}
		last[step] = [2]int64{done, total}
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return e, last
}

func TestGenerateCountsAndConsistency(t *testing.T) {
	t.Parallel()
	s := scale.Scale{Members: 200, Threads: 101, PostsPerThread: 5} // odd: one unpaired thread
	e, progress := generated(t, s)
	db := e.DB

	for _, step := range []string{scale.StepMembers, scale.StepPosts, scale.StepStats, scale.StepAnalyze} {
		p, ok := progress[step]
		if !ok || p[0] != p[1] || p[1] == 0 {
			t.Errorf("progress of %q ended at %v, want done = total > 0", step, p)
		}
	}
	count := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.Raw(q, args...).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	checks := []struct {
		name string
		q    string
		want int64
	}{
		{"members", `SELECT count(*) FROM users WHERE email LIKE 'gen-%' AND role = 'member' AND handle LIKE 'gen%'`, 200},
		{"threads", `SELECT count(*) FROM forum_threads`, 101},
		{"posts (exact total)", `SELECT count(*) FROM forum_posts`, 505},
		{"posts without a thread", `SELECT count(*) FROM forum_posts p LEFT JOIN forum_threads t ON t.id = p.thread_id WHERE t.id IS NULL`, 0},
		{"threads whose counters disagree with their posts", `
			SELECT count(*) FROM forum_threads t
			  JOIN (SELECT thread_id, count(*) AS n, min(number) AS lo, max(number) AS hi FROM forum_posts GROUP BY thread_id) p
			    ON p.thread_id = t.id
			 WHERE t.reply_count <> p.n - 1 OR t.last_post_number <> p.n OR p.lo <> 1 OR p.hi <> p.n OR t.score <> t.reply_count`, 0},
		{"threads without posts", `SELECT count(*) FROM forum_threads t WHERE NOT EXISTS (SELECT 1 FROM forum_posts p WHERE p.thread_id = t.id)`, 0},
		{"first or last post disagreeing with the thread", `
			SELECT count(*) FROM forum_threads t
			  JOIN forum_posts f ON f.thread_id = t.id AND f.number = 1
			  JOIN forum_posts l ON l.thread_id = t.id AND l.number = t.last_post_number
			 WHERE f.author_id <> t.author_id OR f.created_at <> t.created_at
			    OR l.author_id <> t.last_poster_id OR l.created_at <> t.last_activity_at`, 0},
		{"posts out of time order", `
			SELECT count(*) FROM forum_posts a JOIN forum_posts b ON b.thread_id = a.thread_id AND b.number = a.number + 1
			 WHERE b.created_at < a.created_at`, 0},
		{"threads in the future or older than two years", `
			SELECT count(*) FROM forum_threads WHERE created_at > now() OR last_activity_at > now()
			    OR created_at < now() - interval '731 days'`, 0},
		{"threads outside the four categories", `
			SELECT count(*) FROM forum_threads t JOIN forum_categories c ON c.id = t.category_id
			 WHERE c.slug NOT IN ('questions', 'ideas', 'announcements', 'offers')`, 0},
		{"announcements outside announcements", `
			SELECT count(*) FROM forum_threads t JOIN forum_categories c ON c.id = t.category_id
			 WHERE (t.kind = 'announcement') <> (c.slug = 'announcements')`, 0},
		{"accepted posts that are not the thread's first reply", `
			SELECT count(*) FROM forum_threads t JOIN forum_posts p ON p.id = t.accepted_post_id
			 WHERE p.thread_id <> t.id OR p.number <> 2 OR t.kind <> 'question'`, 0},
		{"members whose stats disagree", `
			SELECT count(*) FROM users u
			  LEFT JOIN forum_member_stats ms ON ms.member_id = u.id
			  LEFT JOIN (SELECT author_id, count(*) FILTER (WHERE number = 1) AS th,
			                    count(*) FILTER (WHERE number > 1) AS re FROM forum_posts GROUP BY author_id) p ON p.author_id = u.id
			  LEFT JOIN (SELECT p.author_id, count(*) AS n FROM forum_threads t JOIN forum_posts p ON p.id = t.accepted_post_id
			              GROUP BY p.author_id) a ON a.author_id = u.id
			 WHERE u.email LIKE 'gen-%'
			   AND (coalesce(ms.threads, 0) <> coalesce(p.th, 0) OR coalesce(ms.replies, 0) <> coalesce(p.re, 0)
			        OR coalesce(ms.accepted, 0) <> coalesce(a.n, 0) OR coalesce(ms.reputation, 0) <> 15 * coalesce(a.n, 0))`, 0},
	}
	for _, c := range checks {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// the data should be varied, not one shape repeated
	if n := count(`SELECT count(DISTINCT reply_count) FROM forum_threads`); n < 4 {
		t.Errorf("only %d distinct thread lengths", n)
	}
	if n := count(`SELECT count(*) FROM forum_threads WHERE accepted_post_id IS NOT NULL`); n == 0 {
		t.Error("no accepted answers")
	}
	if n := count(`SELECT count(*) FROM users WHERE email LIKE 'gen-%' AND display_name ~ '[一-龥]'`); n == 0 {
		t.Error("no Chinese display names")
	}
	if n := count(`SELECT count(*) FROM forum_threads WHERE title ~ '[一-龥]'`); n == 0 {
		t.Error("no Chinese titles")
	}

	var threads []struct {
		Title, Slug string
	}
	if err := db.Raw(`SELECT title, slug FROM forum_threads`).Scan(&threads).Error; err != nil {
		t.Fatal(err)
	}
	for _, th := range threads {
		if th.Slug != forum.Slug(th.Title) {
			t.Errorf("slug %q of %q, want %q", th.Slug, th.Title, forum.Slug(th.Title))
		}
	}

	// body_html is escaped: only the tags the generator writes remain
	var html []string
	if err := db.Raw(`SELECT body_html FROM forum_posts`).Scan(&html).Error; err != nil {
		t.Fatal(err)
	}
	allowed := regexp.MustCompile(`</?(p|strong|em|code)>`)
	escaped := 0
	for _, h := range html {
		if rest := allowed.ReplaceAllString(h, ""); strings.ContainsAny(rest, "<>") {
			t.Fatalf("unescaped markup in body_html: %q", h)
		}
		if strings.Contains(h, "&lt;") || strings.Contains(h, "&amp;") {
			escaped++
		}
	}
	if escaped == 0 {
		t.Error("no body needed escaping: the vocabulary should exercise it")
	}
}

// The application reads generated threads like any other: lists, thread pages and
// canonical URLs.
func TestGeneratedThreadsServe(t *testing.T) {
	t.Parallel()
	e, _ := generated(t, scale.Scale{Members: 50, Threads: 40, PostsPerThread: 3})
	ctx := context.Background()
	visitor := forum.Actor{}
	render := markup.New()

	page, err := e.Forum.List(ctx, visitor, forum.ListQuery{Mode: forum.ListLatest})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Threads) != forum.PageSize || page.Next == "" {
		t.Fatalf("latest: %d threads, next %q; want a full page and more", len(page.Threads), page.Next)
	}
	for i := 1; i < len(page.Threads); i++ {
		if page.Threads[i].LastActivityAt.After(page.Threads[i-1].LastActivityAt) {
			t.Fatalf("latest list out of order at %d", i)
		}
	}
	var ids []int64
	if err := e.DB.Raw(`SELECT id FROM forum_threads ORDER BY id`).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		v, err := e.Forum.Thread(ctx, visitor, id, 1)
		if err != nil {
			t.Fatalf("thread %d: %v", id, err)
		}
		if len(v.Posts) != v.Thread.ReplyCount+1 || v.FirstPost == nil {
			t.Fatalf("thread %d: %d posts for %d replies", id, len(v.Posts), v.Thread.ReplyCount)
		}
		// the excerpt is what the service keeps for an opening post (meta description)
		if want := render.ExcerptHTML(v.FirstPost.BodyHTML, 160); v.Thread.Excerpt != want || want == "" {
			t.Fatalf("thread %d: excerpt %q, want %q", id, v.Thread.Excerpt, want)
		}
	}
}

func TestGenerateRefusesTwice(t *testing.T) {
	t.Parallel()
	e, _ := generated(t, scale.Scale{Members: 10, Threads: 4, PostsPerThread: 2})
	err := scale.Generate(context.Background(), e.DB, scale.Scale{Members: 10, Threads: 4, PostsPerThread: 2}, nil)
	if !errors.Is(err, scale.ErrGenerated) {
		t.Fatalf("second Generate: %v, want ErrGenerated", err)
	}
	var n int64
	if err := e.DB.Raw(`SELECT count(*) FROM forum_threads`).Scan(&n).Error; err != nil || n != 4 {
		t.Fatalf("threads after the refused run: %d (%v), want 4", n, err)
	}
}

func TestGenerateNeedsCategories(t *testing.T) {
	t.Parallel()
	err := scale.Generate(context.Background(), testenv.DB(t), scale.Of(0.0001), nil)
	if err == nil || !strings.Contains(err.Error(), "hearth seed") {
		t.Fatalf("Generate without categories: %v, want advice to run hearth seed", err)
	}
}

func TestOf(t *testing.T) {
	if s := scale.Of(1); s.Members != 100_000 || s.Threads != 100_000 || s.Posts() != 1_000_000 {
		t.Errorf("Of(1) = %+v (%d posts)", s, s.Posts())
	}
	if s := scale.Of(0.01); s.Members != 1000 || s.Threads != 1000 || s.Posts() != 10_000 {
		t.Errorf("Of(0.01) = %+v", s)
	}
}

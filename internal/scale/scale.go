// Package scale fills a Hearth database with a large, realistic-looking forum for
// load tests: members with English and Chinese names, threads spread over the demo
// categories and two years, and their posts. Rows are made by set-based SQL
// (INSERT … SELECT over generate_series) in chunks, one transaction each, so a
// million posts take minutes, not hours, and progress can be shown.
package scale

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/auth"
)

// Password is every generated member's password.
const Password = "hearth-scale-2026"

// EmailDomain is the domain of every generated member's e-mail address
// (gen-<i>@scale.hearth.local); it is how generated rows are recognised.
const EmailDomain = "scale.hearth.local"

// Categories are the demo categories generated threads are spread over; they must
// exist (`hearth seed` creates them).
var Categories = []string{"questions", "ideas", "announcements", "offers"}

// ErrGenerated means the database already holds generated members: the generator
// refuses to run twice rather than duplicate or half-mix data sets.
var ErrGenerated = errors.New("scale: the database already holds generated data")

// Scale is the size of a generated data set.
type Scale struct {
	Members        int
	Threads        int
	PostsPerThread int // average; threads have 1 … 2×PostsPerThread−1 posts, the total is exact
}

// Of returns n times the standard data set of 100,000 members and 100,000 threads
// of 10 posts each (1,000,000 posts); n may be fractional (0.01 for tests).
func Of(n float64) Scale {
	round := func(x float64) int { return int(math.Max(1, math.Round(x))) }
	return Scale{Members: round(100_000 * n), Threads: round(100_000 * n), PostsPerThread: 10}
}

// Posts is the number of posts the data set holds.
func (s Scale) Posts() int64 { return int64(s.Threads) * int64(s.PostsPerThread) }

func (s Scale) validate() error {
	if s.Members < 1 || s.Threads < 0 || s.PostsPerThread < 1 {
		return fmt.Errorf("scale: need at least one member and one post per thread (got %+v)", s)
	}
	return nil
}

// Progress receives the step being run and how far it is (in that step's units).
type Progress func(step string, done, total int64)

// The steps Generate reports, in order.
const (
	StepMembers = "members"
	StepPosts   = "threads and posts"
	StepStats   = "member stats"
	StepAnalyze = "vacuum and analyze"
)

// rowsPerChunk bounds each transaction: big enough that per-statement overhead does
// not matter, small enough to show progress every second or two.
const rowsPerChunk = 50_000

// Generate inserts s's members, threads and posts, then the members' forum stats,
// then vacuums and analyzes the tables so the planner (and index-only scans) see the
// new data at once. It refuses with ErrGenerated when generated members exist.
// progress may be nil.
func Generate(ctx context.Context, gdb *gorm.DB, s Scale, progress Progress) error {
	if err := s.validate(); err != nil {
		return err
	}
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	g := &generator{db: gdb, s: s, v: newVocab(), progress: progress}
	if err := g.check(ctx); err != nil {
		return err
	}
	steps := []func(context.Context) error{g.insertMembers, g.insertThreads, g.insertStats, g.analyze}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

type generator struct {
	db       *gorm.DB
	s        Scale
	v        *vocab
	progress Progress
	cats     pq.Int64Array // ids of Categories, in order
	members  pq.Int64Array // ids of the generated members
}

func (g *generator) check(ctx context.Context) error {
	var n int64
	if err := g.db.WithContext(ctx).Raw(`SELECT count(*) FROM users WHERE email LIKE ?`, "gen-%@"+EmailDomain).
		Scan(&n).Error; err != nil {
		return fmt.Errorf("scale: count generated members: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w (%d members gen-…@%s); generate into a fresh database", ErrGenerated, n, EmailDomain)
	}
	var rows []struct {
		ID   int64
		Slug string
	}
	if err := g.db.WithContext(ctx).Raw(`SELECT id, slug FROM forum_categories WHERE slug IN ?`, Categories).
		Scan(&rows).Error; err != nil {
		return fmt.Errorf("scale: read categories: %w", err)
	}
	ids := map[string]int64{}
	for _, r := range rows {
		ids[r.Slug] = r.ID
	}
	for _, slug := range Categories {
		if ids[slug] == 0 {
			return fmt.Errorf("scale: category %q is missing: run `hearth seed` first (it creates the demo categories)", slug)
		}
		g.cats = append(g.cats, ids[slug])
	}
	return nil
}

// chunk runs fn in its own transaction with synchronous commit off: a crash loses at
// most the last chunks of a data set that is regenerated anyway, and commits stop
// waiting for the WAL flush.
func (g *generator) chunk(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return g.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL synchronous_commit = off`).Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

func (g *generator) insertMembers(ctx context.Context) error {
	hash, err := auth.Hasher{}.Hash(Password) // once: bcrypt is slow by design
	if err != nil {
		return err
	}
	total := int64(g.s.Members)
	g.progress(StepMembers, 0, total)
	q := membersSQL()
	for lo := int64(1); lo <= total; lo += rowsPerChunk {
		hi := min(lo+rowsPerChunk-1, total)
		err := g.chunk(ctx, func(tx *gorm.DB) error {
			return tx.Exec(q, map[string]any{
				"lo": lo, "hi": hi, "domain": "@" + EmailDomain, "hash": hash,
				"first": pq.StringArray(firstNames), "last": pq.StringArray(lastNames),
				"zhsur": pq.StringArray(zhSurnames), "zhgiven": pq.StringArray(zhGiven),
				"nfirst": len(firstNames), "nlast": len(lastNames), "nzhsur": len(zhSurnames), "nzhgiven": len(zhGiven),
			}).Error
		})
		if err != nil {
			return fmt.Errorf("scale: insert members %d–%d: %w", lo, hi, err)
		}
		g.progress(StepMembers, hi, total)
	}
	err = g.db.WithContext(ctx).Raw(`SELECT id FROM users WHERE email LIKE ? ORDER BY id`, "gen-%@"+EmailDomain).
		Scan(&g.members).Error
	if err != nil {
		return fmt.Errorf("scale: read generated members: %w", err)
	}
	if len(g.members) != g.s.Members {
		return fmt.Errorf("scale: expected %d generated members, found %d", g.s.Members, len(g.members))
	}
	return nil
}

func (g *generator) insertThreads(ctx context.Context) error {
	total, per := int64(g.s.Threads), int64(max(1, rowsPerChunk/g.s.PostsPerThread))
	var done int64
	g.progress(StepPosts, 0, g.s.Posts())
	q := threadsSQL()
	for lo := int64(1); lo <= total; lo += per {
		hi := min(lo+per-1, total)
		err := g.chunk(ctx, func(tx *gorm.DB) error {
			var threads, posts, first, last int64
			var accepted pq.Int64Array
			err := tx.Raw(q, map[string]any{
				"lo": lo, "hi": hi, "total": total, "ppt": g.s.PostsPerThread,
				"members": g.members, "m": len(g.members), "cats": g.cats,
				"en_titles": pq.StringArray(g.v.enTitles), "en_slugs": pq.StringArray(g.v.enSlugs), "n_en_titles": len(g.v.enTitles),
				"zh_titles": pq.StringArray(g.v.zhTitles), "zh_slugs": pq.StringArray(g.v.zhSlugs), "n_zh_titles": len(g.v.zhTitles),
				"md": pq.StringArray(g.v.bodyMD), "html": pq.StringArray(g.v.bodyHTML),
				"n_en": g.v.enSentences, "n_zh": len(g.v.bodyMD) - g.v.enSentences,
				"tags": pq.StringArray(tags), "n_tags": len(tags),
			}).Row().Scan(&threads, &posts, &first, &last, &accepted)
			if err != nil {
				return err
			}
			// the opening posts' excerpts, as the service keeps them (meta descriptions)
			if err := tx.Exec(excerptSQL, map[string]any{"lo": first, "hi": last}).Error; err != nil {
				return err
			}
			if threads != hi-lo+1 {
				return fmt.Errorf("inserted %d threads, expected %d", threads, hi-lo+1)
			}
			done += posts
			if len(accepted) == 0 {
				return nil
			}
			// a third of the answered questions have their first reply accepted
			return tx.Exec(`UPDATE forum_threads t SET accepted_post_id = p.id
			                  FROM forum_posts p
			                 WHERE t.id = ANY(?) AND p.thread_id = t.id AND p.number = 2`, accepted).Error
		})
		if err != nil {
			return fmt.Errorf("scale: insert threads %d–%d: %w", lo, hi, err)
		}
		g.progress(StepPosts, done, g.s.Posts())
	}
	return nil
}

// insertStats sets the generated members' forum counters from what was inserted, as the
// forum service would have kept them post by post.
func (g *generator) insertStats(ctx context.Context) error {
	g.progress(StepStats, 0, 1)
	err := g.chunk(ctx, func(tx *gorm.DB) error {
		return tx.Exec(statsSQL, map[string]any{"members": g.members, "rep": repPerAccepted}).Error
	})
	if err != nil {
		return fmt.Errorf("scale: member stats: %w", err)
	}
	g.progress(StepStats, 1, 1)
	return nil
}

// analyze vacuums (which also sets the visibility map, so index-only scans work at
// once) and analyzes the filled tables; otherwise the planner would work from the
// statistics of an empty forum until autovacuum caught up, mid-benchmark.
func (g *generator) analyze(ctx context.Context) error {
	tables := []string{"users", "forum_threads", "forum_posts", "forum_member_stats"}
	g.progress(StepAnalyze, 0, int64(len(tables)))
	for i, t := range tables {
		start := time.Now()
		if err := g.db.WithContext(ctx).Exec(`VACUUM (ANALYZE) ` + t).Error; err != nil {
			return fmt.Errorf("scale: vacuum analyze %s (%s): %w", t, time.Since(start).Round(time.Millisecond), err)
		}
		g.progress(StepAnalyze, int64(i+1), int64(len(tables)))
	}
	return nil
}

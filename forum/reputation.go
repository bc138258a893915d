package forum

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// repCache keeps members' reputations for thread pages, which show one beside every
// post: read from forum_member_stats, that was one index probe and heap fetch per post,
// the larger part of a page's PostgreSQL work. A reputation this process changes is
// dropped at once; one changed by another instance shows within repTTL. Memory is
// bounded: two generations of at most repMax/2 members each, the older one dropped
// when the newer fills up or ages past repTTL/2.
type repCache struct {
	mu        sync.Mutex
	cur, prev map[int64]int
	curAt     time.Time
	// changing holds members whose reputation this process is changing, until when
	// their transaction has surely ended: read, never cached, meanwhile (a page read
	// before the commit would otherwise cache the old value).
	changing map[int64]time.Time
}

const (
	repTTL = 30 * time.Second
	repMax = 200_000
	// repChanging outlasts any transaction that changes a reputation (the request
	// timeout is 30 s, but these transactions take milliseconds).
	repChanging = time.Minute
)

func newRepCache() *repCache {
	return &repCache{cur: map[int64]int{}, prev: map[int64]int{}, curAt: time.Now(), changing: map[int64]time.Time{}}
}

// fill sets AuthorRep on posts from the cache and reports the authors it lacks.
func (c *repCache) fill(posts []*Post) (missing []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate()
	for _, p := range posts {
		rep, ok := c.cur[p.AuthorID]
		if !ok {
			if rep, ok = c.prev[p.AuthorID]; !ok {
				missing = append(missing, p.AuthorID)
				continue
			}
		}
		p.AuthorRep = rep
	}
	return missing
}

func (c *repCache) put(reps map[int64]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate()
	now := time.Now()
	for id, rep := range reps {
		if until, ok := c.changing[id]; ok {
			if now.Before(until) {
				continue
			}
			delete(c.changing, id)
		}
		c.cur[id] = rep
	}
}

// forget drops a member whose reputation this process is changing.
func (c *repCache) forget(member int64) {
	c.mu.Lock()
	delete(c.cur, member)
	delete(c.prev, member)
	c.changing[member] = time.Now().Add(repChanging)
	c.mu.Unlock()
}

// rotate starts a new generation when the current one is full or half as old as the
// TTL; entries thus live between repTTL/2 and repTTL. Called with mu held.
func (c *repCache) rotate() {
	if len(c.cur) < repMax/2 && time.Since(c.curAt) < repTTL/2 {
		return
	}
	c.prev, c.cur, c.curAt = c.cur, make(map[int64]int, len(c.cur)), time.Now()
	for id, until := range c.changing {
		if c.curAt.After(until) {
			delete(c.changing, id)
		}
	}
}

// authorReputations sets AuthorRep on posts: from the cache, and for the authors it
// lacks, from forum_member_stats (members without a row have 0).
func (s *Store) authorReputations(ctx context.Context, conn *pgx.Conn, posts []*Post) error {
	missing := s.reps.fill(posts)
	if len(missing) == 0 {
		return nil
	}
	found := make(map[int64]int, len(missing))
	for _, id := range missing {
		found[id] = 0
	}
	rows, err := conn.Query(ctx, `SELECT member_id, reputation FROM forum_member_stats WHERE member_id = ANY($1)`, missing)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var rep int
		if err := rows.Scan(&id, &rep); err != nil {
			rows.Close()
			return err
		}
		found[id] = rep
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range posts {
		if rep, ok := found[p.AuthorID]; ok {
			p.AuthorRep = rep
		}
	}
	s.reps.put(found)
	return nil
}

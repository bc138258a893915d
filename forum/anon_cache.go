package forum

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/web"
)

// anonCache keeps the thread lists visitors are sent (pages and JSON), rendered once
// and shared, like Discourse's anonymous cache or nginx micro-caching, but never stale:
// each entry remembers the list version (forum_list_version, migration 00034) it was
// rendered under, and every request reads the current version before it is answered
// from the cache. Any committed change to a thread or a category (new thread, reply,
// edit, hide, delete, move, pin, lock, views, renamed author, category rules) moves the
// version on in its own transaction, so every `hearth serve` instance sees it on its
// next request. Only requests of visitors (no member, no flash message) use it; the
// CSRF token is spliced in per request (web.SharedPage). Lists that depend on the
// clock (top of the day/week/month) are not cached.
type anonCache struct {
	store    *Store
	version  versionReader
	maxBytes int

	mu      sync.Mutex
	entries map[string]*list.Element // of *anonEntry
	lru     *list.List               // most recently used first
	bytes   int
	seen    int64 // the newest version read so far
}

type anonEntry struct {
	key     string
	version int64
	page    *web.SharedPage
}

const (
	anonCacheBytes = 8 << 20 // bounded memory: the least recently used lists go first
	anonMaxKey     = 512     // longer keys (odd tags, paths) are not cached
)

func newAnonCache(gdb *gorm.DB, store *Store) *anonCache {
	ac := &anonCache{store: store, maxBytes: anonCacheBytes, entries: map[string]*list.Element{}, lru: list.New()}
	ac.version.read = func(ctx context.Context) (n int64, err error) {
		err = db.Pgx(ctx, gdb, func(conn *pgx.Conn) error {
			return conn.QueryRow(ctx, `SELECT n FROM forum_list_version WHERE id = 1`).Scan(&n)
		})
		return n, err
	}
	return ac
}

// serve answers c from the cache when the entry for key is current, or renders it
// with render, sends it and keeps it. Errors from render (not found, bad cursor…) are
// returned as they are, uncached.
func (ac *anonCache) serve(c *fiber.Ctx, srv *web.Server, key string, render func() (*web.SharedPage, error)) error {
	if len(key) > anonMaxKey {
		p, err := render()
		if err != nil {
			return err
		}
		return srv.SendShared(c, p)
	}
	v, err := ac.version.current(c.UserContext())
	if err != nil {
		return err
	}
	ac.mu.Lock()
	if v > ac.seen {
		// Something changed: categories cached in this process (a few seconds'
		// worth) may predate it, and the pages rendered next must not.
		ac.seen = v
		ac.store.invalidateCategories()
	}
	if el, ok := ac.entries[key]; ok {
		e := el.Value.(*anonEntry)
		if e.version == v {
			ac.lru.MoveToFront(el)
			ac.mu.Unlock()
			return srv.SendShared(c, e.page)
		}
	}
	ac.mu.Unlock()
	// Rendered from reads that begin after the version was read: at least as new.
	p, err := render()
	if err != nil {
		return err
	}
	if p.Status == fiber.StatusOK {
		ac.put(key, v, p)
	}
	return srv.SendShared(c, p)
}

func (ac *anonCache) put(key string, v int64, p *web.SharedPage) {
	size := p.Size() + len(key) + 128
	if size > ac.maxBytes/8 {
		return
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if el, ok := ac.entries[key]; ok {
		e := el.Value.(*anonEntry)
		if e.version > v {
			return // a newer rendering got there first
		}
		ac.bytes -= e.page.Size() + len(e.key) + 128
		e.version, e.page = v, p
		ac.bytes += size
		ac.lru.MoveToFront(el)
	} else {
		ac.entries[key] = ac.lru.PushFront(&anonEntry{key: key, version: v, page: p})
		ac.bytes += size
	}
	for ac.bytes > ac.maxBytes {
		el := ac.lru.Back()
		e := el.Value.(*anonEntry)
		ac.lru.Remove(el)
		delete(ac.entries, e.key)
		ac.bytes -= e.page.Size() + len(e.key) + 128
	}
}

// versionReader reads the list version for many concurrent requests at once: a
// request joins the next read that starts after it arrived (never one already under
// way, which could predate a write the requester has seen committed), so at most one
// read is in flight and each answer is as fresh as a read of its own.
type versionReader struct {
	read func(ctx context.Context) (int64, error)

	mu      sync.Mutex
	running bool
	next    *versionRound // the round that starts when the running one ends
}

type versionRound struct {
	done chan struct{}
	n    int64
	err  error
}

func (r *versionReader) current(ctx context.Context) (int64, error) {
	r.mu.Lock()
	if !r.running {
		r.running = true
		r.mu.Unlock()
		rd := &versionRound{done: make(chan struct{})}
		r.run(rd)
		return rd.n, rd.err
	}
	if r.next == nil {
		r.next = &versionRound{done: make(chan struct{})}
	}
	rd := r.next
	r.mu.Unlock()
	select {
	case <-rd.done:
		return rd.n, rd.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run reads the version for rd's requests, then starts the round that gathered
// meanwhile, if any.
func (r *versionReader) run(rd *versionRound) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // not one requester's
	rd.n, rd.err = r.read(ctx)
	cancel()
	close(rd.done)
	r.mu.Lock()
	next := r.next
	r.next = nil
	if next == nil {
		r.running = false
	}
	r.mu.Unlock()
	if next != nil {
		go r.run(next)
	}
}

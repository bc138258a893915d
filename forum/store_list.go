package forum

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-community/hearth/internal/db"
)

// listSpec is a compiled thread list: its filter, its order and the cursor columns.
type listSpec struct {
	where   []string
	args    []any
	order   string // e.g. "t.last_activity_at DESC, t.id DESC"
	byScore bool   // cursor is (score, id) instead of (time, id)
	timeCol string // cursor time column
	// oneCategory: the filter names one category the caller checked the reader may
	// read, so the readable-categories filter is left out.
	oneCategory bool
	// genericPlan: one plan fits every parameter value (a walk down a matching
	// index), so the prepared statement may reuse it; see listThreads.
	genericPlan bool
}

// cursor is the position after the last thread of a page: keyset pagination, so a
// page costs the same wherever it is and new threads never shift later pages.
type cursor struct {
	at    time.Time
	score int64
	id    int64
}

func (c cursor) String(byScore bool) string {
	if byScore {
		return fmt.Sprintf("%d.%d", c.score, c.id)
	}
	return fmt.Sprintf("%d.%d", c.at.UnixMicro(), c.id)
}

func parseCursor(s string, byScore bool) (cursor, bool) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return cursor{}, false
	}
	x, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return cursor{}, false
	}
	if byScore {
		return cursor{score: x, id: id}, true
	}
	return cursor{at: time.UnixMicro(x).UTC(), id: id}, true
}

// markRead records that member has read thread up to post number n (never backwards).
func (s *Store) markRead(ctx context.Context, member, thread int64, n int) error {
	return db.Conn(ctx, s.db).Exec(
		`INSERT INTO forum_read_state (member_id, thread_id, last_read) VALUES (?, ?, ?)
		 ON CONFLICT (member_id, thread_id) DO UPDATE
		   SET last_read = greatest(forum_read_state.last_read, EXCLUDED.last_read), updated_at = now()`,
		member, thread, n).Error
}

func (s *Store) lastRead(ctx context.Context, member, thread int64) (int, error) {
	var n int
	err := db.Conn(ctx, s.db).Raw(`SELECT coalesce(max(last_read), 0) FROM forum_read_state WHERE member_id = ? AND thread_id = ?`, member, thread).Scan(&n).Error
	return n, err
}

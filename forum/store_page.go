package forum

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-community/hearth/internal/db"
)

// The read paths every visitor hits (thread pages, thread lists) go through pgx
// directly (db.Pgx): typed scans instead of GORM's reflection, and a thread page's
// statements in one round trip. Writes and locked reads stay on GORM (store_thread.go).

// threadScan is the scan target of threadCols (plus, for lists, the reader's unread
// columns); scanning into a reused struct keeps a list at one allocation per row.
type threadScan struct {
	r    threadRow
	tags []string
}

func (s *threadScan) dest(withUnread bool) []any {
	r := &s.r
	d := []any{&r.ID, &r.CategoryID, &r.AuthorID, &r.Kind, &r.Title, &r.Slug, &s.tags, &r.Pinned, &r.Locked,
		&r.Hidden, &r.DeletedAt, &r.ViewCount, &r.ReplyCount, &r.Score, &r.AcceptedPostID, &r.LastPostNumber,
		&r.LastActivityAt, &r.CreatedAt, &r.EditedAt, &r.Excerpt, &r.AuthorName, &r.AuthorHandle}
	if withUnread {
		d = append(d, &r.LastRead, &r.UnreadCount, &r.FirstUnread)
	}
	return d
}

func (s *threadScan) thread() *Thread {
	s.r.Tags = s.tags
	t := s.r.thread()
	s.r, s.tags = threadRow{}, nil
	return t
}

// postScan is the scan target of postCols plus the viewer's own reactions.
type postScan struct {
	r    postRow
	mine []string
}

func (s *postScan) dest() []any {
	r := &s.r
	return []any{&r.ID, &r.ThreadID, &r.Number, &r.AuthorID, &r.ReplyToPostID, &r.Body, &r.BodyHTML, &r.Reactions,
		&r.Hidden, &r.DeletedAt, &r.CreatedAt, &r.EditedAt, &r.AuthorName, &r.AuthorHandle, &r.AuthorRep, &s.mine}
}

func (s *postScan) post() *Post {
	r := &s.r
	p := &Post{ID: r.ID, ThreadID: r.ThreadID, Number: r.Number, AuthorID: r.AuthorID, ReplyToPostID: r.ReplyToPostID,
		Body: r.Body, BodyHTML: r.BodyHTML, Hidden: r.Hidden, Deleted: r.DeletedAt != nil, CreatedAt: r.CreatedAt,
		EditedAt: r.EditedAt, AuthorName: r.AuthorName, AuthorHandle: r.AuthorHandle, AuthorRep: r.AuthorRep,
		Mine: s.mine, Reactions: map[string]int{}}
	if p.Mine == nil {
		p.Mine = noReactions
	}
	if len(r.Reactions) > 2 { // not "{}"
		if !parseCounts(r.Reactions, p.Reactions) {
			_ = json.Unmarshal(r.Reactions, &p.Reactions)
		}
	}
	s.r, s.mine = postRow{}, nil
	return p
}

// noReactions is the empty list of a viewer's own reactions (shared: never appended to).
var noReactions = []string{}

// parseCounts reads a reactions column, a flat JSON object of small counts as
// PostgreSQL prints jsonb ({"like": 3, "heart": 1}), into m without reflection (it
// ran for every post of every page). It reports false on anything else, for the
// caller to fall back to encoding/json.
func parseCounts(b []byte, m map[string]int) bool {
	i, n := 0, len(b)
	skip := func() {
		for i < n && (b[i] == ' ' || b[i] == ',' || b[i] == '\n') {
			i++
		}
	}
	if n < 2 || b[0] != '{' || b[n-1] != '}' {
		return false
	}
	i = 1
	for {
		skip()
		if i >= n-1 {
			return i == n-1
		}
		if b[i] != '"' {
			return false
		}
		end := i + 1
		for end < n && b[end] != '"' && b[end] != '\\' {
			end++
		}
		if end >= n || b[end] != '"' {
			return false
		}
		key := string(b[i+1 : end])
		i = end + 1
		skip()
		if i >= n || b[i] != ':' {
			return false
		}
		i++
		skip()
		v, digits := 0, 0
		for i < n && b[i] >= '0' && b[i] <= '9' && digits < 9 {
			v = v*10 + int(b[i]-'0')
			i++
			digits++
		}
		if digits == 0 || (i < n && b[i] != ',' && b[i] != '}' && b[i] != ' ') {
			return false
		}
		m[key] = v
	}
}

// pagePostsSQL reads posts numbered $2..$3 of thread $1 with their authors' names
// (their reputations: authorReputations); mine is the viewer's reactions ($4), or none for visitors. Without
// withSource the Markdown bodies stay in the database (pages show only the HTML).
func pagePostsSQL(viewer, withHidden, withSource bool) string {
	i := 0
	for bit, on := range []bool{viewer, withHidden, withSource} {
		if on {
			i |= 1 << bit
		}
	}
	return pagePostsSQLs[i]
}

// pagePostsSQLs are the eight variants of pagePostsSQL, built once.
var pagePostsSQLs = func() (qs [8]string) {
	for i := range qs {
		qs[i] = buildPagePostsSQL(i&1 != 0, i&2 != 0, i&4 != 0)
	}
	return qs
}()

func buildPagePostsSQL(viewer, withHidden, withSource bool) string {
	// reputations come from the Store's cache (authorReputations), not a join
	cols := strings.Replace(postCols, "coalesce(ms.reputation, 0) AS author_rep", "0 AS author_rep", 1)
	if !withSource {
		cols = strings.Replace(cols, "p.body,", "''::text AS body,", 1)
	}
	mine := `NULL::text[]` // a visitor's: none (post() makes it an empty list, as '{}' was, without decoding one per row)
	if viewer {
		mine = `ARRAY(SELECT r.kind FROM forum_reactions r WHERE r.post_id = p.id AND r.member_id = $4)`
	}
	q := `SELECT ` + cols + `, ` + mine + ` AS mine
	      FROM forum_posts p
	      WHERE p.thread_id = $1 AND p.number BETWEEN $2 AND $3`
	if !withHidden {
		q += ` AND NOT p.hidden AND p.deleted_at IS NULL`
	}
	return q + ` ORDER BY p.number`
}

// threadPageRead is what one round trip returns for a thread page.
type threadPageRead struct {
	thread   *Thread
	posts    []*Post
	lastRead int // the viewer's read position before this visit (0 = never, or a visitor)
}

// threadPage reads a thread with its author, the posts numbered from..to (hidden and
// deleted ones only when withHidden) and, for a member, their read position: three
// statements sent together as one pgx batch, so a page costs one round trip. The
// caller still checks that the viewer may see the thread.
func (s *Store) threadPage(ctx context.Context, id int64, from, to int, viewer int64, withHidden, withSource bool) (*threadPageRead, error) {
	out := &threadPageRead{}
	err := db.Pgx(ctx, s.db, func(conn *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT `+threadCols+` FROM forum_threads t WHERE t.id = $1`, id)
		if viewer != 0 {
			b.Queue(pagePostsSQL(true, withHidden, withSource), id, from, to, viewer)
			b.Queue(`SELECT coalesce(max(last_read), 0) FROM forum_read_state WHERE member_id = $1 AND thread_id = $2`, viewer, id)
		} else {
			b.Queue(pagePostsSQL(false, withHidden, withSource), id, from, to)
		}
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		var ts threadScan
		if err := br.QueryRow().Scan(ts.dest(false)...); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errNotFound
			}
			return err
		}
		out.thread = ts.thread()
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var ps postScan
		out.posts = make([]*Post, 0, to-from+1)
		for rows.Next() {
			if err := rows.Scan(ps.dest()...); err != nil {
				rows.Close()
				return err
			}
			out.posts = append(out.posts, ps.post())
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if viewer != 0 {
			if err := br.QueryRow().Scan(&out.lastRead); err != nil {
				return err
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		return s.authorReputations(ctx, conn, out.posts)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listReq is one thread list to read: its filter and order, where the page starts,
// and its page size (limit+1 rows are read, so the caller knows if there is more).
type listReq struct {
	spec  listSpec
	after *cursor
	limit int
}

// listThreads reads thread lists (visible threads in readable categories, with author
// names and the viewer's unread counts), all in one round trip: a category's first
// page asks for its pinned threads beside the page itself.
func (s *Store) listThreads(ctx context.Context, readable []int64, viewer int64, reqs ...listReq) ([][]*Thread, error) {
	out := make([][]*Thread, len(reqs))
	err := db.Pgx(ctx, s.db, func(conn *pgx.Conn) error {
		b := &pgx.Batch{}
		generic := true
		for _, r := range reqs {
			generic = generic && r.spec.genericPlan
		}
		if generic {
			// PostgreSQL plans a prepared statement anew on every execution while its
			// estimate for the generic plan is above that of a custom one, which it
			// was for the category and latest lists (~0.2 ms of planning for ~0.1 ms
			// of execution). SET LOCAL lasts until the batch's implicit transaction ends.
			b.Queue(`SET LOCAL plan_cache_mode = force_generic_plan`)
		}
		for _, r := range reqs {
			q, args := r.spec.sql(readable, viewer, r.after, r.limit)
			b.Queue(q, args...)
		}
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if generic {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		var ts threadScan
		dest := ts.dest(true)
		for i, r := range reqs {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			out[i] = make([]*Thread, 0, r.limit+1)
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return err
				}
				out[i] = append(out[i], ts.thread())
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return br.Close()
	})
	return out, err
}

// sql compiles the list query with numbered placeholders for pgx.
func (spec listSpec) sql(readable []int64, viewer int64, after *cursor, limit int) (string, []any) {
	where := []string{"t.deleted_at IS NULL", "NOT t.hidden"}
	var args []any // in the order of the ?s below: the join's viewer, then the filters
	if viewer != 0 {
		args = append(args, viewer)
	}
	if !spec.oneCategory {
		where = append(where, "t.category_id = ANY(?)")
		args = append(args, readable)
	}
	where = append(where, spec.where...)
	args = append(args, spec.args...)
	if after != nil {
		if spec.byScore {
			where = append(where, "(t.score, t.id) < (?, ?)")
			args = append(args, after.score, after.id)
		} else {
			where = append(where, "("+spec.timeCol+", t.id) < (?, ?)")
			args = append(args, after.at, after.id)
		}
	}
	// a visitor has no read state: spare the join (one index probe per row)
	unread := `NULL::int AS last_read, NULL::bigint AS unread_count, NULL::int AS first_unread`
	join := ``
	if viewer != 0 {
		unread = `rs.last_read,
	        CASE WHEN rs.last_read IS NULL THEN NULL ELSE (SELECT count(*) FROM forum_posts p
	             WHERE p.thread_id = t.id AND p.number > rs.last_read AND NOT p.hidden AND p.deleted_at IS NULL) END AS unread_count,
	        CASE WHEN rs.last_read IS NULL THEN NULL ELSE (SELECT min(p.number) FROM forum_posts p
	             WHERE p.thread_id = t.id AND p.number > rs.last_read AND NOT p.hidden AND p.deleted_at IS NULL) END AS first_unread`
		join = `LEFT JOIN forum_read_state rs ON rs.member_id = ? AND rs.thread_id = t.id`
	}
	q := `SELECT ` + threadCols + `, ` + unread + `
	      FROM forum_threads t
	      ` + join + `
	      WHERE ` + strings.Join(where, " AND ") + `
	      ORDER BY ` + spec.order + ` LIMIT ` + strconv.Itoa(limit+1)
	// The limit is written into the SQL, not passed as a parameter: a generic plan
	// with LIMIT $n is costed for 10 % of the table, which ruled it out.
	return numberPlaceholders(q), args
}

// numberPlaceholders turns each ? of q into $1, $2, … in order (pgx speaks PostgreSQL's
// numbered parameters; the list filters are written with ? like the rest of the store).
func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		n++
		b.WriteString(q[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		q = q[i+1:]
	}
}

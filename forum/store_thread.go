package forum

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// errNotFound is the store's "no such row"; the service turns it into apperr.NotFound.
var errNotFound = errors.New("forum: not found")

// errKeyReused: an Idempotency-Key already used for a different kind of request.
var errKeyReused = apperr.New(apperr.Conflict, "forum.err.key_reused").WithField("idempotency_key", "forum.err.key_reused")

// threadRow is a forum_threads row joined with its author, as scanned from SQL.
type threadRow struct {
	ID             int64
	CategoryID     int64
	AuthorID       int64
	Kind           string
	Title          string
	Slug           string
	Tags           pq.StringArray `gorm:"type:text[]"`
	Pinned         bool
	Locked         bool
	Hidden         bool
	DeletedAt      *time.Time
	ViewCount      int64
	ReplyCount     int
	Score          int
	AcceptedPostID *int64
	LastPostNumber int
	LastActivityAt time.Time
	CreatedAt      time.Time
	EditedAt       *time.Time
	AuthorName     string
	AuthorHandle   string
	LastRead       *int
	FirstUnread    *int
	UnreadCount    *int
	Excerpt        string
}

func (r *threadRow) thread() *Thread {
	t := &Thread{ID: r.ID, CategoryID: r.CategoryID, AuthorID: r.AuthorID, Kind: ThreadKind(r.Kind),
		Title: r.Title, Slug: r.Slug, Tags: []string(r.Tags), Pinned: r.Pinned, Locked: r.Locked,
		Hidden: r.Hidden, Deleted: r.DeletedAt != nil, ViewCount: r.ViewCount, ReplyCount: r.ReplyCount,
		Score: r.Score, AcceptedPostID: r.AcceptedPostID, Solved: r.AcceptedPostID != nil,
		LastPostNumber: r.LastPostNumber, LastActivityAt: r.LastActivityAt, CreatedAt: r.CreatedAt,
		EditedAt: r.EditedAt, AuthorName: r.AuthorName, AuthorHandle: r.AuthorHandle, Unread: -1, Excerpt: r.Excerpt}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if r.LastRead != nil && r.UnreadCount != nil {
		t.Unread = *r.UnreadCount
		if r.FirstUnread != nil {
			t.FirstUnread = *r.FirstUnread
		}
	}
	return t
}

const threadCols = `t.id, t.category_id, t.author_id, t.kind, t.title, t.slug, t.tags, t.pinned, t.locked,
	t.hidden, t.deleted_at, t.view_count, t.reply_count, t.score, t.accepted_post_id, t.last_post_number,
	t.last_activity_at, t.created_at, t.edited_at, t.excerpt, t.author_name, t.author_handle`

// thread reads one thread with its author; lock adds FOR UPDATE OF t, serialising
// writers to the same thread (reply numbering, counters).
func (s *Store) thread(ctx context.Context, id int64, lock bool) (*Thread, error) {
	q := `SELECT ` + threadCols + ` FROM forum_threads t WHERE t.id = ?`
	if lock {
		q += ` FOR UPDATE OF t`
	}
	var r threadRow
	res := db.Conn(ctx, s.db).Raw(q, id).Scan(&r)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errNotFound
	}
	return r.thread(), nil
}

func (s *Store) category(ctx context.Context, id int64) (*Category, error) {
	return s.findCategory(ctx, func(c *Category) bool { return c.ID == id })
}

func (s *Store) categoryBySlug(ctx context.Context, slug string) (*Category, error) {
	return s.findCategory(ctx, func(c *Category) bool { return c.Slug == slug })
}

func (s *Store) findCategory(ctx context.Context, match func(*Category) bool) (*Category, error) {
	cats, err := s.Categories(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cats {
		if match(&cats[i]) {
			c := cats[i]
			return &c, nil
		}
	}
	return nil, errNotFound
}

func (s *Store) insertThread(ctx context.Context, t *Thread) error {
	return db.Conn(ctx, s.db).Raw(
		`INSERT INTO forum_threads (category_id, author_id, kind, title, slug, tags, last_poster_id, excerpt)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at, last_activity_at`,
		t.CategoryID, t.AuthorID, string(t.Kind), t.Title, t.Slug, pq.StringArray(t.Tags), t.AuthorID, t.Excerpt).
		Row().Scan(&t.ID, &t.CreatedAt, &t.LastActivityAt)
}

// insertPost appends post number p.Number (chosen by the caller under the thread lock).
func (s *Store) insertPost(ctx context.Context, p *Post, html string) error {
	return db.Conn(ctx, s.db).Raw(
		`INSERT INTO forum_posts (thread_id, number, author_id, reply_to_post_id, body, body_html)
		 VALUES (?, ?, ?, ?, ?, ?) RETURNING id, created_at`,
		p.ThreadID, p.Number, p.AuthorID, p.ReplyToPostID, p.Body, html).Row().Scan(&p.ID, &p.CreatedAt)
}

// afterReply bumps the thread for a new visible reply.
func (s *Store) afterReply(ctx context.Context, threadID int64, number int, author int64, at time.Time) error {
	return db.Conn(ctx, s.db).Exec(
		`UPDATE forum_threads SET reply_count = reply_count + 1, score = score + 1, last_post_number = ?, last_poster_id = ?,
		        last_activity_at = ?, updated_at = now() WHERE id = ?`, number, author, at, threadID).Error
}

// setThread updates the named columns of a thread.
func (s *Store) setThread(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = time.Now()
	return db.Conn(ctx, s.db).Table("forum_threads").Where("id = ?", id).Updates(cols).Error
}

func (s *Store) setPost(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = time.Now()
	return db.Conn(ctx, s.db).Table("forum_posts").Where("id = ?", id).Updates(cols).Error
}

// recount sets reply_count and score from the visible posts (after hide/delete/restore).
func (s *Store) recount(ctx context.Context, threadID int64) error {
	return db.Conn(ctx, s.db).Exec(
		`UPDATE forum_threads t SET
		    reply_count = (SELECT count(*) FROM forum_posts p WHERE p.thread_id = t.id AND p.number > 1
		                   AND NOT p.hidden AND p.deleted_at IS NULL),
		    score = (SELECT count(*) FROM forum_reactions r JOIN forum_posts p ON p.id = r.post_id
		             WHERE p.thread_id = t.id AND NOT p.hidden AND p.deleted_at IS NULL)
		              + (SELECT count(*) FROM forum_posts p WHERE p.thread_id = t.id AND p.number > 1
		                 AND NOT p.hidden AND p.deleted_at IS NULL),
		    updated_at = now()
		 WHERE t.id = ?`, threadID).Error
}

// postRow is a forum_posts row joined with its author.
type postRow struct {
	ID            int64
	ThreadID      int64
	Number        int
	AuthorID      int64
	ReplyToPostID *int64
	Body          string
	BodyHTML      string
	Reactions     []byte
	Hidden        bool
	DeletedAt     *time.Time
	CreatedAt     time.Time
	EditedAt      *time.Time
	AuthorName    string
	AuthorHandle  string
	AuthorRep     int
	Mine          pq.StringArray `gorm:"type:text[]"`
}

func (r *postRow) post() *Post {
	p := &Post{ID: r.ID, ThreadID: r.ThreadID, Number: r.Number, AuthorID: r.AuthorID, ReplyToPostID: r.ReplyToPostID,
		Body: r.Body, BodyHTML: r.BodyHTML, Hidden: r.Hidden, Deleted: r.DeletedAt != nil, CreatedAt: r.CreatedAt,
		EditedAt: r.EditedAt, AuthorName: r.AuthorName, AuthorHandle: r.AuthorHandle, AuthorRep: r.AuthorRep,
		Mine: []string(r.Mine), Reactions: map[string]int{}}
	_ = json.Unmarshal(r.Reactions, &p.Reactions)
	return p
}

const postCols = `p.id, p.thread_id, p.number, p.author_id, p.reply_to_post_id, p.body, p.body_html, p.reactions,
	p.hidden, p.deleted_at, p.created_at, p.edited_at, p.author_name, p.author_handle,
	coalesce(ms.reputation, 0) AS author_rep`

// post reads one post; lock adds FOR UPDATE OF p.
func (s *Store) post(ctx context.Context, id int64, lock bool) (*Post, error) {
	q := `SELECT ` + postCols + `, '{}'::text[] AS mine FROM forum_posts p
	      LEFT JOIN forum_member_stats ms ON ms.member_id = p.author_id WHERE p.id = ?`
	if lock {
		q += ` FOR UPDATE OF p`
	}
	var r postRow
	res := db.Conn(ctx, s.db).Raw(q, id).Scan(&r)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errNotFound
	}
	return r.post(), nil
}

// firstPost is the opening post of a thread.
func (s *Store) firstPostID(ctx context.Context, threadID int64) (int64, error) {
	var id int64
	res := db.Conn(ctx, s.db).Raw(`SELECT id FROM forum_posts WHERE thread_id = ? AND number = 1`, threadID).Scan(&id)
	if res.RowsAffected == 0 {
		return 0, errNotFound
	}
	return id, res.Error
}

func (s *Store) addRevision(ctx context.Context, postID, editor int64, title *string, body string) error {
	return db.Conn(ctx, s.db).Exec(
		`INSERT INTO forum_post_revisions (post_id, revision, editor_id, title, body)
		 SELECT ?, coalesce(max(revision), 0) + 1, ?, ?, ? FROM forum_post_revisions WHERE post_id = ?`,
		postID, editor, title, body, postID).Error
}

// Revision is one earlier version of a post.
type Revision struct {
	Revision   int       `json:"revision"`
	EditorID   int64     `json:"editor_id"`
	EditorName string    `json:"editor_name"`
	Title      *string   `json:"title,omitempty"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

func (s *Store) revisions(ctx context.Context, postID int64) ([]Revision, error) {
	var out []Revision
	err := db.Conn(ctx, s.db).Raw(
		`SELECT r.revision, r.editor_id, u.display_name AS editor_name, r.title, r.body, r.created_at
		   FROM forum_post_revisions r JOIN users u ON u.id = r.editor_id
		  WHERE r.post_id = ? ORDER BY r.revision DESC`, postID).Scan(&out).Error
	return out, err
}

// addStats adjusts a member's forum counters, creating the row on first use.
func (s *Store) addStats(ctx context.Context, member int64, rep, threads, replies, accepted int) error {
	if rep != 0 {
		s.reps.forget(member)
	}
	return db.Conn(ctx, s.db).Exec(
		`INSERT INTO forum_member_stats (member_id, reputation, threads, replies, accepted) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (member_id) DO UPDATE SET reputation = forum_member_stats.reputation + EXCLUDED.reputation,
		   threads = forum_member_stats.threads + EXCLUDED.threads, replies = forum_member_stats.replies + EXCLUDED.replies,
		   accepted = forum_member_stats.accepted + EXCLUDED.accepted`,
		member, rep, threads, replies, accepted).Error
}

// mentioned is a member found by @handle, with the role that decides what they may read.
type mentioned struct {
	ID   int64
	Role string
}

// membersByHandle resolves @handles to members (unknown handles are dropped).
func (s *Store) membersByHandle(ctx context.Context, handles []string) ([]mentioned, error) {
	if len(handles) == 0 {
		return nil, nil
	}
	var out []mentioned
	err := db.Conn(ctx, s.db).Raw(`SELECT id, role FROM users WHERE lower(handle) = ANY(?)`, pq.StringArray(handles)).Scan(&out).Error
	return out, err
}

// claimIdempotency records key for member; if the key was used before it returns the
// earlier result id and ok=false. A concurrent first use blocks on the unique key
// until that transaction ends, so two racing requests still create one post.
func (s *Store) claimIdempotency(ctx context.Context, member int64, key, kind string) (prior int64, ok bool, err error) {
	res := db.Conn(ctx, s.db).Exec(
		`INSERT INTO forum_idempotency (member_id, key, result_kind, result_id) VALUES (?, ?, ?, 0)
		 ON CONFLICT (member_id, key) DO NOTHING`, member, key, kind)
	if res.Error != nil {
		return 0, false, res.Error
	}
	if res.RowsAffected == 1 {
		return 0, true, nil
	}
	var row struct {
		ResultKind string
		ResultID   int64
	}
	err = db.Conn(ctx, s.db).Raw(`SELECT result_kind, result_id FROM forum_idempotency WHERE member_id = ? AND key = ?`, member, key).Scan(&row).Error
	if err == nil && row.ResultKind != kind {
		// the key was spent on another kind of request: refuse rather than answer
		// with something the client did not ask for
		err = errKeyReused
	}
	return row.ResultID, false, err
}

func (s *Store) finishIdempotency(ctx context.Context, member int64, key string, id int64) error {
	return db.Conn(ctx, s.db).Exec(`UPDATE forum_idempotency SET result_id = ? WHERE member_id = ? AND key = ?`, id, member, key).Error
}

func pqArray(s []string) pq.StringArray { return pq.StringArray(s) }

// setReaction inserts or deletes one reaction; changed is false when it was already so.
func (s *Store) setReaction(ctx context.Context, postID, member int64, kind string, on bool) (bool, error) {
	var res *gorm.DB
	if on {
		res = db.Conn(ctx, s.db).Exec(`INSERT INTO forum_reactions (post_id, member_id, kind) VALUES (?, ?, ?)
		                                ON CONFLICT DO NOTHING`, postID, member, kind)
	} else {
		res = db.Conn(ctx, s.db).Exec(`DELETE FROM forum_reactions WHERE post_id = ? AND member_id = ? AND kind = ?`, postID, member, kind)
	}
	return res.RowsAffected == 1, res.Error
}

// bumpReaction keeps the post's per-kind counts and the thread's score in step.
func (s *Store) bumpReaction(ctx context.Context, p *Post, kind string, delta int) error {
	err := db.Conn(ctx, s.db).Exec(
		`UPDATE forum_posts SET reactions = jsonb_set(reactions, ARRAY[?::text],
		        to_jsonb(greatest(coalesce((reactions->>?)::int, 0) + ?, 0))) WHERE id = ?`,
		kind, kind, delta, p.ID).Error
	if err != nil {
		return err
	}
	return db.Conn(ctx, s.db).Exec(`UPDATE forum_threads SET score = greatest(score + ?, 0) WHERE id = ?`, delta, p.ThreadID).Error
}

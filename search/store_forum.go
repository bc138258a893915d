package search

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// forumStore reads the forum's tables for indexing. Search owns this read model: it
// reads forum_threads, forum_posts, forum_categories and users directly rather than
// importing the forum, and never writes them.
type forumStore struct{ db *gorm.DB }

// visible is the forum's rule for what members may see at all.
const visible = `deleted_at IS NULL AND NOT hidden`

type threadRow struct {
	ID             int64
	CategoryID     int64
	AuthorID       int64
	Kind           string
	Title          string
	Slug           string
	Tags           pq.StringArray `gorm:"type:text[]"`
	Hidden         bool
	DeletedAt      *time.Time
	ReplyCount     int
	Score          int
	AcceptedPostID *int64
	CreatedAt      time.Time
	AuthorHandle   string
	AuthorName     string
	ReadRoles      pq.StringArray `gorm:"type:text[]"`
	BodyHTML       string
}

func (r *threadRow) visible() bool { return r.DeletedAt == nil && !r.Hidden }

const threadSelect = `SELECT t.id, t.category_id, t.author_id, t.kind, t.title, t.slug, t.tags, t.hidden,
	t.deleted_at, t.reply_count, t.score, t.accepted_post_id, t.created_at,
	u.handle AS author_handle, u.display_name AS author_name, c.read_roles,
	coalesce(p.body_html, '') AS body_html
	FROM forum_threads t
	JOIN users u ON u.id = t.author_id
	JOIN forum_categories c ON c.id = t.category_id
	LEFT JOIN forum_posts p ON p.thread_id = t.id AND p.number = 1`

// thread reads one thread with its opening post; nil when it does not exist.
func (s *forumStore) thread(ctx context.Context, id int64) (*threadRow, error) {
	var rows []threadRow
	if err := db.Conn(ctx, s.db).Raw(threadSelect+` WHERE t.id = ?`, id).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search: read thread %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// visibleThreads pages through visible threads in id order.
func (s *forumStore) visibleThreads(ctx context.Context, after int64, limit int) ([]threadRow, error) {
	var rows []threadRow
	err := db.Conn(ctx, s.db).Raw(threadSelect+` WHERE t.id > ? AND t.deleted_at IS NULL AND NOT t.hidden
		ORDER BY t.id LIMIT ?`, after, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("search: scan threads: %w", err)
	}
	return rows, nil
}

type postRow struct {
	ID           int64
	ThreadID     int64
	Number       int
	AuthorID     int64
	BodyHTML     string
	Score        int
	Hidden       bool
	DeletedAt    *time.Time
	CreatedAt    time.Time
	AuthorHandle string
	AuthorName   string
}

func (r *postRow) visible() bool { return r.DeletedAt == nil && !r.Hidden }

const postSelect = `SELECT p.id, p.thread_id, p.number, p.author_id, p.body_html, p.hidden, p.deleted_at,
	p.created_at, u.handle AS author_handle, u.display_name AS author_name,
	(SELECT coalesce(sum(v::int), 0) FROM jsonb_each_text(p.reactions) AS r(k, v)) AS score
	FROM forum_posts p JOIN users u ON u.id = p.author_id`

// post reads one post; nil when it does not exist.
func (s *forumStore) post(ctx context.Context, id int64) (*postRow, error) {
	var rows []postRow
	if err := db.Conn(ctx, s.db).Raw(postSelect+` WHERE p.id = ?`, id).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search: read post %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// postThread is the thread of post id (0 when the post does not exist).
func (s *forumStore) postThread(ctx context.Context, id int64) (int64, error) {
	var tid int64
	err := db.Conn(ctx, s.db).Raw(`SELECT thread_id FROM forum_posts WHERE id = ?`, id).Row().Scan(&tid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("search: thread of post %d: %w", id, err)
	}
	return tid, nil
}

// replies pages through a thread's replies (every state) in number order.
func (s *forumStore) replies(ctx context.Context, threadID int64, afterNumber, limit int) ([]postRow, error) {
	var rows []postRow
	err := db.Conn(ctx, s.db).Raw(postSelect+` WHERE p.thread_id = ? AND p.number > ?
		ORDER BY p.number LIMIT ?`, threadID, max(afterNumber, 1), limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("search: replies of %d: %w", threadID, err)
	}
	return rows, nil
}

// visibleReplies pages through visible replies of visible threads in id order, with
// their threads (for reindex).
func (s *forumStore) visibleReplies(ctx context.Context, after int64, limit int) ([]postRow, map[int64]*threadRow, error) {
	var rows []postRow
	err := db.Conn(ctx, s.db).Raw(postSelect+`
		JOIN forum_threads t ON t.id = p.thread_id
		WHERE p.id > ? AND p.number > 1 AND p.deleted_at IS NULL AND NOT p.hidden
		  AND t.deleted_at IS NULL AND NOT t.hidden
		ORDER BY p.id LIMIT ?`, after, limit).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("search: scan replies: %w", err)
	}
	ids := make([]int64, 0, len(rows))
	seen := map[int64]bool{}
	for _, r := range rows {
		if !seen[r.ThreadID] {
			seen[r.ThreadID] = true
			ids = append(ids, r.ThreadID)
		}
	}
	threads := map[int64]*threadRow{}
	if len(ids) == 0 {
		return rows, threads, nil
	}
	// The opening posts' bodies are not needed for replies: skip the join's text.
	var ts []threadRow
	err = db.Conn(ctx, s.db).Raw(`SELECT t.id, t.category_id, t.kind, t.title, t.slug, t.tags,
		t.accepted_post_id, c.read_roles
		FROM forum_threads t JOIN forum_categories c ON c.id = t.category_id
		WHERE t.id IN ?`, ids).Scan(&ts).Error
	if err != nil {
		return nil, nil, fmt.Errorf("search: threads of replies: %w", err)
	}
	for i := range ts {
		threads[ts[i].ID] = &ts[i]
	}
	return rows, threads, nil
}

// counts is how many documents a reindex will write.
func (s *forumStore) countThreads(ctx context.Context) (int64, error) {
	var n int64
	err := db.Conn(ctx, s.db).Raw(`SELECT count(*) FROM forum_threads WHERE ` + visible).Row().Scan(&n)
	return n, err
}

func (s *forumStore) countReplies(ctx context.Context) (int64, error) {
	var n int64
	err := db.Conn(ctx, s.db).Raw(`SELECT count(*) FROM forum_posts p JOIN forum_threads t ON t.id = p.thread_id
		WHERE p.number > 1 AND p.deleted_at IS NULL AND NOT p.hidden AND t.deleted_at IS NULL AND NOT t.hidden`).Row().Scan(&n)
	return n, err
}

// categoryRoles maps every category to its read roles.
func (s *forumStore) categories(ctx context.Context) ([]categoryRow, error) {
	var cs []categoryRow
	err := db.Conn(ctx, s.db).Raw(`SELECT id, slug, name, name_zh, read_roles FROM forum_categories ORDER BY position, id`).Scan(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("search: categories: %w", err)
	}
	return cs, nil
}

type categoryRow struct {
	ID        int64
	Slug      string
	Name      string
	NameZh    string
	ReadRoles pq.StringArray `gorm:"type:text[]"`
}

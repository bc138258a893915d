package forum

import (
	"context"
	"errors"
	"time"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// Profile is a member's public forum profile.
type Profile struct {
	ID          int64       `json:"id"`
	Handle      string      `json:"handle"`
	DisplayName string      `json:"display_name"`
	Role        string      `json:"role"`
	JoinedAt    time.Time   `json:"joined_at"`
	Reputation  int         `json:"reputation"`
	Threads     int         `json:"thread_count"`
	Replies     int         `json:"reply_count"`
	Accepted    int         `json:"accepted_count"`
	Recent      []*Thread   `json:"threads"`
	RecentPosts []PostBrief `json:"replies"`
	Answers     []PostBrief `json:"accepted_answers"`
}

// PostBrief is a reply in a member's activity list.
type PostBrief struct {
	PostID      int64     `json:"post_id"`
	Number      int       `json:"number"`
	ThreadID    int64     `json:"thread_id"`
	ThreadTitle string    `json:"thread_title"`
	ThreadSlug  string    `json:"thread_slug"`
	Excerpt     string    `json:"excerpt"`
	CreatedAt   time.Time `json:"created_at"`
}

// Profile shows a member's reputation, their threads, replies and accepted answers,
// limited to what a may read.
func (s *Service) Profile(ctx context.Context, a Actor, handle string) (*Profile, error) {
	var row struct {
		ID                        int64
		Handle, DisplayName, Role string
		JoinedAt                  time.Time
		Reputation, Threads       int
		Replies, Accepted         int
	}
	res := db.Conn(ctx, s.db).Raw(
		`SELECT u.id, u.handle, u.display_name, u.role, u.created_at AS joined_at,
		        coalesce(ms.reputation, 0) AS reputation, coalesce(ms.accepted, 0) AS accepted,
		        -- counted live so hidden and deleted content never shows in a count
		        (SELECT count(*) FROM forum_threads t WHERE t.author_id = u.id AND NOT t.hidden AND t.deleted_at IS NULL) AS threads,
		        (SELECT count(*) FROM forum_posts p JOIN forum_threads t ON t.id = p.thread_id
		          WHERE p.author_id = u.id AND p.number > 1 AND NOT p.hidden AND p.deleted_at IS NULL
		            AND NOT t.hidden AND t.deleted_at IS NULL) AS replies
		   FROM users u LEFT JOIN forum_member_stats ms ON ms.member_id = u.id
		  WHERE lower(u.handle) = lower(?)`, handle).Scan(&row)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, apperr.Wrap(apperr.NotFound, "error.not_found", errors.New("no such handle"))
	}
	p := Profile{ID: row.ID, Handle: row.Handle, DisplayName: row.DisplayName, Role: row.Role, JoinedAt: row.JoinedAt,
		Reputation: row.Reputation, Threads: row.Threads, Replies: row.Replies, Accepted: row.Accepted}
	cats, err := s.VisibleCategories(ctx, a.Role)
	if err != nil {
		return nil, err
	}
	readable := make([]int64, len(cats))
	for i, c := range cats {
		readable[i] = c.ID
	}
	spec := listSpec{where: []string{"t.author_id = ?"}, args: []any{p.ID}, order: "t.created_at DESC, t.id DESC", timeCol: "t.created_at"}
	lists, err := s.store.listThreads(ctx, readable, a.ID, listReq{spec: spec, limit: 9})
	if err != nil {
		return nil, err
	}
	p.Recent = lists[0]
	if p.RecentPosts, err = s.store.memberPosts(ctx, p.ID, readable, false); err != nil {
		return nil, err
	}
	if p.Answers, err = s.store.memberPosts(ctx, p.ID, readable, true); err != nil {
		return nil, err
	}
	for _, list := range [][]PostBrief{p.RecentPosts, p.Answers} {
		for i := range list {
			list[i].Excerpt = s.render.Excerpt(list[i].Excerpt, 160)
		}
	}
	return &p, nil
}

// memberPosts lists a member's latest visible replies (or accepted answers) in
// visible threads of readable categories.
func (s *Store) memberPosts(ctx context.Context, member int64, readable []int64, accepted bool) ([]PostBrief, error) {
	q := `SELECT p.id AS post_id, p.number, t.id AS thread_id, t.title AS thread_title, t.slug AS thread_slug,
	             left(p.body, 600) AS excerpt, p.created_at
	        FROM forum_posts p JOIN forum_threads t ON t.id = p.thread_id
	       WHERE p.author_id = ? AND p.number > 1 AND NOT p.hidden AND p.deleted_at IS NULL
	         AND NOT t.hidden AND t.deleted_at IS NULL AND t.category_id = ANY(?)`
	if accepted {
		q += ` AND t.accepted_post_id = p.id`
	}
	q += ` ORDER BY p.created_at DESC LIMIT 10`
	var out []PostBrief
	err := db.Conn(ctx, s.db).Raw(q, member, pq.Int64Array(readable)).Scan(&out).Error
	return out, err
}

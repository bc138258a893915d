package forum

import (
	"context"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
)

// UnresolvedQuestions is a churn signal: the members' questions still without an
// accepted answer after p.UnresolvedAfter (6 points each, at most 18).
func UnresolvedQuestions(ctx context.Context, gdb *gorm.DB, members []int64, p crm.Params) (map[int64]crm.Factor, error) {
	return countSignal(ctx, gdb, `SELECT author_id AS member, count(*) AS n FROM forum_threads
		  WHERE author_id = ANY(?) AND kind = 'question' AND accepted_post_id IS NULL
		    AND deleted_at IS NULL AND created_at < ? AND created_at > CAST(? AS timestamptz) - interval '180 days'
		  GROUP BY author_id`, "crm.factor.unresolved", 6, 18,
		pq.Int64Array(members), time.Now().Add(-p.UnresolvedAfter), time.Now())
}

// RemovedPosts is a churn signal: the members' posts hidden or deleted by moderators
// in the last 90 days (8 points each, at most 24).
func RemovedPosts(ctx context.Context, gdb *gorm.DB, members []int64, _ crm.Params) (map[int64]crm.Factor, error) {
	return countSignal(ctx, gdb, `SELECT author_id AS member, count(*) AS n FROM forum_posts
		  WHERE author_id = ANY(?) AND (hidden OR deleted_at IS NOT NULL) AND updated_at > now() - interval '90 days'
		  GROUP BY author_id`, "crm.factor.removed_posts", 8, 24, pq.Int64Array(members))
}

// countSignal runs a query of (member, n) rows and scores each member's n at per points
// each, at most most.
func countSignal(ctx context.Context, gdb *gorm.DB, query, key string, per, most int64, args ...any) (map[int64]crm.Factor, error) {
	var rows []struct{ Member, N int64 }
	if err := db.Conn(ctx, gdb).Raw(query, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]crm.Factor, len(rows))
	for _, r := range rows {
		out[r.Member] = crm.Factor{Key: key, Points: float64(min(r.N*per, most)), Value: float64(r.N)}
	}
	return out, nil
}

// ExportMember lists what a member wrote, for their data export.
func (s *Service) ExportMember(ctx context.Context, member int64) (any, error) {
	var posts []struct {
		ThreadID    int64     `json:"thread_id"`
		ThreadTitle string    `json:"thread_title"`
		Number      int       `json:"number"`
		Body        string    `json:"body"`
		CreatedAt   time.Time `json:"created_at"`
	}
	err := db.Conn(ctx, s.db).Raw(
		`SELECT t.id AS thread_id, t.title AS thread_title, p.number, p.body, p.created_at
		   FROM forum_posts p JOIN forum_threads t ON t.id = p.thread_id
		  WHERE p.author_id = ? ORDER BY p.created_at`, member).Scan(&posts).Error
	return posts, err
}

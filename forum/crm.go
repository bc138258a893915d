package forum

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
)

// UnresolvedQuestions is a churn signal: the member's questions still without an
// accepted answer after p.UnresolvedAfter (6 points each, at most 18).
func UnresolvedQuestions(ctx context.Context, gdb *gorm.DB, member int64, p crm.Params) (crm.Factor, error) {
	var n int64
	err := db.Conn(ctx, gdb).Raw(
		`SELECT count(*) FROM forum_threads WHERE author_id = ? AND kind = 'question' AND accepted_post_id IS NULL
		    AND deleted_at IS NULL AND created_at < ? AND created_at > CAST(? AS timestamptz) - interval '180 days'`,
		member, time.Now().Add(-p.UnresolvedAfter), time.Now()).Scan(&n).Error
	return crm.Factor{Key: "crm.factor.unresolved", Points: float64(min(n*6, 18)), Value: float64(n)}, err
}

// RemovedPosts is a churn signal: the member's posts hidden or deleted by moderators
// in the last 90 days (8 points each, at most 24).
func RemovedPosts(ctx context.Context, gdb *gorm.DB, member int64, _ crm.Params) (crm.Factor, error) {
	var n int64
	err := db.Conn(ctx, gdb).Raw(
		`SELECT count(*) FROM forum_posts WHERE author_id = ? AND (hidden OR deleted_at IS NOT NULL)
		    AND updated_at > now() - interval '90 days'`, member).Scan(&n).Error
	return crm.Factor{Key: "crm.factor.removed_posts", Points: float64(min(n*8, 24)), Value: float64(n)}, err
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

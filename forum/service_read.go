package forum

import (
	"context"
	"fmt"
	"time"

	"github.com/hearth-community/hearth/internal/apperr"
)

// PageSize is the number of threads per list page and posts per thread page.
const PageSize = 30

// List modes.
const (
	ListLatest     = "latest"
	ListTop        = "top"
	ListUnanswered = "unanswered"
	ListCategory   = "category"
	ListTag        = "tag"
)

// ListQuery asks for one page of threads.
type ListQuery struct {
	Mode       string
	Period     string // top: day, week, month or all
	CategoryID int64
	Tag        string
	After      string // the cursor of the previous page's Next
}

// ListPage is one page of threads; Next is empty on the last page.
type ListPage struct {
	Threads []*Thread `json:"threads"`
	Pinned  []*Thread `json:"pinned,omitempty"`
	Next    string    `json:"next,omitempty"`
}

var periods = map[string]time.Duration{"day": 24 * time.Hour, "week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "all": 0}

// List returns a page of visible threads from the categories a may read.
func (s *Service) List(ctx context.Context, a Actor, q ListQuery) (*ListPage, error) {
	cats, err := s.VisibleCategories(ctx, a.Role)
	if err != nil {
		return nil, err
	}
	readable := make([]int64, 0, len(cats))
	for _, c := range cats {
		readable = append(readable, c.ID)
	}
	spec := listSpec{order: "t.last_activity_at DESC, t.id DESC", timeCol: "t.last_activity_at"}
	switch q.Mode {
	case ListLatest, "":
		spec.genericPlan = true
	case ListCategory:
		if !contains(readable, q.CategoryID) {
			return nil, apperr.New(apperr.NotFound, "error.not_found")
		}
		spec.where = append(spec.where, "t.category_id = ?", "NOT t.pinned")
		spec.args, spec.oneCategory, spec.genericPlan = append(spec.args, q.CategoryID), true, true
	case ListTag:
		tags := normalizeTags([]string{q.Tag})
		if len(tags) != 1 {
			return nil, apperr.New(apperr.NotFound, "error.not_found")
		}
		spec.where = append(spec.where, "t.tags @> ?")
		spec.args = append(spec.args, tags)
	case ListUnanswered:
		spec.where = append(spec.where, "t.kind = 'question'", "t.reply_count = 0")
		spec.order, spec.timeCol, spec.genericPlan = "t.created_at DESC, t.id DESC", "t.created_at", true
	case ListTop:
		d, ok := periods[q.Period]
		if !ok {
			return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("period", "forum.err.period")
		}
		if d > 0 {
			spec.where = append(spec.where, "t.created_at >= ?")
			spec.args = append(spec.args, s.now().Add(-d))
		}
		spec.order, spec.byScore = "t.score DESC, t.id DESC", true
	default:
		return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("mode", "forum.err.list_mode")
	}
	var after *cursor
	if q.After != "" {
		c, ok := parseCursor(q.After, spec.byScore)
		if !ok {
			return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("after", "forum.err.cursor")
		}
		after = &c
	}
	reqs := []listReq{{spec: spec, after: after, limit: PageSize}}
	if q.Mode == ListCategory && after == nil {
		// the first page of a category shows its pinned threads above the rest
		pin := listSpec{where: []string{"t.category_id = ?", "t.pinned"}, args: []any{q.CategoryID},
			order: "t.last_activity_at DESC, t.id DESC", timeCol: "t.last_activity_at", oneCategory: true, genericPlan: true}
		reqs = append(reqs, listReq{spec: pin, limit: 10})
	}
	lists, err := s.store.listThreads(ctx, readable, a.ID, reqs...)
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	threads := lists[0]
	page := &ListPage{Threads: threads}
	if len(threads) > PageSize {
		page.Threads = threads[:PageSize]
		last := page.Threads[PageSize-1]
		c := cursor{at: last.LastActivityAt, score: int64(last.Score), id: last.ID}
		if spec.timeCol == "t.created_at" {
			c.at = last.CreatedAt
		}
		page.Next = c.String(spec.byScore)
	}
	if len(lists) > 1 {
		page.Pinned = lists[1]
	}
	return page, nil
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// ThreadView is one page of a thread.
type ThreadView struct {
	Thread    *Thread   `json:"thread"`
	Category  *Category `json:"category"`
	Posts     []*Post   `json:"posts"`
	Page      int       `json:"page"`
	Pages     int       `json:"pages"`
	FirstPost *Post     `json:"-"`
	// LastRead is where the viewer had read to before this visit (0 = never).
	LastRead int `json:"last_read"`
	// CanReply, CanModerate, CanAccept describe what the viewer may do here.
	CanReply    bool `json:"can_reply"`
	CanModerate bool `json:"can_moderate"`
	CanAccept   bool `json:"can_accept"`
	// CanRate: the asker may say whether the accepted answer helped; Rated is their answer.
	CanRate bool  `json:"can_rate"`
	Rated   *bool `json:"rated,omitempty"`
}

// Thread returns page (1-based) of a thread's posts, counts the view, and moves the
// member's read position forward.
func (s *Service) Thread(ctx context.Context, a Actor, id int64, page int) (*ThreadView, error) {
	return s.thread(ctx, a, id, page, true)
}

// ThreadPage is Thread for the web page, which shows the posts' HTML only: their
// Markdown (Post.Body) is left empty, half the bytes of a page's read.
func (s *Service) ThreadPage(ctx context.Context, a Actor, id int64, page int) (*ThreadView, error) {
	return s.thread(ctx, a, id, page, false)
}

func (s *Service) thread(ctx context.Context, a Actor, id int64, page int, withSource bool) (*ThreadView, error) {
	if page < 1 {
		page = 1
	}
	from, to := (page-1)*PageSize+1, page*PageSize
	read, err := s.store.threadPage(ctx, id, from, to, a.ID, a.Moderates(), withSource)
	if err != nil {
		return nil, notFound(err)
	}
	t, posts := read.thread, read.posts
	c, err := s.store.category(ctx, t.CategoryID)
	if err != nil {
		return nil, notFound(err)
	}
	if !c.CanRead(a.Role) || (!t.Visible() && !a.Moderates()) {
		// indistinguishable from a missing thread, so its existence does not leak
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	pages := (t.LastPostNumber + PageSize - 1) / PageSize
	if page > pages {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	v := &ThreadView{Thread: t, Category: c, Posts: posts, Page: page, Pages: pages,
		CanReply:    a.Member() && t.Visible() && (!t.Locked || a.Moderates()),
		CanModerate: a.Moderates(),
		CanAccept:   t.Kind == KindQuestion && a.Member() && (a.ID == t.AuthorID || a.Moderates())}
	now := s.now()
	for _, p := range posts {
		p.Accepted = t.AcceptedPostID != nil && *t.AcceptedPostID == p.ID
		p.CanEdit = a.canEdit(p.AuthorID, p.CreatedAt, now)
		p.CanHist = p.EditedAt != nil && a.canSeeHistory(p.AuthorID)
		if p.Number == 1 {
			v.FirstPost = p
		}
	}
	s.views.add(t.ID)
	if a.Member() && a.ID == t.AuthorID && t.AcceptedPostID != nil {
		v.CanRate = true
		if v.Rated, err = s.Rating(ctx, a.ID, t.ID); err != nil {
			return nil, err
		}
	}
	if a.Member() {
		v.LastRead = read.lastRead
		if err := s.store.markRead(ctx, a.ID, t.ID, min(to, t.LastPostNumber)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// UnreadPage is the thread page holding post number n.
func UnreadPage(n int) int { return (n-1)/PageSize + 1 }

// VisiblePost returns a post a may read (moderators also see hidden ones).
func (s *Service) VisiblePost(ctx context.Context, a Actor, id int64) (*Post, error) {
	p, err := s.store.post(ctx, id, false)
	if err != nil {
		return nil, notFound(err)
	}
	t, _, err := s.readableThread(ctx, a, p.ThreadID, false)
	if err != nil {
		return nil, err
	}
	if !p.Visible() && !a.Moderates() {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	p.Accepted = t.AcceptedPostID != nil && *t.AcceptedPostID == p.ID
	return p, nil
}

// EditablePost returns a post and its thread when a may edit it now.
func (s *Service) EditablePost(ctx context.Context, a Actor, id int64) (*Post, *Thread, error) {
	p, err := s.VisiblePost(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if !a.canEdit(p.AuthorID, p.CreatedAt, s.now()) {
		return nil, nil, apperr.New(apperr.Forbidden, "forum.err.edit_forbidden")
	}
	t, err := s.store.thread(ctx, p.ThreadID, false)
	return p, t, notFound(err)
}

// ThreadInfo returns a thread a may read, without counting a view or moving the
// read position (for compose pages).
func (s *Service) ThreadInfo(ctx context.Context, a Actor, id int64) (*Thread, error) {
	t, _, err := s.readableThread(ctx, a, id, false)
	return t, err
}

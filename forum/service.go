package forum

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/outbox"
)

// Renderer turns a Markdown body into sanitized HTML and finds its @mentions.
type Renderer interface {
	Render(src string) (string, error)
	Mentions(src string) []string
	Excerpt(src string, n int) string
	// ExcerptHTML is Excerpt of the HTML Render made of src (a stored body_html).
	ExcerptHTML(rendered string, n int) string
}

// Outbox topics the forum writes; their consumers live in search and notifications.
const (
	TopicIndexThread    = "search.thread"
	TopicIndexPost      = "search.post"
	TopicNotifyMention  = "notify.mention"
	TopicNotifyReply    = "notify.reply"
	TopicNotifyReaction = "notify.reaction"
	TopicNotifyAccepted = "notify.accepted"
)

// Reputation points, from the issue: reactions received and accepted answers.
const (
	RepPerReaction = 1
	RepPerAccepted = 15
)

// Service holds the forum's use cases. Every write runs in one transaction that also
// appends the member's engagement events and the outbox rows of its side effects.
type Service struct {
	db     *gorm.DB
	store  *Store
	render Renderer
	now    func() time.Time
	views  *viewCounter
}

// NewService returns the forum service.
func NewService(gdb *gorm.DB, store *Store, r Renderer) *Service {
	return &Service{db: gdb, store: store, render: r, now: time.Now, views: newViewCounter(gdb)}
}

// VisibleCategories lists the categories role may read (role "" is a visitor).
func (s *Service) VisibleCategories(ctx context.Context, role string) ([]Category, error) {
	all, err := s.store.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	out := all[:0]
	for _, c := range all {
		if c.CanRead(role) {
			out = append(out, c)
		}
	}
	return out, nil
}

func notFound(err error) error {
	if errors.Is(err, errNotFound) {
		return apperr.Wrap(apperr.NotFound, "error.not_found", err)
	}
	return err
}

// event appends one engagement event (inside the caller's transaction), about a
// thread's tags and category so the CRM can tell what the member cares about.
func (s *Service) event(ctx context.Context, member int64, kind crm.Kind, subjectType string, subjectID int64, c *Category, t *Thread) error {
	e := crm.Event{MemberID: member, Kind: kind, SubjectType: subjectType, SubjectID: subjectID, OccurredAt: s.now()}
	if c != nil {
		e.Category = c.Slug
	}
	if t != nil {
		e.Tags = t.Tags
	}
	return crm.Append(ctx, s.db, e)
}

func (s *Service) enqueue(ctx context.Context, topic string, payload any) error {
	return outbox.Enqueue(ctx, s.db, topic, payload)
}

// reindex asks search to refresh a post and its thread (whose counts and status a
// change to one post can move).
func (s *Service) reindex(ctx context.Context, postID, threadID int64) error {
	if err := s.enqueue(ctx, TopicIndexPost, map[string]int64{"post_id": postID}); err != nil {
		return err
	}
	return s.enqueue(ctx, TopicIndexThread, map[string]int64{"thread_id": threadID})
}

// readableThread loads a thread and checks that a may open it: the category must be
// readable, and hidden or deleted threads exist only for moderators.
func (s *Service) readableThread(ctx context.Context, a Actor, id int64, lock bool) (*Thread, *Category, error) {
	t, err := s.store.thread(ctx, id, lock)
	if err != nil {
		return nil, nil, notFound(err)
	}
	c, err := s.store.category(ctx, t.CategoryID)
	if err != nil {
		return nil, nil, notFound(err)
	}
	if !c.CanRead(a.Role) || (!t.Visible() && !a.Moderates()) {
		// indistinguishable from a missing thread, so its existence does not leak
		return nil, nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	return t, c, nil
}

// Stop flushes buffered view counts; call it on shutdown.
func (s *Service) Stop(ctx context.Context) { s.views.flush(ctx) }

// RunViewFlusher writes buffered view counts every interval until ctx ends.
func (s *Service) RunViewFlusher(ctx context.Context, every time.Duration) { s.views.run(ctx, every) }

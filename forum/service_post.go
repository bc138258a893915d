package forum

import (
	"context"
	"fmt"
	"strings"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// MaxIdempotencyKey bounds the Idempotency-Key header / form field.
const MaxIdempotencyKey = 100

// CreateThread starts a thread with its opening post. With an idempotency key, a
// retried request returns the thread the first one created (created=false).
func (s *Service) CreateThread(ctx context.Context, a Actor, in NewThread, key string) (*Thread, bool, error) {
	if !a.Member() {
		return nil, false, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	if len(key) > MaxIdempotencyKey {
		return nil, false, apperr.New(apperr.Invalid, "error.invalid").WithField("idempotency_key", "field.too_long")
	}
	c, err := s.store.category(ctx, in.CategoryID)
	if err != nil || !c.CanRead(a.Role) {
		return nil, false, apperr.New(apperr.Invalid, "error.invalid").WithField("category_id", "forum.err.category_unknown")
	}
	if !c.CanPost(a.Role) {
		return nil, false, apperr.New(apperr.Forbidden, "forum.err.category_closed").WithField("category_id", "forum.err.category_closed")
	}
	if in.Kind == KindAnnouncement && !a.Staff() {
		return nil, false, apperr.New(apperr.Forbidden, "forum.err.announcement_staff").WithField("kind", "forum.err.announcement_staff")
	}
	html, err := s.render.Render(in.Body)
	if err != nil {
		return nil, false, fmt.Errorf("render: %w", err)
	}
	t := &Thread{CategoryID: c.ID, AuthorID: a.ID, Kind: in.Kind, Title: in.Title, Slug: Slug(in.Title), Tags: in.Tags,
		Excerpt: s.render.Excerpt(in.Body, 160)}
	created := true
	err = db.InTx(ctx, s.db, func(ctx context.Context) error {
		if key != "" {
			prior, ok, err := s.store.claimIdempotency(ctx, a.ID, key, "thread")
			if err != nil {
				return err
			}
			if !ok {
				created = false
				t.ID = prior
				return nil
			}
		}
		if err := s.store.insertThread(ctx, t); err != nil {
			return fmt.Errorf("insert thread: %w", err)
		}
		p := &Post{ThreadID: t.ID, Number: 1, AuthorID: a.ID, Body: in.Body}
		if err := s.store.insertPost(ctx, p, html); err != nil {
			return fmt.Errorf("insert post: %w", err)
		}
		if key != "" {
			if err := s.store.finishIdempotency(ctx, a.ID, key, t.ID); err != nil {
				return err
			}
		}
		if err := s.store.addStats(ctx, a.ID, 0, 1, 0, 0); err != nil {
			return err
		}
		if err := s.event(ctx, a.ID, crm.KindThreadCreated, "thread", t.ID, c, t); err != nil {
			return err
		}
		if err := s.enqueue(ctx, TopicIndexThread, map[string]int64{"thread_id": t.ID}); err != nil {
			return err
		}
		return s.notifyMentions(ctx, a.ID, c, p, in.Body)
	})
	if err != nil {
		return nil, false, err
	}
	out, err := s.store.thread(ctx, t.ID, false)
	return out, created, notFound(err)
}

// NewReply is what replying asks for; ReplyTo quotes or answers one earlier post.
type NewReply struct {
	Body    string `json:"body"`
	ReplyTo *int64 `json:"reply_to_post_id"`
}

// Reply adds a post to a thread. Locked threads take replies from moderators only.
func (s *Service) Reply(ctx context.Context, a Actor, threadID int64, in NewReply, key string) (*Post, bool, error) {
	if !a.Member() {
		return nil, false, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	in.Body = strings.TrimSpace(in.Body)
	f := apperr.Fields{}
	validateBody(f, in.Body)
	if len(key) > MaxIdempotencyKey {
		f.Add("idempotency_key", "field.too_long")
	}
	if err := f.Err(); err != nil {
		return nil, false, err
	}
	html, err := s.render.Render(in.Body)
	if err != nil {
		return nil, false, fmt.Errorf("render: %w", err)
	}
	var p *Post
	created := true
	err = db.InTx(ctx, s.db, func(ctx context.Context) error {
		// the thread row lock serialises replies, so numbers are dense and unique
		t, c, err := s.readableThread(ctx, a, threadID, true)
		if err != nil {
			return err
		}
		if t.Locked && !a.Moderates() {
			return apperr.New(apperr.Forbidden, "forum.err.locked").WithField("body", "forum.err.locked")
		}
		if !t.Visible() {
			return apperr.New(apperr.Forbidden, "forum.err.locked")
		}
		if key != "" {
			prior, ok, err := s.store.claimIdempotency(ctx, a.ID, key, "post")
			if err != nil {
				return err
			}
			if !ok {
				created = false
				p, err = s.store.post(ctx, prior, false)
				return notFound(err)
			}
		}
		if in.ReplyTo != nil {
			target, err := s.store.post(ctx, *in.ReplyTo, false)
			if err != nil || target.ThreadID != t.ID || !target.Visible() {
				return apperr.New(apperr.Invalid, "error.invalid").WithField("reply_to_post_id", "forum.err.reply_to")
			}
		}
		p = &Post{ThreadID: t.ID, Number: t.LastPostNumber + 1, AuthorID: a.ID, ReplyToPostID: in.ReplyTo, Body: in.Body}
		if err := s.store.insertPost(ctx, p, html); err != nil {
			return fmt.Errorf("insert reply: %w", err)
		}
		if err := s.store.afterReply(ctx, t.ID, p.Number, a.ID, p.CreatedAt); err != nil {
			return err
		}
		if key != "" {
			if err := s.store.finishIdempotency(ctx, a.ID, key, p.ID); err != nil {
				return err
			}
		}
		if err := s.store.addStats(ctx, a.ID, 0, 0, 1, 0); err != nil {
			return err
		}
		if err := s.event(ctx, a.ID, crm.KindReplyCreated, "post", p.ID, c, t); err != nil {
			return err
		}
		if err := s.reindex(ctx, p.ID, t.ID); err != nil {
			return err
		}
		if t.AuthorID != a.ID {
			if err := s.enqueue(ctx, TopicNotifyReply, map[string]int64{"member_id": t.AuthorID, "post_id": p.ID, "by": a.ID}); err != nil {
				return err
			}
		}
		return s.notifyMentions(ctx, a.ID, c, p, in.Body)
	})
	if err != nil {
		return nil, false, err
	}
	out, err := s.store.post(ctx, p.ID, false)
	return out, created, notFound(err)
}

// notifyMentions writes one notification outbox row per member @mentioned in body
// who may read the category (never the author), for the notification worker.
func (s *Service) notifyMentions(ctx context.Context, author int64, c *Category, p *Post, body string) error {
	members, err := s.store.membersByHandle(ctx, s.render.Mentions(body))
	if err != nil {
		return err
	}
	for _, m := range members {
		id := m.ID
		if id == author || !c.CanRead(m.Role) {
			continue
		}
		if err := s.enqueue(ctx, TopicNotifyMention, map[string]int64{"member_id": id, "post_id": p.ID, "by": author}); err != nil {
			return err
		}
	}
	return nil
}

// PostEdit changes a post's body, and for an opening post optionally the title and tags.
type PostEdit struct {
	Body  string    `json:"body"`
	Title *string   `json:"title"`
	Tags  *[]string `json:"tags"`
}

// EditPost keeps the previous text as a revision, then stores the new one. The author
// may edit within EditWindow; moderators always.
func (s *Service) EditPost(ctx context.Context, a Actor, postID int64, in PostEdit) (*Post, error) {
	if !a.Member() {
		return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	in.Body = strings.TrimSpace(in.Body)
	f := apperr.Fields{}
	validateBody(f, in.Body)
	if in.Title != nil {
		t := strings.Join(strings.Fields(*in.Title), " ")
		in.Title = &t
		validateTitle(f, t)
	}
	if in.Tags != nil {
		tags := normalizeTags(*in.Tags)
		in.Tags = &tags
		validateTags(f, tags)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	html, err := s.render.Render(in.Body)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	err = db.InTx(ctx, s.db, func(ctx context.Context) error {
		p, err := s.store.post(ctx, postID, true)
		if err != nil {
			return notFound(err)
		}
		t, c, err := s.readableThread(ctx, a, p.ThreadID, true)
		if err != nil {
			return err
		}
		if !p.Visible() && !a.Moderates() {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if !a.canEdit(p.AuthorID, p.CreatedAt, s.now()) {
			return apperr.New(apperr.Forbidden, "forum.err.edit_forbidden")
		}
		var oldTitle *string
		if p.Number == 1 && in.Title != nil {
			oldTitle = &t.Title
		}
		if err := s.store.addRevision(ctx, p.ID, a.ID, oldTitle, p.Body); err != nil {
			return err
		}
		now := s.now()
		if err := s.store.setPost(ctx, p.ID, map[string]any{"body": in.Body, "body_html": html, "edited_at": now}); err != nil {
			return err
		}
		if p.Number == 1 {
			cols := map[string]any{"edited_at": now, "excerpt": s.render.Excerpt(in.Body, 160)}
			if in.Title != nil {
				cols["title"], cols["slug"] = *in.Title, Slug(*in.Title)
			}
			if in.Tags != nil {
				cols["tags"] = pqArray(*in.Tags)
			}
			if err := s.store.setThread(ctx, t.ID, cols); err != nil {
				return err
			}
		}
		if err := s.event(ctx, a.ID, crm.KindPostEdited, "post", p.ID, c, t); err != nil {
			return err
		}
		return s.reindex(ctx, p.ID, t.ID)
	})
	if err != nil {
		return nil, err
	}
	out, err := s.store.post(ctx, postID, false)
	return out, notFound(err)
}

// Revisions lists a post's earlier versions, newest first, for its author and staff.
func (s *Service) Revisions(ctx context.Context, a Actor, postID int64) ([]Revision, error) {
	p, err := s.VisiblePost(ctx, a, postID)
	if err != nil {
		return nil, err
	}
	if !a.canSeeHistory(p.AuthorID) {
		if !a.Member() {
			return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
		}
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return s.store.revisions(ctx, postID)
}

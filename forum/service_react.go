package forum

import (
	"context"
	"slices"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// React adds (on) or removes a reaction of kind to a post. One of each kind per member
// per post; members cannot react to their own posts (no reputation farming). The post's
// author gains or loses reputation with it.
func (s *Service) React(ctx context.Context, a Actor, postID int64, kind string, on bool) (*Post, error) {
	if !a.Member() {
		return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if !slices.Contains(Reactions, kind) {
		return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("kind", "forum.err.reaction_kind")
	}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		p, err := s.store.post(ctx, postID, true)
		if err != nil {
			return notFound(err)
		}
		t, c, err := s.readableThread(ctx, a, p.ThreadID, false)
		if err != nil {
			return err
		}
		if !p.Visible() {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if p.AuthorID == a.ID {
			return apperr.New(apperr.Forbidden, "forum.err.own_post")
		}
		changed, err := s.store.setReaction(ctx, postID, a.ID, kind, on)
		if err != nil || !changed {
			return err // already in the asked state: nothing to count twice
		}
		delta := 1
		if !on {
			delta = -1
		}
		if err := s.store.bumpReaction(ctx, p, kind, delta); err != nil {
			return err
		}
		if err := s.store.addStats(ctx, p.AuthorID, delta*RepPerReaction, 0, 0, 0); err != nil {
			return err
		}
		// the score behind the search's "votes" sort moved
		if err := s.reindex(ctx, p.ID, p.ThreadID); err != nil {
			return err
		}
		if !on {
			return nil
		}
		if err := s.event(ctx, a.ID, crm.KindReactionGiven, "post", p.ID, c, t); err != nil {
			return err
		}
		if err := s.event(ctx, p.AuthorID, crm.KindReactionReceived, "post", p.ID, c, t); err != nil {
			return err
		}
		return s.enqueue(ctx, TopicNotifyReaction, map[string]any{"member_id": p.AuthorID, "post_id": p.ID, "by": a.ID, "kind": kind})
	})
	if err != nil {
		return nil, err
	}
	out, err := s.store.post(ctx, postID, false)
	return out, notFound(err)
}

// Accept marks postID as the accepted answer of its question (postID 0 clears it).
// The asker or a moderator may do it; the answer's author gains reputation, and a
// replaced answer's author loses it.
func (s *Service) Accept(ctx context.Context, a Actor, threadID, postID int64) (*Thread, error) {
	if !a.Member() {
		return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		t, c, err := s.readableThread(ctx, a, threadID, true)
		if err != nil {
			return err
		}
		if t.AuthorID != a.ID && !a.Moderates() {
			return apperr.New(apperr.Forbidden, "forum.err.accept_forbidden")
		}
		if t.Kind != KindQuestion {
			return apperr.New(apperr.Invalid, "forum.err.not_question").WithField("post_id", "forum.err.not_question")
		}
		var p *Post
		if postID != 0 {
			p, err = s.store.post(ctx, postID, false)
			if err != nil || p.ThreadID != t.ID || p.Number == 1 || !p.Visible() {
				return apperr.New(apperr.Invalid, "error.invalid").WithField("post_id", "forum.err.answer_unknown")
			}
		}
		if t.AcceptedPostID != nil {
			if *t.AcceptedPostID == postID {
				return nil
			}
			old, err := s.store.post(ctx, *t.AcceptedPostID, false)
			if err == nil && old.AuthorID != t.AuthorID { // self-answers never earned points
				if err := s.store.addStats(ctx, old.AuthorID, -RepPerAccepted, 0, 0, -1); err != nil {
					return err
				}
			}
		}
		var accepted any
		if p != nil {
			accepted = p.ID
		}
		if err := s.store.setThread(ctx, t.ID, map[string]any{"accepted_post_id": accepted}); err != nil {
			return err
		}
		if err := s.enqueue(ctx, TopicIndexThread, map[string]int64{"thread_id": t.ID}); err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		if p.AuthorID == t.AuthorID {
			return nil // accepting one's own answer solves the question but earns nothing
		}
		if err := s.store.addStats(ctx, p.AuthorID, RepPerAccepted, 0, 0, 1); err != nil {
			return err
		}
		if p.AuthorID != a.ID {
			if err := s.enqueue(ctx, TopicNotifyAccepted, map[string]int64{"member_id": p.AuthorID, "post_id": p.ID, "by": a.ID}); err != nil {
				return err
			}
		}
		return s.event(ctx, p.AuthorID, crm.KindAnswerAccepted, "post", p.ID, c, t)
	})
	if err != nil {
		return nil, err
	}
	out, err := s.store.thread(ctx, threadID, false)
	return out, notFound(err)
}

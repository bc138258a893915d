package forum

import (
	"context"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// ThreadChange is a moderator's change to a thread; nil fields are unchanged.
type ThreadChange struct {
	Pinned     *bool  `json:"pinned"`
	Locked     *bool  `json:"locked"`
	Hidden     *bool  `json:"hidden"`
	Deleted    *bool  `json:"deleted"`
	CategoryID *int64 `json:"category_id"`
}

// ModerateThread pins, locks, hides, soft-deletes (or restores) or moves a thread.
// Moderators and admins only.
func (s *Service) ModerateThread(ctx context.Context, a Actor, threadID int64, ch ThreadChange) (*Thread, error) {
	if err := requireModerator(a); err != nil {
		return nil, err
	}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		t, _, err := s.readableThread(ctx, a, threadID, true)
		if err != nil {
			return err
		}
		cols := map[string]any{}
		if ch.Pinned != nil {
			cols["pinned"] = *ch.Pinned
		}
		if ch.Locked != nil {
			cols["locked"] = *ch.Locked
		}
		if ch.Hidden != nil {
			cols["hidden"] = *ch.Hidden
		}
		if ch.Deleted != nil {
			if *ch.Deleted {
				cols["deleted_at"] = s.now()
			} else {
				cols["deleted_at"] = nil
			}
		}
		if ch.CategoryID != nil && *ch.CategoryID != t.CategoryID {
			c, err := s.store.category(ctx, *ch.CategoryID)
			if err != nil || !c.CanRead(a.Role) {
				return apperr.New(apperr.Invalid, "error.invalid").WithField("category_id", "forum.err.category_unknown")
			}
			cols["category_id"] = c.ID
		}
		if len(cols) == 0 {
			return nil
		}
		if err := s.store.setThread(ctx, t.ID, cols); err != nil {
			return err
		}
		return s.enqueue(ctx, TopicIndexThread, map[string]int64{"thread_id": t.ID})
	})
	if err != nil {
		return nil, err
	}
	out, err := s.store.thread(ctx, threadID, false)
	return out, notFound(err)
}

// PostChange hides or soft-deletes (or restores) one reply.
type PostChange struct {
	Hidden  *bool `json:"hidden"`
	Deleted *bool `json:"deleted"`
}

// ModeratePost hides or deletes a reply; the thread's counts drop with it, and an
// accepted answer that disappears stops counting as the answer. The opening post is
// moderated through its thread.
func (s *Service) ModeratePost(ctx context.Context, a Actor, postID int64, ch PostChange) (*Post, error) {
	if err := requireModerator(a); err != nil {
		return nil, err
	}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		p, err := s.store.post(ctx, postID, true)
		if err != nil {
			return notFound(err)
		}
		t, _, err := s.readableThread(ctx, a, p.ThreadID, true)
		if err != nil {
			return err
		}
		if p.Number == 1 {
			return apperr.New(apperr.Invalid, "forum.err.moderate_thread")
		}
		cols := map[string]any{}
		if ch.Hidden != nil {
			cols["hidden"] = *ch.Hidden
		}
		if ch.Deleted != nil {
			if *ch.Deleted {
				cols["deleted_at"] = s.now()
			} else {
				cols["deleted_at"] = nil
			}
		}
		if len(cols) == 0 {
			return nil
		}
		if err := s.store.setPost(ctx, p.ID, cols); err != nil {
			return err
		}
		gone := (ch.Hidden != nil && *ch.Hidden) || (ch.Deleted != nil && *ch.Deleted)
		if gone && t.AcceptedPostID != nil && *t.AcceptedPostID == p.ID {
			if err := s.store.setThread(ctx, t.ID, map[string]any{"accepted_post_id": nil}); err != nil {
				return err
			}
			if p.AuthorID != t.AuthorID {
				if err := s.store.addStats(ctx, p.AuthorID, -RepPerAccepted, 0, 0, -1); err != nil {
					return err
				}
			}
		}
		if err := s.store.recount(ctx, t.ID); err != nil {
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

func requireModerator(a Actor) error {
	if !a.Member() {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if !a.Moderates() {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

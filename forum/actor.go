package forum

import "time"

// Actor is who performs a forum action: a member id and role, or a visitor (ID 0).
type Actor struct {
	ID   int64
	Role string
}

// Member reports whether the actor is logged in.
func (a Actor) Member() bool { return a.ID != 0 }

// Moderates reports whether the actor may moderate: pin, lock, hide, move, delete,
// edit anyone's post, see hidden content and revision histories.
func (a Actor) Moderates() bool { return a.Role == "moderator" || a.Role == "admin" }

// Staff are the brand's own people (they may post announcements).
func (a Actor) Staff() bool { return a.Moderates() || a.Role == "marketer" }

// EditWindow is how long authors may edit their own posts; staff may always edit.
const EditWindow = 24 * time.Hour

// canEdit reports whether a may edit a post written by author at created.
func (a Actor) canEdit(author int64, created, now time.Time) bool {
	if a.Moderates() {
		return true
	}
	return a.ID != 0 && a.ID == author && now.Sub(created) <= EditWindow
}

// canSeeHistory: the author and staff may read a post's revisions.
func (a Actor) canSeeHistory(author int64) bool {
	return a.Moderates() || (a.ID != 0 && a.ID == author)
}

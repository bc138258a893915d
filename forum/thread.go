package forum

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hearth-community/hearth/internal/apperr"
)

// ThreadKind is what a thread is for.
type ThreadKind string

// The thread kinds. Questions can have an accepted answer; announcements are for staff.
const (
	KindDiscussion   ThreadKind = "discussion"
	KindQuestion     ThreadKind = "question"
	KindAnnouncement ThreadKind = "announcement"
)

// Limits of what a member may write.
const (
	MinTitle    = 8
	MaxTitle    = 150
	MaxBody     = 32 << 10 // bytes of Markdown
	MaxTags     = 5
	MaxTagRunes = 30
)

// Thread is a discussion, question or announcement with its counters.
type Thread struct {
	ID             int64      `json:"id"`
	CategoryID     int64      `json:"category_id"`
	AuthorID       int64      `json:"author_id"`
	Kind           ThreadKind `json:"kind"`
	Title          string     `json:"title"`
	Slug           string     `json:"slug"`
	Tags           []string   `json:"tags"`
	Pinned         bool       `json:"pinned"`
	Locked         bool       `json:"locked"`
	Hidden         bool       `json:"hidden"`
	Deleted        bool       `json:"deleted"`
	ViewCount      int64      `json:"view_count"`
	ReplyCount     int        `json:"reply_count"`
	Score          int        `json:"score"`
	AcceptedPostID *int64     `json:"accepted_post_id,omitempty"`
	Solved         bool       `json:"solved"`
	LastPostNumber int        `json:"-"`
	LastActivityAt time.Time  `json:"last_activity_at"`
	CreatedAt      time.Time  `json:"created_at"`
	EditedAt       *time.Time `json:"edited_at,omitempty"`
	// Filled for lists and pages:
	AuthorName   string `json:"author_name"`
	AuthorHandle string `json:"author_handle"`
	// Unread is the number of visible replies the requester has not read (-1 = never opened).
	Unread      int    `json:"unread"`
	FirstUnread int    `json:"-"`
	Excerpt     string `json:"excerpt,omitempty"`
}

// Visible reports whether members may see the thread at all.
func (t *Thread) Visible() bool { return !t.Hidden && !t.Deleted }

// Post is the opening post (number 1) or a reply.
type Post struct {
	ID            int64          `json:"id"`
	ThreadID      int64          `json:"thread_id"`
	Number        int            `json:"number"`
	AuthorID      int64          `json:"author_id"`
	ReplyToPostID *int64         `json:"reply_to_post_id,omitempty"`
	Body          string         `json:"body"`
	BodyHTML      string         `json:"body_html"`
	Reactions     map[string]int `json:"reactions"`
	Hidden        bool           `json:"hidden"`
	Deleted       bool           `json:"deleted"`
	CreatedAt     time.Time      `json:"created_at"`
	EditedAt      *time.Time     `json:"edited_at,omitempty"`
	AuthorName    string         `json:"author_name"`
	AuthorHandle  string         `json:"author_handle"`
	AuthorRep     int            `json:"author_reputation"`
	Accepted      bool           `json:"accepted"`
	// Mine lists the reaction kinds the requester gave this post.
	Mine []string `json:"my_reactions,omitempty"`
	// CanEdit tells the viewer's page whether to offer editing (and history).
	CanEdit bool `json:"can_edit"`
	CanHist bool `json:"-"`
}

// Reacted reports whether the viewer gave reaction kind.
func (p *Post) Reacted(kind string) bool {
	for _, k := range p.Mine {
		if k == kind {
			return true
		}
	}
	return false
}

// Visible reports whether members may see the post.
func (p *Post) Visible() bool { return !p.Hidden && !p.Deleted }

// Reactions members may give: one of each per member per post.
var Reactions = []string{"like", "heart", "laugh", "wow", "thanks", "celebrate"}

// ReactionEmoji is how each reaction is shown.
var ReactionEmoji = map[string]string{"like": "👍", "heart": "❤️", "laugh": "😄", "wow": "😮", "thanks": "🙏", "celebrate": "🎉"}

// NewThread is what starting a thread asks for.
type NewThread struct {
	CategoryID int64      `json:"category_id"`
	Kind       ThreadKind `json:"kind"`
	Title      string     `json:"title"`
	Body       string     `json:"body"`
	Tags       []string   `json:"tags"`
}

// Normalize trims input and canonicalises tags (lower-case, unique, in order).
func (n *NewThread) Normalize() {
	n.Title = strings.Join(strings.Fields(n.Title), " ")
	n.Body = strings.TrimSpace(n.Body)
	if n.Kind == "" {
		n.Kind = KindDiscussion
	}
	n.Tags = normalizeTags(n.Tags)
}

// Validate returns field-level problems with the input alone (permissions and the
// category's existence are checked by the service).
func (n *NewThread) Validate() error {
	f := apperr.Fields{}
	validateTitle(f, n.Title)
	validateBody(f, n.Body)
	switch n.Kind {
	case KindDiscussion, KindQuestion, KindAnnouncement:
	default:
		f.Add("kind", "forum.err.kind")
	}
	if n.CategoryID <= 0 {
		f.Add("category_id", "field.required")
	}
	validateTags(f, n.Tags)
	return f.Err()
}

func validateTitle(f apperr.Fields, title string) {
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		f.Add("title", "field.required")
	case n < MinTitle:
		f.Add("title", "forum.err.title_short")
	case n > MaxTitle:
		f.Add("title", "forum.err.title_long")
	}
}

func validateBody(f apperr.Fields, body string) {
	switch {
	case strings.TrimSpace(body) == "":
		f.Add("body", "field.required")
	case len(body) > MaxBody:
		f.Add("body", "forum.err.body_long")
	case !utf8.ValidString(body):
		f.Add("body", "forum.err.body_encoding")
	}
}

func validateTags(f apperr.Fields, tags []string) {
	if len(tags) > MaxTags {
		f.Add("tags", "forum.err.too_many_tags")
		return
	}
	for _, t := range tags {
		if n := utf8.RuneCountInString(t); n < 2 || n > MaxTagRunes {
			f.Add("tags", "forum.err.tag_invalid")
			return
		}
		for _, r := range t {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' {
				f.Add("tags", "forum.err.tag_invalid")
				return
			}
		}
	}
}

func normalizeTags(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "#")))
		t = strings.Join(strings.Fields(t), "-")
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// SplitTags parses the comma- or space-separated tag field of a form.
func SplitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || unicode.IsSpace(r) })
}

// Slug makes a readable URL segment from a title: lower-case letters and digits (any
// script, so Chinese titles keep their words) joined by hyphens, at most 60 runes.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	n := 0
	for _, r := range strings.ToLower(title) {
		if n >= 60 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			dash = false
			n++
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
			n++
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "thread"
	}
	return s
}

// URL is the thread's canonical path, with its readable slug.
func (t *Thread) URL() string { return fmt.Sprintf("/t/%d/%s", t.ID, url.PathEscape(t.Slug)) }

// PostURL links to post number n of the thread, on the page that holds it.
func (t *Thread) PostURL(n int) string {
	if p := UnreadPage(n); p > 1 {
		return fmt.Sprintf("%s?page=%d#post-%d", t.URL(), p, n)
	}
	return fmt.Sprintf("%s#post-%d", t.URL(), n)
}

// ReadURL opens the thread at the viewer's first unread reply when there is one.
func (t *Thread) ReadURL() string {
	if t.Unread > 0 && t.FirstUnread > 0 {
		return t.PostURL(t.FirstUnread)
	}
	return t.URL()
}

// Label is the category's name in lang.
func (c *Category) Label(lang string) string {
	if lang == "zh-Hans" && c.NameZh != "" {
		return c.NameZh
	}
	return c.Name
}

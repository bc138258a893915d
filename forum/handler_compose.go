package forum

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/web"
)

// newKey is the idempotency key a compose form carries: submitting the same form
// twice (a double click, a retried POST) creates one post.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type composeData struct {
	Categories []Category
	Kinds      []ThreadKind
	Staff      bool
	Thread     *Thread
	Post       *Post
	Quote      *Post
}

func (h *Handlers) newThreadPage(c *fiber.Ctx) error {
	a := actor(c)
	cats, err := h.postableCategories(c, a)
	if err != nil {
		return err
	}
	form := map[string]string{"key": newKey(), "kind": string(KindDiscussion)}
	if slug := c.Query("category"); slug != "" {
		for _, cat := range cats {
			if cat.Slug == slug {
				form["category_id"] = strconv.FormatInt(cat.ID, 10)
			}
		}
	}
	return h.srv.RenderView(c, fiber.StatusOK, "compose", &web.View{Title: "compose.new_title", Form: form,
		Data: &composeData{Categories: cats, Kinds: kindsFor(a), Staff: a.Staff()}})
}

func (h *Handlers) postableCategories(c *fiber.Ctx, a Actor) ([]Category, error) {
	cats, err := h.svc.VisibleCategories(c.UserContext(), a.Role)
	if err != nil {
		return nil, err
	}
	out := cats[:0]
	for _, cat := range cats {
		if cat.CanPost(a.Role) {
			out = append(out, cat)
		}
	}
	return out, nil
}

func kindsFor(a Actor) []ThreadKind {
	if a.Staff() {
		return []ThreadKind{KindDiscussion, KindQuestion, KindAnnouncement}
	}
	return []ThreadKind{KindDiscussion, KindQuestion}
}

func (h *Handlers) newThreadSubmit(c *fiber.Ctx) error {
	a := actor(c)
	catID, _ := strconv.ParseInt(c.FormValue("category_id"), 10, 64)
	in := NewThread{CategoryID: catID, Kind: ThreadKind(c.FormValue("kind")), Title: c.FormValue("title"),
		Body: c.FormValue("body"), Tags: SplitTags(c.FormValue("tags"))}
	t, _, err := h.svc.CreateThread(c.UserContext(), a, in, c.FormValue("key"))
	if err != nil {
		cats, cerr := h.postableCategories(c, a)
		if cerr != nil {
			return cerr
		}
		form := map[string]string{"key": c.FormValue("key"), "category_id": c.FormValue("category_id"), "kind": c.FormValue("kind"),
			"title": in.Title, "body": in.Body, "tags": c.FormValue("tags")}
		return h.formError(c, "compose", &web.View{Title: "compose.new_title", Form: form,
			Data: &composeData{Categories: cats, Kinds: kindsFor(a), Staff: a.Staff()}}, err)
	}
	return c.Redirect(t.URL(), fiber.StatusSeeOther)
}

func (h *Handlers) replyPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	t, err := h.svc.ThreadInfo(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	form := map[string]string{"key": newKey()}
	d := &composeData{Thread: t}
	if q := c.QueryInt("quote"); q > 0 {
		p, err := h.svc.VisiblePost(c.UserContext(), a, int64(q))
		if err != nil {
			return err
		}
		d.Quote = p
		form["reply_to"] = strconv.FormatInt(p.ID, 10)
		form["body"] = quote(p) + "\n\n"
	}
	return h.srv.RenderView(c, fiber.StatusOK, "reply", &web.View{Title: "compose.reply_title", Form: form, Data: d})
}

// quote turns a post into a Markdown blockquote headed by its author.
func quote(p *Post) string {
	var b strings.Builder
	b.WriteString("> **@" + p.AuthorHandle + "**:\n>\n")
	for _, line := range strings.Split(p.Body, "\n") {
		b.WriteString("> " + line + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (h *Handlers) replySubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	in := NewReply{Body: c.FormValue("body")}
	if rt, err := strconv.ParseInt(c.FormValue("reply_to"), 10, 64); err == nil && rt > 0 {
		in.ReplyTo = &rt
	}
	p, _, err := h.svc.Reply(c.UserContext(), a, id, in, c.FormValue("key"))
	if err != nil {
		t, terr := h.svc.ThreadInfo(c.UserContext(), a, id)
		if terr != nil {
			return terr
		}
		form := map[string]string{"key": c.FormValue("key"), "body": in.Body, "reply_to": c.FormValue("reply_to")}
		return h.formError(c, "reply", &web.View{Title: "compose.reply_title", Form: form, Data: &composeData{Thread: t}}, err)
	}
	t, err := h.svc.threadOf(c, p)
	if err != nil {
		return err
	}
	return c.Redirect(t.PostURL(p.Number), fiber.StatusSeeOther)
}

func (h *Handlers) editPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, t, err := h.svc.EditablePost(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	form := map[string]string{"body": p.Body, "title": t.Title, "tags": strings.Join(t.Tags, ", ")}
	return h.srv.RenderView(c, fiber.StatusOK, "edit", &web.View{Title: "compose.edit_title", Form: form,
		Data: &composeData{Thread: t, Post: p}})
}

func (h *Handlers) editSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	p, t, err := h.svc.EditablePost(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	in := PostEdit{Body: c.FormValue("body")}
	if p.Number == 1 {
		title, tags := c.FormValue("title"), SplitTags(c.FormValue("tags"))
		in.Title, in.Tags = &title, &tags
	}
	if _, err := h.svc.EditPost(c.UserContext(), a, id, in); err != nil {
		form := map[string]string{"body": in.Body, "title": c.FormValue("title"), "tags": c.FormValue("tags")}
		return h.formError(c, "edit", &web.View{Title: "compose.edit_title", Form: form, Data: &composeData{Thread: t, Post: p}}, err)
	}
	return c.Redirect(t.PostURL(p.Number), fiber.StatusSeeOther)
}

func (h *Handlers) historyPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	revs, err := h.svc.Revisions(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	p, err := h.svc.VisiblePost(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	t, err := h.svc.threadOf(c, p)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "history", &web.View{Title: "history.title",
		Data: fiber.Map{"Post": p, "Thread": t, "Revisions": revs}})
}

package forum

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// threadOf loads the thread of a post (for redirects back to it).
func (s *Service) threadOf(c *fiber.Ctx, p *Post) (*Thread, error) {
	t, err := s.store.thread(c.UserContext(), p.ThreadID, false)
	return t, notFound(err)
}

func (h *Handlers) reactSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := h.svc.React(c.UserContext(), actor(c), id, c.FormValue("kind"), c.FormValue("on") != "0")
	if err != nil {
		return err
	}
	return h.backToPost(c, p)
}

func (h *Handlers) backToPost(c *fiber.Ctx, p *Post) error {
	t, err := h.svc.threadOf(c, p)
	if err != nil {
		return err
	}
	return c.Redirect(t.PostURL(p.Number), fiber.StatusSeeOther)
}

func (h *Handlers) acceptSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	postID, _ := strconv.ParseInt(c.FormValue("post_id"), 10, 64)
	t, err := h.svc.Accept(c.UserContext(), actor(c), id, postID)
	if err != nil {
		return err
	}
	h.srv.SetFlash(c, "forum.flash.accepted")
	return c.Redirect(t.URL(), fiber.StatusSeeOther)
}

var yes, no = true, false

// threadActions maps a moderation button to the change it makes.
var threadActions = map[string]ThreadChange{
	"pin": {Pinned: &yes}, "unpin": {Pinned: &no}, "lock": {Locked: &yes}, "unlock": {Locked: &no},
	"hide": {Hidden: &yes}, "unhide": {Hidden: &no}, "delete": {Deleted: &yes}, "restore": {Deleted: &no},
}

func (h *Handlers) moderateThreadSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	action := c.FormValue("action")
	ch, ok := threadActions[action]
	if action == "move" {
		cat, err := strconv.ParseInt(c.FormValue("category_id"), 10, 64)
		if err != nil {
			return apperr.New(apperr.Invalid, "error.invalid").WithField("category_id", "forum.err.category_unknown")
		}
		ch, ok = ThreadChange{CategoryID: &cat}, true
	}
	if !ok {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("action", "forum.err.action")
	}
	t, err := h.svc.ModerateThread(c.UserContext(), actor(c), id, ch)
	if err != nil {
		return err
	}
	h.srv.SetFlash(c, "forum.flash.moderated")
	return c.Redirect(t.URL(), fiber.StatusSeeOther)
}

var postActions = map[string]PostChange{
	"hide": {Hidden: &yes}, "unhide": {Hidden: &no}, "delete": {Deleted: &yes}, "restore": {Deleted: &no},
}

func (h *Handlers) moderatePostSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ch, ok := postActions[c.FormValue("action")]
	if !ok {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("action", "forum.err.action")
	}
	p, err := h.svc.ModeratePost(c.UserContext(), actor(c), id, ch)
	if err != nil {
		return err
	}
	h.srv.SetFlash(c, "forum.flash.moderated")
	return h.backToPost(c, p)
}

func (h *Handlers) categoriesAdminPage(c *fiber.Ctx) error {
	cats, err := h.svc.VisibleCategories(c.UserContext(), actor(c).Role)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "admin_categories", &web.View{Title: "admin.categories",
		Data: cats, Form: map[string]string{"read_roles": "everyone", "post_roles": "member, partner, moderator, marketer, admin"}})
}

func categoryForm(c *fiber.Ctx) CategoryInput {
	pos, _ := strconv.Atoi(c.FormValue("position"))
	roles := func(s string) []string {
		var out []string
		for _, r := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			out = append(out, strings.ToLower(r))
		}
		return out
	}
	return CategoryInput{Slug: c.FormValue("slug"), Name: c.FormValue("name"), NameZh: c.FormValue("name_zh"),
		Description: c.FormValue("description"), Position: pos,
		ReadRoles: roles(c.FormValue("read_roles")), PostRoles: roles(c.FormValue("post_roles"))}
}

func (h *Handlers) categoryCreateSubmit(c *fiber.Ctx) error {
	in := categoryForm(c)
	if _, err := h.svc.CreateCategory(c.UserContext(), actor(c), in); err != nil {
		cats, cerr := h.svc.VisibleCategories(c.UserContext(), actor(c).Role)
		if cerr != nil {
			return cerr
		}
		form := map[string]string{"slug": in.Slug, "name": in.Name, "name_zh": in.NameZh, "description": in.Description,
			"position": c.FormValue("position"), "read_roles": c.FormValue("read_roles"), "post_roles": c.FormValue("post_roles")}
		return h.formError(c, "admin_categories", &web.View{Title: "admin.categories", Data: cats, Form: form}, err)
	}
	h.srv.SetFlash(c, "forum.flash.saved")
	return c.Redirect("/admin/categories", fiber.StatusSeeOther)
}

func (h *Handlers) categoryUpdateSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.UpdateCategory(c.UserContext(), actor(c), id, categoryForm(c)); err != nil {
		return err
	}
	h.srv.SetFlash(c, "forum.flash.saved")
	return c.Redirect("/admin/categories", fiber.StatusSeeOther)
}

type rateBody struct {
	Helpful *bool `json:"helpful"`
}

func (h *Handlers) apiRate(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in rateBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Helpful == nil {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("helpful", "field.required")
	}
	if err := h.svc.RateAnswer(c.UserContext(), actor(c), id, *in.Helpful); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"helpful": *in.Helpful})
}

func (h *Handlers) rateSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	helpful := c.FormValue("helpful") == "yes"
	if !helpful && c.FormValue("helpful") != "no" {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("helpful", "field.required")
	}
	if err := h.svc.RateAnswer(c.UserContext(), actor(c), id, helpful); err != nil {
		return err
	}
	h.srv.SetFlash(c, "forum.flash.rated")
	return c.Redirect("/t/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

package forum

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

func actor(c *fiber.Ctx) Actor {
	if p := web.CurrentUser(c); p != nil {
		return Actor{ID: p.ID, Role: p.Role}
	}
	return Actor{}
}

func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

func (h *Handlers) apiList(c *fiber.Ctx) error {
	if mode := c.Query("mode", ListLatest); mode != ListTop && web.Shareable(c) { // see listPage
		key := "api|" + mode + "|" + c.Query("category") + "|" + c.Query("tag") + "|" + c.Query("after")
		return h.anon.serve(c, h.srv, key, func() (*web.SharedPage, error) {
			page, err := h.list(c)
			if err != nil {
				return nil, err
			}
			b, err := c.App().Config().JSONEncoder(page)
			if err != nil {
				return nil, err
			}
			return web.JSONShared(fiber.StatusOK, b), nil
		})
	}
	page, err := h.list(c)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (h *Handlers) list(c *fiber.Ctx) (*ListPage, error) {
	q := ListQuery{Mode: c.Query("mode", ListLatest), Period: c.Query("period", "all"), Tag: c.Query("tag"), After: c.Query("after")}
	if slug := c.Query("category"); slug != "" {
		cat, err := h.svc.CategoryBySlug(c.UserContext(), actor(c), slug)
		if err != nil {
			return nil, err
		}
		q.Mode, q.CategoryID = ListCategory, cat.ID
	} else if q.Tag != "" {
		q.Mode = ListTag
	}
	return h.svc.List(c.UserContext(), actor(c), q)
}

func (h *Handlers) apiCreateThread(c *fiber.Ctx) error {
	var in NewThread
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	t, created, err := h.svc.CreateThread(c.UserContext(), actor(c), in, c.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(t)
}

func (h *Handlers) apiThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Thread(c.UserContext(), actor(c), id, c.QueryInt("page", 1))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (h *Handlers) apiModerateThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in ThreadChange
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	t, err := h.svc.ModerateThread(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (h *Handlers) apiReply(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in NewReply
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	p, created, err := h.svc.Reply(c.UserContext(), actor(c), id, in, c.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(p)
}

type acceptBody struct {
	PostID int64 `json:"post_id"`
}

func (h *Handlers) apiAccept(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in acceptBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	t, err := h.svc.Accept(c.UserContext(), actor(c), id, in.PostID)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (h *Handlers) apiEditPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in PostEdit
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	p, err := h.svc.EditPost(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *Handlers) apiModeratePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in PostChange
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	p, err := h.svc.ModeratePost(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *Handlers) apiRevisions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	revs, err := h.svc.Revisions(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"revisions": revs})
}

func (h *Handlers) apiReact(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := h.svc.React(c.UserContext(), actor(c), id, c.Params("kind"), c.Method() == fiber.MethodPut)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *Handlers) apiProfile(c *fiber.Ctx) error {
	p, err := h.svc.Profile(c.UserContext(), actor(c), c.Params("handle"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *Handlers) apiCategories(c *fiber.Ctx) error {
	cats, err := h.svc.VisibleCategories(c.UserContext(), actor(c).Role)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"categories": cats})
}

func (h *Handlers) apiCreateCategory(c *fiber.Ctx) error {
	var in CategoryInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cat, err := h.svc.CreateCategory(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cat)
}

func (h *Handlers) apiUpdateCategory(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in CategoryInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cat, err := h.svc.UpdateCategory(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(cat)
}

package crm

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

// The segment API (marketer, admin). Rules arrive as JSON under "rule"; field problems
// come back keyed by the condition's path, e.g. {"rule.all[2].field": "…"}.

type segmentRuleBody struct {
	Rule Rule `json:"rule"`
}

func segmentID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

func (h *Handlers) apiSegmentPreview(c *fiber.Ctx) error {
	var in segmentRuleBody
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	p, err := h.svc.Segments().Preview(c.UserContext(), actor(c), in.Rule)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *Handlers) apiSegments(c *fiber.Ctx) error {
	list, err := h.svc.Segments().List(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"segments": list})
}

func (h *Handlers) apiSegmentCreate(c *fiber.Ctx) error {
	var in SegmentInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	seg, err := h.svc.Segments().Save(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(seg)
}

func (h *Handlers) apiSegment(c *fiber.Ctx) error {
	id, err := segmentID(c)
	if err != nil {
		return err
	}
	seg, err := h.svc.Segments().Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(seg)
}

func (h *Handlers) apiSegmentUpdate(c *fiber.Ctx) error {
	id, err := segmentID(c)
	if err != nil {
		return err
	}
	var in SegmentInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	seg, err := h.svc.Segments().Update(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(seg)
}

func (h *Handlers) apiSegmentDelete(c *fiber.Ctx) error {
	id, err := segmentID(c)
	if err != nil {
		return err
	}
	if err := h.svc.Segments().Delete(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiSegmentMembers pages through a segment by member id: ?after=<last id>&limit=1…500.
func (h *Handlers) apiSegmentMembers(c *fiber.Ctx) error {
	id, err := segmentID(c)
	if err != nil {
		return err
	}
	if err := staffOnly(actor(c)); err != nil { // Members itself leaves who may ask to its callers
		return err
	}
	after, limit := int64(c.QueryInt("after", 0)), c.QueryInt("limit", 100)
	if after < 0 || limit < 1 || limit > 500 {
		return apperr.New(apperr.Invalid, "error.invalid").WithField("limit", "crm.seg.err.page")
	}
	members, err := h.svc.Segments().Members(c.UserContext(), id, after, limit)
	if err != nil {
		return err
	}
	var next *int64
	if len(members) == limit {
		next = &members[len(members)-1].ID
	}
	return c.JSON(fiber.Map{"members": members, "next": next})
}

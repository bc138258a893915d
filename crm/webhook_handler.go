package crm

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

func (h *Handlers) apiWebhooks(c *fiber.Ctx) error {
	list, err := h.svc.Webhooks(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"webhooks": list})
}

func (h *Handlers) apiCreateWebhook(c *fiber.Ctx) error {
	var in WebhookInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	w, err := h.svc.CreateWebhook(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(w)
}

func (h *Handlers) apiDeleteWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteWebhook(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiDeliveries pages an endpoint's log newest first: ?before=<id of the last
// delivery seen>&limit=n; next is the before of the following page (0 at the end).
func (h *Handlers) apiDeliveries(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit := c.QueryInt("limit", 50)
	if limit < 1 || limit > 200 {
		limit = 50
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	list, err := h.svc.Deliveries(c.UserContext(), actor(c), id, before, limit)
	if err != nil {
		return err
	}
	var next int64
	if len(list) == limit {
		next = list[len(list)-1].ID
	}
	return c.JSON(fiber.Map{"deliveries": list, "next": next})
}

func (h *Handlers) apiResend(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := pathID(c, "delivery")
	if err != nil {
		return err
	}
	if err := h.svc.ResendDelivery(c.UserContext(), actor(c), id, d); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
}

// webhookRow is one endpoint on the admin page with its latest deliveries.
type webhookRow struct {
	Webhook
	Deliveries []Delivery
}

// webhooksPage is what /admin/webhooks shows: endpoints with their delivery logs and,
// for admins, the form to add one.
type webhooksPage struct {
	Hooks   []webhookRow
	Kinds   []string
	Checked map[string]bool
	CanEdit bool
}

// deliveriesPerHook is how much of each log the admin page shows.
const deliveriesPerHook = 20

func (h *Handlers) webhooksPageData(c *fiber.Ctx, checked []string) (*webhooksPage, error) {
	a := actor(c)
	list, err := h.svc.Webhooks(c.UserContext(), a)
	if err != nil {
		return nil, err
	}
	recent, err := h.svc.RecentDeliveries(c.UserContext(), a, deliveriesPerHook)
	if err != nil {
		return nil, err
	}
	p := &webhooksPage{Kinds: WebhookKinds(), Checked: map[string]bool{}, CanEdit: a.Role == "admin"}
	for _, w := range list {
		p.Hooks = append(p.Hooks, webhookRow{Webhook: w, Deliveries: recent[w.ID]})
	}
	for _, k := range checked {
		p.Checked[k] = true
	}
	return p, nil
}

func (h *Handlers) webhooksAdminPage(c *fiber.Ctx) error {
	data, err := h.webhooksPageData(c, nil)
	if err != nil {
		return err
	}
	return h.srv.RenderView(c, fiber.StatusOK, "admin_webhooks", &web.View{Title: "crm.webhooks.title", Data: data})
}

func (h *Handlers) webhookCreatePost(c *fiber.Ctx) error {
	in := WebhookInput{URL: c.FormValue("url"), Secret: c.FormValue("secret")}
	for _, k := range c.Request().PostArgs().PeekMulti("kinds") {
		in.Kinds = append(in.Kinds, string(k))
	}
	if _, err := h.svc.CreateWebhook(c.UserContext(), actor(c), in); err != nil {
		fields, summary, ok := h.srv.FieldErrors(c, err)
		if !ok {
			return err
		}
		data, derr := h.webhooksPageData(c, in.Kinds)
		if derr != nil {
			return derr
		}
		// the secret is not echoed back into the page
		return h.srv.RenderView(c, fiber.StatusUnprocessableEntity, "admin_webhooks", &web.View{Title: "crm.webhooks.title",
			Data: data, Errors: fields, Error: summary, Form: map[string]string{"url": in.URL}})
	}
	h.srv.SetFlash(c, "crm.webhooks.created")
	return c.Redirect("/admin/webhooks", fiber.StatusSeeOther)
}

func (h *Handlers) webhookDeletePost(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteWebhook(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	h.srv.SetFlash(c, "crm.webhooks.deleted")
	return c.Redirect("/admin/webhooks", fiber.StatusSeeOther)
}

func (h *Handlers) webhookResendPost(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := pathID(c, "delivery")
	if err != nil {
		return err
	}
	if err := h.svc.ResendDelivery(c.UserContext(), actor(c), id, d); err != nil {
		return err
	}
	h.srv.SetFlash(c, "crm.webhooks.resent")
	return c.Redirect("/admin/webhooks#webhook-"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

package search

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/web"
)

type synonymsIn struct {
	Terms []string `json:"terms"`
}

func synonymID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

func (h *Handlers) apiSynonyms(c *fiber.Ctx) error {
	gs, err := h.svc.Synonyms(c.UserContext(), role(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"groups": gs})
}

func (h *Handlers) apiCreateSynonyms(c *fiber.Ctx) error {
	var in synonymsIn
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := h.svc.SaveSynonyms(c.UserContext(), role(c), userID(c), 0, in.Terms)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}

func (h *Handlers) apiUpdateSynonyms(c *fiber.Ctx) error {
	id, err := synonymID(c)
	if err != nil {
		return err
	}
	var in synonymsIn
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	g, err := h.svc.SaveSynonyms(c.UserContext(), role(c), userID(c), id, in.Terms)
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (h *Handlers) apiDeleteSynonyms(c *fiber.Ctx) error {
	id, err := synonymID(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSynonyms(c.UserContext(), role(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// synonymRowView is one group on the staff page, its terms joined for editing.
type synonymRowView struct {
	ID    int64
	Terms string
}

func (h *Handlers) synonymsPage(c *fiber.Ctx) error {
	return h.renderSynonyms(c, fiber.StatusOK, &web.View{})
}

func (h *Handlers) renderSynonyms(c *fiber.Ctx, status int, v *web.View) error {
	gs, err := h.svc.Synonyms(c.UserContext(), role(c))
	if err != nil {
		return err
	}
	rows := make([]synonymRowView, len(gs))
	for i, g := range gs {
		rows[i] = synonymRowView{ID: g.ID, Terms: strings.Join(g.Terms, ", ")}
	}
	v.Title, v.Data = "search.synonyms_title", fiber.Map{"Groups": rows, "Engine": h.svc.Engine()}
	return h.srv.RenderView(c, status, "search_synonyms", v)
}

// synonymsSubmit creates a group (no id), or saves or deletes one (action=delete).
func (h *Handlers) synonymsSubmit(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = synonymID(c); err != nil {
			return err
		}
	}
	var err error
	flash := "search.synonyms_saved"
	if c.FormValue("action") == "delete" && id != 0 {
		err, flash = h.svc.DeleteSynonyms(c.UserContext(), role(c), id), "search.synonyms_deleted"
	} else {
		_, err = h.svc.SaveSynonyms(c.UserContext(), role(c), userID(c), id, SplitTerms(c.FormValue("terms")))
	}
	if err != nil {
		fields, summary, ok := h.srv.FieldErrors(c, err)
		if !ok {
			return err
		}
		v := &web.View{Errors: fields, Error: summary, Form: map[string]string{"terms": c.FormValue("terms"), "id": c.Params("id")}}
		return h.renderSynonyms(c, fiber.StatusUnprocessableEntity, v)
	}
	h.srv.SetFlash(c, flash)
	return c.Redirect("/admin/search/synonyms", fiber.StatusSeeOther)
}

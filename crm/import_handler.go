package crm

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hearth-community/hearth/internal/web"
)

// apiImportPurchases takes a JSON array of purchases (at most MaxBatch): 200 with what
// was imported and skipped, or 422 listing every problem with nothing written.
func (h *Handlers) apiImportPurchases(c *fiber.Ctx) error {
	var rows []PurchaseRow
	if err := web.BindJSON(c, &rows); err != nil {
		return err
	}
	res, err := h.svc.ImportPurchases(c.UserContext(), actor(c), rows, ImportOptions{MaxRows: MaxBatch})
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// apiImportAttributes takes a JSON array of attribute rows (at most MaxBatch).
func (h *Handlers) apiImportAttributes(c *fiber.Ctx) error {
	var rows []AttributeRow
	if err := web.BindJSON(c, &rows); err != nil {
		return err
	}
	res, err := h.svc.ImportAttributes(c.UserContext(), actor(c), rows, ImportOptions{MaxRows: MaxBatch})
	if err != nil {
		return err
	}
	return c.JSON(res)
}

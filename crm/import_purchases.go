package crm

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// PurchaseColumns are the fields of a purchase row: the JSON keys of the API and the
// CSV columns of `hearth import purchases`. The member is named by email or
// member_external_id (either, or both when they agree).
var PurchaseColumns = []string{"external_id", "email", "member_external_id", "amount", "currency", "occurred_at", "source"}

var purchaseFields = fieldSet(PurchaseColumns)

// PurchaseRow is one order or purchase from the brand's shop. Every field is kept as
// text, so that a malformed amount or date is reported against its row and field.
type PurchaseRow struct {
	ExternalID       string `json:"external_id"`
	Email            string `json:"email,omitempty"`
	MemberExternalID string `json:"member_external_id,omitempty"`
	Amount           string `json:"amount"`
	Currency         string `json:"currency,omitempty"`
	OccurredAt       string `json:"occurred_at"`
	Source           string `json:"source,omitempty"`
	// bad lists JSON keys that were unknown or not scalar.
	bad []string
}

// UnmarshalJSON takes numbers or strings for every field (an amount of 19.99 or
// "19.99") and remembers unknown or non-scalar keys for validation.
func (r *PurchaseRow) UnmarshalJSON(b []byte) error {
	vals, bad, _, err := scalarFields(b, purchaseFields)
	if err != nil {
		return err
	}
	*r = PurchaseRow{bad: bad}
	r.set(vals)
	return nil
}

// set fills the row from field → text (a JSON object or a CSV record).
func (r *PurchaseRow) set(vals map[string]string) {
	r.ExternalID, r.Email, r.MemberExternalID = vals["external_id"], vals["email"], vals["member_external_id"]
	r.Amount, r.Currency, r.OccurredAt, r.Source = vals["amount"], vals["currency"], vals["occurred_at"], vals["source"]
}

// purchase is a validated row.
type purchase struct {
	row        int
	externalID string
	email      string
	memberExt  string
	member     int64
	amount     float64
	currency   string
	source     string
	at         time.Time
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// maxFuture tolerates clocks a little ahead of ours; later times are mistakes.
const maxFuture = 24 * time.Hour

// ImportPurchases brings orders from the brand's shop in, matched to members by
// e-mail or external id. Every row is validated and matched first: if any row is
// invalid or matches no member, nothing is written and the error lists every problem
// by field (rows[3].email). Otherwise, in one transaction, each new purchase is stored
// and appended as a shop.purchase engagement event (so the profile's purchase total
// and value move with it). A purchase whose external id is already stored, or
// repeats an earlier row, is skipped and reported, never counted twice.
func (s *Service) ImportPurchases(ctx context.Context, a Actor, rows []PurchaseRow, opt ImportOptions) (*ImportResult, error) {
	if err := authorizeImport(a); err != nil {
		return nil, err
	}
	if err := checkBatch(len(rows), opt); err != nil {
		return nil, err
	}
	now := s.now()
	f := apperr.Fields{}
	ps := make([]purchase, len(rows))
	for i := range rows {
		ps[i] = validatePurchase(f, i, &rows[i], now)
	}
	res := &ImportResult{Rows: len(rows), Skipped: []Skipped{}}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		emails, externals := map[string]bool{}, map[string]bool{}
		for _, p := range ps {
			if p.email != "" {
				emails[p.email] = true
			}
			if p.memberExt != "" {
				externals[p.memberExt] = true
			}
		}
		byEmail, byExternal, err := s.members(ctx, keys(emails), keys(externals))
		if err != nil {
			return err
		}
		for i := range ps {
			matchPurchase(f, &ps[i], byEmail, byExternal)
		}
		if err := rejected(f); err != nil {
			return err
		}
		todo, err := s.newPurchases(ctx, ps, res)
		if err != nil || opt.DryRun {
			res.Imported = len(todo)
			return err
		}
		// A fixed order of locks (member, then external id) keeps two concurrent
		// imports of overlapping files from deadlocking on profiles and ids.
		slices.SortFunc(todo, func(x, y purchase) int {
			return cmp.Or(cmp.Compare(x.member, y.member), strings.Compare(x.externalID, y.externalID))
		})
		for n, p := range todo {
			inserted, err := s.storePurchase(ctx, p)
			if err != nil {
				return err
			}
			if inserted {
				res.Imported++
			} else {
				// stored by a concurrent import since we looked
				res.Skipped = append(res.Skipped, Skipped{Row: p.row, ExternalID: p.externalID, Reason: SkipAlreadyImported})
			}
			if opt.Progress != nil {
				opt.Progress(n+1, len(todo))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(res.Skipped, func(x, y Skipped) int { return cmp.Compare(x.Row, y.Row) })
	return res, nil
}

// newPurchases drops rows whose external id is already stored or repeats an earlier
// row, recording each as skipped.
func (s *Service) newPurchases(ctx context.Context, ps []purchase, res *ImportResult) ([]purchase, error) {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.externalID
	}
	var stored []string
	if err := db.Conn(ctx, s.db).Raw(`SELECT external_id FROM crm_purchases WHERE external_id = ANY(?)`, pq.StringArray(ids)).
		Scan(&stored).Error; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, id := range stored {
		seen[id] = true
	}
	inBatch := map[string]bool{}
	var todo []purchase
	for _, p := range ps {
		switch {
		case seen[p.externalID]:
			res.Skipped = append(res.Skipped, Skipped{Row: p.row, ExternalID: p.externalID, Reason: SkipAlreadyImported})
		case inBatch[p.externalID]:
			res.Skipped = append(res.Skipped, Skipped{Row: p.row, ExternalID: p.externalID, Reason: SkipDuplicateInBatch})
		default:
			inBatch[p.externalID] = true
			todo = append(todo, p)
		}
	}
	return todo, nil
}

// storePurchase inserts one purchase and appends its event; inserted is false when
// the external id was stored meanwhile (the unique index decides, not our read).
func (s *Service) storePurchase(ctx context.Context, p purchase) (inserted bool, err error) {
	var id int64
	err = db.Conn(ctx, s.db).Raw(
		`INSERT INTO crm_purchases (member_id, external_id, amount, currency, source, occurred_at)
		 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (external_id) DO NOTHING RETURNING id`,
		p.member, p.externalID, p.amount, p.currency, p.source, p.at).Row().Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, Append(ctx, s.db, Event{MemberID: p.member, Kind: KindPurchase, SubjectType: "purchase", SubjectID: id,
		Value: p.amount, OccurredAt: p.at})
}

// validatePurchase checks one row's fields, adding a problem per bad field.
func validatePurchase(f apperr.Fields, i int, r *PurchaseRow, now time.Time) purchase {
	badFields(f, i, r.bad, purchaseFields)
	p := purchase{row: i, externalID: strings.TrimSpace(r.ExternalID), email: strings.ToLower(strings.TrimSpace(r.Email)),
		memberExt: strings.TrimSpace(r.MemberExternalID), currency: strings.ToUpper(strings.TrimSpace(r.Currency)),
		source: strings.TrimSpace(r.Source)}
	switch {
	case p.externalID == "":
		f.Add(rowField(i, "external_id"), "field.required")
	case utf8.RuneCountInString(p.externalID) > 200:
		f.Add(rowField(i, "external_id"), "field.too_long")
	}
	switch {
	case p.email == "" && p.memberExt == "":
		f.Add(rowField(i, "email"), "crm.import.member_required")
	case p.email != "" && !validEmail(p.email):
		f.Add(rowField(i, "email"), "field.email_invalid")
	}
	if amount, id := parseAmount(r.Amount); id != "" {
		f.Add(rowField(i, "amount"), id)
	} else {
		p.amount = amount
	}
	if p.currency == "" {
		p.currency = "USD"
	} else if !currencyCode.MatchString(p.currency) {
		f.Add(rowField(i, "currency"), "crm.import.currency")
	}
	if at, id := parseTime(r.OccurredAt, now); id != "" {
		f.Add(rowField(i, "occurred_at"), id)
	} else {
		p.at = at
	}
	if p.source == "" {
		p.source = "shop"
	} else if utf8.RuneCountInString(p.source) > 64 {
		f.Add(rowField(i, "source"), "field.too_long")
	}
	return p
}

// matchPurchase finds the row's member; both keys given must name the same one.
func matchPurchase(f apperr.Fields, p *purchase, byEmail, byExternal map[string]int64) {
	var byE, byX int64
	if p.email != "" {
		if byE = byEmail[p.email]; byE == 0 {
			f.Add(rowField(p.row, "email"), "crm.import.no_member")
		}
	}
	if p.memberExt != "" {
		if byX = byExternal[p.memberExt]; byX == 0 {
			f.Add(rowField(p.row, "member_external_id"), "crm.import.no_member")
		}
	}
	if byE != 0 && byX != 0 && byE != byX {
		f.Add(rowField(p.row, "member_external_id"), "crm.import.member_mismatch")
	}
	p.member = max(byE, byX)
}

// parseAmount reads a non-negative money amount with at most two decimals; the
// second result is the problem's message id.
func parseAmount(s string) (float64, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "field.required"
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, "crm.import.amount_invalid"
	case v < 0:
		return 0, "crm.import.amount_negative"
	case v >= 1e12:
		return 0, "crm.import.amount_too_large"
	case math.Abs(v*100-math.Round(v*100)) > 1e-6:
		return 0, "crm.import.amount_precision"
	}
	return v, ""
}

// timeLayouts are the forms occurred_at may take; those without a zone are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseTime reads a timestamp no later than a day from now.
func parseTime(s string, now time.Time) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, "field.required"
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1970 {
				return time.Time{}, "crm.import.time_invalid"
			}
			if t.After(now.Add(maxFuture)) {
				return time.Time{}, "crm.import.time_future"
			}
			return t, ""
		}
	}
	return time.Time{}, "crm.import.time_invalid"
}

package crm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

var attributeFields = fieldSet([]string{"email", "external_id", "attributes"})

// AttributeRow is one customer record from an existing CRM. The member is found by
// email, or by external_id when there is no email; with both, external_id is set on
// the member found by email (linking the two systems). Attributes are merged into
// the profile's: a null value removes that attribute.
type AttributeRow struct {
	Email      string         `json:"email,omitempty"`
	ExternalID string         `json:"external_id,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	bad        []string
}

// UnmarshalJSON takes numbers or strings for email and external_id, keeps attribute
// numbers exact, and remembers unknown or mistyped keys for validation.
func (r *AttributeRow) UnmarshalJSON(b []byte) error {
	vals, bad, attrs, err := scalarFields(b, attributeFields)
	if err != nil {
		return err
	}
	*r = AttributeRow{Email: vals["email"], ExternalID: vals["external_id"], bad: bad}
	if len(bytes.TrimSpace(attrs)) > 0 && string(bytes.TrimSpace(attrs)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(attrs))
		dec.UseNumber()
		if err := dec.Decode(&r.Attributes); err != nil {
			r.bad = append(r.bad, "attributes")
		}
	}
	return nil
}

// Limits on what one row may carry into a profile.
const (
	maxAttributes     = 100
	maxAttributeValue = 1000
)

var attributeKey = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

// attributeUpdate is a validated row.
type attributeUpdate struct {
	row        int
	email      string
	externalID string
	member     int64
	// link sets externalID on the member found by email
	link  bool
	attrs []byte
}

// ImportAttributes brings customer attributes (and external ids) from an existing CRM
// into the members' profiles. As with purchases, every row is validated and matched
// first; if any is invalid or unmatched nothing is written and every problem is
// listed by field; otherwise all rows are applied in one transaction. Applying the
// same rows again changes nothing.
func (s *Service) ImportAttributes(ctx context.Context, a Actor, rows []AttributeRow, opt ImportOptions) (*ImportResult, error) {
	if err := authorizeImport(a); err != nil {
		return nil, err
	}
	if err := checkBatch(len(rows), opt); err != nil {
		return nil, err
	}
	f := apperr.Fields{}
	us := make([]attributeUpdate, len(rows))
	for i := range rows {
		us[i] = validateAttributes(f, i, &rows[i])
	}
	res := &ImportResult{Rows: len(rows), Skipped: []Skipped{}}
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		emails, externals := map[string]bool{}, map[string]bool{}
		for _, u := range us {
			if u.email != "" {
				emails[u.email] = true
			}
			if u.externalID != "" {
				externals[u.externalID] = true
			}
		}
		byEmail, byExternal, err := s.members(ctx, keys(emails), keys(externals))
		if err != nil {
			return err
		}
		matchAttributes(f, us, byEmail, byExternal)
		if err := rejected(f); err != nil {
			return err
		}
		if opt.DryRun {
			res.Imported = len(us)
			return nil
		}
		order := slices.Clone(us)
		slices.SortStableFunc(order, func(x, y attributeUpdate) int { return cmp.Compare(x.member, y.member) })
		conn := db.Conn(ctx, s.db)
		for n, u := range order {
			if err := conn.Exec(`INSERT INTO crm_profiles (member_id) VALUES (?) ON CONFLICT DO NOTHING`, u.member).Error; err != nil {
				return err
			}
			var ext *string
			if u.link {
				ext = &u.externalID
			}
			// jsonb_strip_nulls: a null in the import removes the attribute (values are
			// scalars, so no nested nulls are lost)
			if err := conn.Exec(`UPDATE crm_profiles SET attributes = jsonb_strip_nulls(attributes || CAST(? AS jsonb)),
			                            external_id = coalesce(?, external_id), updated_at = now() WHERE member_id = ?`,
				string(u.attrs), ext, u.member).Error; err != nil {
				return err
			}
			res.Imported++
			if opt.Progress != nil {
				opt.Progress(n+1, len(order))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// validateAttributes checks one row's keys and values.
func validateAttributes(f apperr.Fields, i int, r *AttributeRow) attributeUpdate {
	badFields(f, i, r.bad, attributeFields)
	u := attributeUpdate{row: i, email: strings.ToLower(strings.TrimSpace(r.Email)), externalID: strings.TrimSpace(r.ExternalID)}
	switch {
	case u.email == "" && u.externalID == "":
		f.Add(rowField(i, "email"), "crm.import.member_required")
	case u.email != "" && !validEmail(u.email):
		f.Add(rowField(i, "email"), "field.email_invalid")
	}
	if utf8.RuneCountInString(u.externalID) > 200 {
		f.Add(rowField(i, "external_id"), "field.too_long")
	}
	u.link = u.email != "" && u.externalID != ""
	if len(r.Attributes) == 0 && !u.link {
		f.Add(rowField(i, "attributes"), "field.required")
	}
	if len(r.Attributes) > maxAttributes {
		f.Add(rowField(i, "attributes"), "crm.import.too_many_attributes")
	}
	for k, v := range r.Attributes {
		if !attributeKey.MatchString(k) {
			f.Add(rowField(i, "attributes"), "crm.import.attribute_key")
			continue
		}
		switch v := v.(type) {
		case nil, bool, json.Number, float64:
		case string:
			if utf8.RuneCountInString(v) > maxAttributeValue {
				f.Add(rowField(i, "attributes."+k), "crm.import.attribute_value")
			}
		default:
			f.Add(rowField(i, "attributes."+k), "crm.import.attribute_value")
		}
	}
	if r.Attributes == nil {
		u.attrs = []byte("{}")
	} else {
		u.attrs, _ = json.Marshal(r.Attributes)
	}
	return u
}

// matchAttributes finds each row's member and checks that an external id being set
// is not held by another member, in the database or earlier in the batch.
func matchAttributes(f apperr.Fields, us []attributeUpdate, byEmail, byExternal map[string]int64) {
	claimed := map[string]int64{}
	for i := range us {
		u := &us[i]
		if u.email != "" {
			if u.member = byEmail[u.email]; u.member == 0 {
				f.Add(rowField(u.row, "email"), "crm.import.no_member")
				continue
			}
		} else if u.externalID != "" {
			if u.member = byExternal[u.externalID]; u.member == 0 {
				f.Add(rowField(u.row, "external_id"), "crm.import.no_member")
			}
			continue
		}
		if !u.link {
			continue
		}
		holder, inDB := byExternal[u.externalID]
		if prev, ok := claimed[u.externalID]; ok {
			holder, inDB = prev, true
		}
		if inDB && holder != u.member {
			f.Add(rowField(u.row, "external_id"), "crm.import.external_id_taken")
			continue
		}
		claimed[u.externalID] = u.member
	}
}

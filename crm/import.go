package crm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// MaxBatch is the most rows one API call may import; larger files go through
// `hearth import`, which has no limit.
const MaxBatch = 1000

// Operator is who runs `hearth import` at the shell: they hold the database
// credentials, so they are trusted like an admin.
func Operator() Actor { return Actor{Role: "admin"} }

// ImportsData reports whether a may bring external shop and CRM data in.
func (a Actor) ImportsData() bool { return a.Role == "admin" || a.Role == "marketer" }

// ImportOptions tune one import.
type ImportOptions struct {
	// MaxRows refuses larger batches (0: no limit).
	MaxRows int
	// Progress, when set, is called as rows are written (done of total).
	Progress func(done, total int)
	// DryRun validates and matches every row and reports what would be imported,
	// writing nothing.
	DryRun bool
}

// ImportResult says what an import did. Rows already imported (same external id)
// are skipped, never counted twice; skipping is not an error.
type ImportResult struct {
	Rows     int       `json:"rows"`
	Imported int       `json:"imported"`
	Skipped  []Skipped `json:"skipped"`
}

// Skipped is a row that was left out on purpose, with why.
type Skipped struct {
	// Row is the 0-based index in the batch (rows[Row]).
	Row        int    `json:"row"`
	ExternalID string `json:"external_id"`
	// Reason is "already_imported" or "duplicate_in_batch".
	Reason string `json:"reason"`
}

// The reasons a row is skipped.
const (
	SkipAlreadyImported  = "already_imported"
	SkipDuplicateInBatch = "duplicate_in_batch"
)

// rowField names a field of one row in an import's field errors: rows[3].email.
func rowField(i int, name string) string { return fmt.Sprintf("rows[%d].%s", i, name) }

// RowProblem is one field error of an import, split back into row and column (the
// CLI prints it as line and column of the file).
type RowProblem struct {
	Row       int    // 0-based; -1 for the batch as a whole
	Column    string // the field or CSV column
	MessageID string
}

// RowProblems splits an import error's fields (rows[3].email) into problems sorted by
// row and column; it returns nil for an error that is not about rows.
func RowProblems(err error) []RowProblem {
	e := apperr.As(err)
	if e.Kind != apperr.Invalid {
		return nil
	}
	var out []RowProblem
	for f, id := range e.Fields {
		p := RowProblem{Row: -1, Column: f, MessageID: id}
		if rest, ok := strings.CutPrefix(f, "rows["); ok {
			if n, col, ok := strings.Cut(rest, "]."); ok {
				if i, err := strconv.Atoi(n); err == nil {
					p.Row, p.Column = i, col
				}
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b RowProblem) int {
		if a.Row != b.Row {
			return cmp.Compare(a.Row, b.Row)
		}
		return strings.Compare(a.Column, b.Column)
	})
	return out
}

// rejected is the error of an import with problems: nothing was written.
func rejected(f apperr.Fields) error {
	if len(f) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Invalid, MessageID: "crm.import.rejected", Fields: f}
}

// scalarFields decodes one JSON row object into the text of each of its scalar
// fields, so that a malformed amount or date is reported for its row and field
// instead of failing the whole batch. Fields holding an object or array are listed
// in bad; attrs receives the raw "attributes" member when asked for.
func scalarFields(b []byte, known map[string]bool) (vals map[string]string, bad []string, attrs json.RawMessage, err error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, nil, err
	}
	vals = map[string]string{}
	for k, v := range raw {
		if k == "attributes" && known[k] {
			attrs = v
			continue
		}
		if !known[k] {
			bad = append(bad, k)
			continue
		}
		s, ok := scalarText(v)
		if !ok {
			bad = append(bad, k)
			continue
		}
		vals[k] = s
	}
	return vals, bad, attrs, nil
}

// scalarText is the text of a JSON string, number or boolean ("" for null).
func scalarText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", true
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case v[0] == '{' || v[0] == '[':
		return "", false
	}
	return string(v), true
}

// badFields marks fields of a JSON row that were unknown or of the wrong type.
func badFields(f apperr.Fields, i int, bad []string, known map[string]bool) {
	for _, k := range bad {
		if known[k] {
			f.Add(rowField(i, k), "crm.import.bad_type")
		} else {
			f.Add(rowField(i, k), "crm.import.unknown_field")
		}
	}
}

// members resolves e-mail addresses (any case) and external ids to member ids, in
// two queries for the whole batch. Erased members match neither: their address and
// external id are gone.
func (s *Service) members(ctx context.Context, emails, externals []string) (byEmail, byExternal map[string]int64, err error) {
	conn := db.Conn(ctx, s.db)
	byEmail, byExternal = map[string]int64{}, map[string]int64{}
	var rows []struct {
		Key string
		ID  int64
	}
	if len(emails) > 0 {
		if err := conn.Raw(`SELECT lower(email) AS key, id FROM users WHERE lower(email) = ANY(?)`, pq.StringArray(emails)).
			Scan(&rows).Error; err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			byEmail[r.Key] = r.ID
		}
	}
	if len(externals) > 0 {
		rows = rows[:0]
		if err := conn.Raw(`SELECT external_id AS key, member_id AS id FROM crm_profiles WHERE external_id = ANY(?) AND NOT erased`,
			pq.StringArray(externals)).Scan(&rows).Error; err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			byExternal[r.Key] = r.ID
		}
	}
	return byEmail, byExternal, nil
}

// validEmail is a light shape check; the real test is whether a member has it.
func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n,;<>")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// authorizeImport lets marketers, admins and the shell operator import.
func authorizeImport(a Actor) error {
	if a.Role == "" {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if !a.ImportsData() {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

// checkBatch refuses empty and oversized batches.
func checkBatch(n int, opt ImportOptions) error {
	switch {
	case n == 0:
		return rejected(apperr.Fields{"rows": "crm.import.empty"})
	case opt.MaxRows > 0 && n > opt.MaxRows:
		return rejected(apperr.Fields{"rows": "crm.import.too_many"})
	}
	return nil
}

func fieldSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

package crm

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// CSVProblem is something wrong with a CSV file itself (a missing column, a line that
// cannot be read), by file line (1 is the header) and column.
type CSVProblem struct {
	Line      int
	Column    string
	MessageID string
}

// CSVRows are the rows read from a CSV file, with the file line each one starts on
// (so a problem with rows[i] is reported at Lines[i]).
type CSVRows[R any] struct {
	Rows     []R
	Lines    []int
	Problems []CSVProblem
}

// maxCSVProblems stops reading a file that is clearly not what was meant.
const maxCSVProblems = 200

// ReadPurchasesCSV reads purchases from CSV with a header line naming some of
// PurchaseColumns in any order: external_id, amount and occurred_at are required, and
// email or member_external_id (or both).
func ReadPurchasesCSV(r io.Reader) (*CSVRows[PurchaseRow], error) {
	out := &CSVRows[PurchaseRow]{}
	err := readCSV(r, out, func(vals map[string]string) PurchaseRow {
		var p PurchaseRow
		p.set(vals)
		return p
	}, func(cols []string) []CSVProblem {
		var ps []CSVProblem
		have := fieldSet(cols)
		for _, c := range cols {
			if !purchaseFields[c] {
				ps = append(ps, CSVProblem{1, c, "crm.import.unknown_column"})
			}
		}
		for _, c := range []string{"external_id", "amount", "occurred_at"} {
			if !have[c] {
				ps = append(ps, CSVProblem{1, c, "crm.import.missing_column"})
			}
		}
		if !have["email"] && !have["member_external_id"] {
			ps = append(ps, CSVProblem{1, "email", "crm.import.missing_column"})
		}
		return ps
	})
	return out, err
}

// ReadAttributesCSV reads customer attributes from CSV: an email column, an
// external_id column or both, and every other column is an attribute of that name.
// Empty cells leave the attribute as it is; values are imported as text.
func ReadAttributesCSV(r io.Reader) (*CSVRows[AttributeRow], error) {
	out := &CSVRows[AttributeRow]{}
	err := readCSV(r, out, func(vals map[string]string) AttributeRow {
		a := AttributeRow{Email: vals["email"], ExternalID: vals["external_id"], Attributes: map[string]any{}}
		for k, v := range vals {
			if k != "email" && k != "external_id" && v != "" {
				a.Attributes[k] = v
			}
		}
		return a
	}, func(cols []string) []CSVProblem {
		var ps []CSVProblem
		have := fieldSet(cols)
		if !have["email"] && !have["external_id"] {
			ps = append(ps, CSVProblem{1, "email", "crm.import.missing_column"})
		}
		for _, c := range cols {
			if c != "email" && c != "external_id" && !attributeKey.MatchString(c) {
				ps = append(ps, CSVProblem{1, c, "crm.import.attribute_key"})
			}
		}
		return ps
	})
	return out, err
}

// readCSV reads the header (checked by checkHeader) and every record into out.
// Problems with the file are collected in out.Problems; the error is only for a
// reader that fails.
func readCSV[R any](r io.Reader, out *CSVRows[R], row func(map[string]string) R, checkHeader func([]string) []CSVProblem) error {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		out.Problems = append(out.Problems, CSVProblem{1, "", "crm.import.empty"})
		return nil
	}
	if err != nil {
		return csvError(err, out)
	}
	cols := make([]string, len(head))
	seen := map[string]bool{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a BOM from spreadsheet exports
		// the fixed columns ignore case; attribute columns keep theirs
		if l := strings.ToLower(h); purchaseFields[l] || attributeFields[l] {
			h = l
		}
		if seen[h] {
			out.Problems = append(out.Problems, CSVProblem{1, h, "crm.import.duplicate_column"})
		}
		seen[h] = true
		cols[i] = h
	}
	out.Problems = append(out.Problems, checkHeader(cols)...)
	if len(out.Problems) > 0 {
		return nil
	}
	for len(out.Problems) < maxCSVProblems {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			out.Problems = append(out.Problems, CSVProblem{pe.StartLine, "", "crm.import.bad_row"})
			continue
		}
		vals := make(map[string]string, len(cols))
		for i, c := range cols {
			vals[c] = strings.TrimSpace(rec[i])
		}
		line, _ := cr.FieldPos(0)
		out.Rows = append(out.Rows, row(vals))
		out.Lines = append(out.Lines, line)
	}
	if len(out.Rows) == 0 && len(out.Problems) == 0 {
		out.Problems = append(out.Problems, CSVProblem{2, "", "crm.import.empty"})
	}
	return nil
}

func csvError[R any](err error, out *CSVRows[R]) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		out.Problems = append(out.Problems, CSVProblem{pe.StartLine, "", "crm.import.bad_row"})
		return nil
	}
	return err
}

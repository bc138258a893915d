package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/i18n"
)

const importUsage = "usage: hearth import purchases|attributes FILE.csv [--dry-run] [flags]"

// runImport handles `hearth import purchases|attributes FILE.csv`: the same
// validation and all-or-nothing import as the API, without its batch limit. Every
// problem in the file is reported (line, column, problem) and then nothing is
// written; otherwise all rows are written in one transaction behind a progress bar.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return errors.New(importUsage)
	}
	what, path, rest := args[0], args[1], args[2:]
	if what != "purchases" && what != "attributes" {
		return fmt.Errorf("%s (got %q)", importUsage, what)
	}
	dryRun := false
	var cfgArgs []string
	for _, a := range rest {
		if a == "--dry-run" || a == "-dry-run" {
			dryRun = true
			continue
		}
		cfgArgs = append(cfgArgs, a)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var (
		purchases  *crm.CSVRows[crm.PurchaseRow]
		attributes *crm.CSVRows[crm.AttributeRow]
		lines      []int
		fileIssues []crm.CSVProblem
	)
	if what == "purchases" {
		if purchases, err = crm.ReadPurchasesCSV(f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		lines, fileIssues = purchases.Lines, purchases.Problems
	} else {
		if attributes, err = crm.ReadAttributesCSV(f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		lines, fileIssues = attributes.Lines, attributes.Problems
	}
	if len(lines) == 0 && len(fileIssues) > 0 {
		return report(stdout, path, fileIssues)
	}

	e, _, err := open(ctx, cfgArgs, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.requireMigrated(ctx); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: nil, Logger: e.log})
	if err != nil {
		return err
	}
	// A file with unreadable lines is still checked row by row (without writing), so
	// that one report lists everything to fix.
	opt := crm.ImportOptions{DryRun: dryRun || len(fileIssues) > 0}
	bar := newImportBar(stderr, what)
	if !opt.DryRun {
		opt.Progress = bar.progress
	}
	start := time.Now()
	var res *crm.ImportResult
	if purchases != nil {
		res, err = a.CRM.ImportPurchases(ctx, crm.Operator(), purchases.Rows, opt)
	} else {
		res, err = a.CRM.ImportAttributes(ctx, crm.Operator(), attributes.Rows, opt)
	}
	bar.finish()
	for _, p := range crm.RowProblems(err) {
		line := 1
		if p.Row >= 0 && p.Row < len(lines) {
			line = lines[p.Row]
		}
		fileIssues = append(fileIssues, crm.CSVProblem{Line: line, Column: p.Column, MessageID: p.MessageID})
	}
	if len(fileIssues) > 0 {
		return report(stdout, path, fileIssues)
	}
	if err != nil {
		return describe(err)
	}
	verb := "imported"
	if opt.DryRun {
		verb = "would import (dry run, nothing written)"
	}
	fmt.Fprintf(stdout, "%s: %d rows, %s %d in %s", path, res.Rows, verb, res.Imported, time.Since(start).Round(time.Millisecond))
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(stdout, ", skipped %d already imported or repeated:", n)
		for i, s := range res.Skipped {
			if i == 10 {
				fmt.Fprintf(stdout, " …")
				break
			}
			fmt.Fprintf(stdout, " line %d (%s, %s)", lines[s.Row], s.ExternalID, strings.ReplaceAll(s.Reason, "_", " "))
		}
	}
	fmt.Fprintln(stdout)
	return nil
}

// report prints the validation report, sorted by line, and returns the error that
// makes the command fail: nothing was imported.
func report(w io.Writer, path string, ps []crm.CSVProblem) error {
	sortCSVProblems(ps)
	l := englishLocalizer()
	fmt.Fprintf(w, "Validation report for %s: %d problem(s); nothing was imported.\n", path, len(ps))
	fmt.Fprintf(w, "%6s  %-20s  %s\n", "line", "column", "problem")
	for _, p := range ps {
		msg := p.MessageID
		if l != nil {
			msg = l.T(p.MessageID)
		}
		fmt.Fprintf(w, "%6d  %-20s  %s\n", p.Line, p.Column, msg)
	}
	return fmt.Errorf("%s: %d problem(s), nothing imported", path, len(ps))
}

func sortCSVProblems(ps []crm.CSVProblem) {
	slices.SortStableFunc(ps, func(a, b crm.CSVProblem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Column, b.Column))
	})
}

func englishLocalizer() *i18n.Localizer {
	b, err := i18n.Load()
	if err != nil {
		return nil
	}
	return b.For("en")
}

// importBar shows the writing of rows (created on the first row, when the number to
// write is known).
type importBar struct {
	w    io.Writer
	what string
	bar  *progressbar.ProgressBar
}

func newImportBar(w io.Writer, what string) *importBar { return &importBar{w: w, what: what} }

func (b *importBar) progress(done, total int) {
	if b.bar == nil {
		b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription("importing "+b.what), progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }))
	}
	_ = b.bar.Set(done)
}

func (b *importBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

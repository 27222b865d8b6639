package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/spf13/cobra"
)

func newVerify() *cobra.Command {
	return &cobra.Command{
		Use:   "verify [DIR ...]",
		Short: "Re-render the fixture scenarios and compare the XML with the reviewed golden XML",
		Long: `verify finds every scenario (a directory with dataset.json) below each DIR (default
fixtures), runs it as of its as_of date, renders the CII XML of every document and compares
it with the reviewed XML in the scenario's expected/ directory. Each difference is named by
its EN 16931 business term, e.g. "BT-112 total with VAT expected 119.00 got 118.99".

Exit status: 0 when every document equals its reviewed XML; 1 on any difference, on a
document without reviewed XML and on reviewed XML no document matches.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"fixtures"}
			}
			problems, err := verify(cmd.OutOrStdout(), args)
			if err != nil {
				return err
			}
			if problems > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%s from the reviewed XML", invoice.Count(problems, "difference", "differences"))}
			}
			return nil
		},
	}
}

// verify checks every scenario below roots and returns the number of problems found.
func verify(w io.Writer, roots []string) (int, error) {
	var dirs []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && d.Name() == dataset.ManifestFile {
				dirs = append(dirs, filepath.Dir(p))
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("verify: %w", err)
		}
	}
	if len(dirs) == 0 {
		return 0, fmt.Errorf("verify: no scenario (directory with %s) below %s", dataset.ManifestFile, strings.Join(roots, ", "))
	}
	sort.Strings(dirs)
	problems := 0
	for _, dir := range dirs {
		n, err := verifyScenario(w, dir)
		if err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", dir, err)
			problems++
			continue
		}
		problems += n
	}
	fmt.Fprintf(w, "%s checked, %s\n", invoice.Count(len(dirs), "scenario", "scenarios"), invoice.Count(problems, "problem", "problems"))
	return problems, nil
}

func verifyScenario(w io.Writer, dir string) (int, error) {
	ds, err := dataset.LoadDir(dir)
	if err != nil {
		return 0, err
	}
	if ds.Manifest.AsOf.IsZero() {
		return 0, errors.New("dataset.json has no as_of date")
	}
	p, err := jobs.RunPreview(ds, ds.Manifest.AsOf)
	if err != nil {
		return 0, err
	}
	expected := filepath.Join(dir, "expected")
	problems := 0
	issued := map[string]bool{}
	for _, inv := range p.Batch.Invoices {
		issued[inv.Number+".xml"] = true
		got, err := zugferd.XML(inv)
		if err != nil {
			return problems, err
		}
		want, err := os.ReadFile(filepath.Join(expected, inv.Number+".xml"))
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(w, "FAIL %s %s: no reviewed XML in %s\n", dir, inv.Number, expected)
			problems++
			continue
		}
		if err != nil {
			return problems, err
		}
		diffs, err := zugferd.Compare(want, got)
		if err != nil {
			return problems, fmt.Errorf("%s: %w", inv.Number, err)
		}
		for _, d := range diffs {
			fmt.Fprintf(w, "FAIL %s %s: %s\n", dir, inv.Number, d)
		}
		problems += len(diffs)
	}
	reviewed, _ := filepath.Glob(filepath.Join(expected, "*.xml"))
	for _, f := range reviewed {
		if !issued[filepath.Base(f)] {
			fmt.Fprintf(w, "FAIL %s: reviewed %s, but the run issues no such document\n", dir, filepath.Base(f))
			problems++
		}
	}
	if problems == 0 {
		fmt.Fprintf(w, "ok   %s (%s)\n", dir, invoice.Count(len(p.Batch.Invoices), "document", "documents"))
	}
	return problems, nil
}

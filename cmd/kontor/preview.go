package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/spf13/cobra"
)

func newPreview(logger *slog.Logger) *cobra.Command {
	var dataDir, asOfFlag, jsonFile, outDir string
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Show the invoices a run would issue, from a dataset, without a database",
		Long: `preview loads a dataset, validates it, and prints the invoices a run as of the given
date would issue (with draft numbers), the buyers it would skip and why, and what happened
to the usage events. It changes nothing.

Exit status: 0 when the preview was computed (skipped buyers are reported, not fatal);
1 when the dataset is invalid (every problem is listed) or an argument is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, err := dataset.LoadDir(dataDir)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			asOf, err := resolveAsOf(asOfFlag, ds, time.Now())
			if err != nil {
				return err
			}
			p, err := jobs.RunPreview(ds, asOf)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "kontor preview as of %s, dataset %s\n\n", asOf, dataDir)
			if err := invoice.WriteTable(out, p.Batch, p.Rating.Counts); err != nil {
				return err
			}
			if outDir != "" {
				n, err := writeDocuments(outDir, ds.Seller.Logo, p.Batch.Invoices)
				if err != nil {
					return err
				}
				logger.Info("wrote e-invoices", "dir", outDir, "files", n)
			}
			if jsonFile != "" {
				if err := writeJSON(jsonFile, p); err != nil {
					return err
				}
				logger.Info("wrote invoice model", "file", jsonFile, "invoices", len(p.Batch.Invoices))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "fixtures/demo", "dataset directory")
	cmd.Flags().StringVar(&asOfFlag, "as-of", "", "run date YYYY-MM-DD (default: the dataset's as_of, else today in the billing time zone)")
	cmd.Flags().StringVar(&jsonFile, "json", "", "also write the invoice model as JSON to this file")
	cmd.Flags().StringVar(&outDir, "out", "", "also write each draft as NUMBER.xml (CII) and NUMBER.pdf (Factur-X PDF/A-3) into this directory")
	return cmd
}

// resolveAsOf returns the run date: the flag, else the dataset's as_of, else today in the
// seller's billing time zone.
func resolveAsOf(flag string, ds *dataset.Dataset, now time.Time) (calendar.Date, error) {
	switch {
	case flag != "":
		d, err := calendar.Parse(flag)
		if err != nil {
			return d, usageError(fmt.Errorf("--as-of: %w", err))
		}
		return d, nil
	case !ds.Manifest.AsOf.IsZero():
		return ds.Manifest.AsOf, nil
	}
	return calendar.Of(now, ds.Seller.Location), nil
}

// writeDocuments renders each invoice's e-invoice files, with the seller's logo, into dir.
func writeDocuments(dir string, logo []byte, invoices []*invoice.Invoice) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	r, err := zugferd.NewRenderer()
	if err != nil {
		return 0, err
	}
	if len(logo) > 0 {
		if err := r.AddLogo(logo); err != nil {
			return 0, fmt.Errorf("logo: %w", err)
		}
	}
	n := 0
	for _, inv := range invoices {
		x, err := zugferd.XML(inv)
		if err != nil {
			return n, err
		}
		pdf, err := r.PDF(inv, x)
		if err != nil {
			return n, err
		}
		for name, b := range map[string][]byte{inv.Number + ".xml": x, inv.Number + ".pdf": pdf} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func writeJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

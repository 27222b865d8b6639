package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/report"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

func newReport(dbFlag *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Reports for finance: a run's report, license reports",
	}
	var out string
	run := &cobra.Command{
		Use:   "run RUN_ID",
		Short: "Write the HTML report of a finished run",
		Long: `report run writes the self-contained HTML report of a finished run (the one the run
archived as reports/run-NNNNNN.html): totals per currency, per app and per usage type
(included, overage, blocked), subscriptions started, cancelled and in trial, skipped
buyers with reasons, the documents issued, and a comparison with the previous run, with
charts as inline SVG. It opens offline; it loads nothing and runs no script.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return &exitError{code: 2, err: fmt.Errorf("report run: %q is not a run ID", args[0])}
			}
			st, err := store.Open(cmd.Context(), databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			html, err := jobs.RunReport(cmd.Context(), st, id)
			if errors.Is(err, store.ErrNoRun) {
				return &exitError{code: 1, err: err}
			}
			if err != nil {
				return err
			}
			return writeOut(cmd, out, html)
		},
	}
	run.Flags().StringVar(&out, "out", "", "file to write (default standard output)")
	cmd.AddCommand(run, newReportLicenses(dbFlag))
	return cmd
}

func newReportLicenses(dbFlag *string) *cobra.Command {
	var from, to, by, format, out, data string
	cmd := &cobra.Command{
		Use:   "licenses --from DATE --to DATE --by country|app",
		Short: "Provisioned vs assigned licenses over time, by country or app",
		Long: `report licenses counts licenses from the license reports on the last day of each month
from --from to --to (and on --to), grouped by the customer's country or by app, in
users, companies or tenants: paid subscriptions, trials, provisioned (the quantity
billed under the plan's license method), assigned (licensed users, licensed companies,
tenants), licensable, and paid subscriptions without any license report.

--format table (default), csv, or html (self-contained, with charts). The dataset is
the one imported into the database, or --data DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lo, hi, err := parsePeriod("report licenses", from, to)
			if err != nil {
				return err
			}
			if format != "table" && format != "csv" && format != "html" {
				return &exitError{code: 2, err: fmt.Errorf("report licenses: --format %q: want table, csv or html", format)}
			}
			var ds *dataset.Dataset
			if data != "" {
				if ds, err = dataset.LoadDir(data); err != nil {
					return &exitError{code: 1, err: err}
				}
			} else {
				st, err := store.Open(cmd.Context(), databaseURL(*dbFlag))
				if err != nil {
					return err
				}
				defer st.Close()
				if ds, err = st.Dataset(cmd.Context()); err != nil {
					return err
				}
			}
			rows, err := report.Licenses(ds, lo, hi, by)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var b []byte
			switch format {
			case "table":
				var buf bytes.Buffer
				err = report.LicensesTable(&buf, rows, by)
				b = buf.Bytes()
			case "csv":
				b, err = report.LicensesCSV(rows, by)
			case "html":
				b, err = report.LicensesHTML(rows, by, lo, hi)
			}
			if err != nil {
				return err
			}
			return writeOut(cmd, out, b)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first day YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last day YYYY-MM-DD")
	cmd.Flags().StringVar(&by, "by", "country", "group by country or app")
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or html")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default standard output)")
	cmd.Flags().StringVar(&data, "data", "", "read this dataset directory instead of the database")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// parsePeriod parses the required --from and --to dates of a command (exit status 2 when
// either is not a date).
func parsePeriod(command, from, to string) (lo, hi calendar.Date, err error) {
	if lo, err = calendar.Parse(from); err != nil {
		return lo, hi, &exitError{code: 2, err: fmt.Errorf("%s: --from: %w", command, err)}
	}
	if hi, err = calendar.Parse(to); err != nil {
		return lo, hi, &exitError{code: 2, err: fmt.Errorf("%s: --to: %w", command, err)}
	}
	return lo, hi, nil
}

// writeOut writes data to the file named by out, or to standard output.
func writeOut(cmd *cobra.Command, out string, data []byte) error {
	if out == "" || out == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
	return nil
}

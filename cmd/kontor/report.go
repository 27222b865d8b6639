package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/kontor-billing/kontor/jobs"
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
	cmd.AddCommand(run)
	return cmd
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

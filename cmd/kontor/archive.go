package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

func newArchiveCmd(dbFlag *string) *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "Check the invoice archive"}
	var fromFlag, toFlag, archiveFlag string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check that every issued invoice is in the archive with matching hashes",
		Long: `archive verify reads every archived file of the issued invoices (issue date within
--from/--to) and compares its SHA-256 with the hash recorded when it was rendered. It
reports files that are missing or differ, and invoices not archived yet. Exit status 1 on
any problem.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var from, to calendar.Date
			var err error
			if fromFlag != "" {
				if from, err = calendar.Parse(fromFlag); err != nil {
					return usageError(fmt.Errorf("--from: %w", err))
				}
			}
			if toFlag != "" {
				if to, err = calendar.Parse(toFlag); err != nil {
					return usageError(fmt.Errorf("--to: %w", err))
				}
			}
			st, err := store.Open(ctx, databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			arc, err := archive.Open(ctx, archiveURL(archiveFlag))
			if err != nil {
				return err
			}
			docs, err := st.IssuedDocuments(ctx, from, to)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			problems, checked := 0, 0
			invoices := map[string]bool{}
			for _, d := range docs {
				invoices[d.Number] = true
				if d.Key == "" {
					fmt.Fprintf(w, "NOT ARCHIVED %s (%s) %s\n", d.Number, d.Status, d.Kind)
					problems++
					continue
				}
				checked++
				b, err := arc.Get(ctx, d.Key)
				switch {
				case errors.Is(err, archive.ErrNotFound):
					fmt.Fprintf(w, "MISSING %s %s\n", d.Number, d.Key)
					problems++
				case err != nil:
					return err
				default:
					sum := sha256.Sum256(b)
					if got := hex.EncodeToString(sum[:]); got != d.SHA256 {
						fmt.Fprintf(w, "DIFFERS %s %s: sha256 %s, recorded %s\n", d.Number, d.Key, got, d.SHA256)
						problems++
					}
				}
			}
			fmt.Fprintf(w, "%s, %s checked, %s\n", invoice.Count(len(invoices), "invoice", "invoices"),
				invoice.Count(checked, "archived file", "archived files"), invoice.Count(problems, "problem", "problems"))
			if problems > 0 {
				return &exitError{code: 1, err: fmt.Errorf("archive verify: %s", invoice.Count(problems, "problem", "problems"))}
			}
			return nil
		},
	}
	verify.Flags().StringVar(&fromFlag, "from", "", "first issue date YYYY-MM-DD")
	verify.Flags().StringVar(&toFlag, "to", "", "last issue date YYYY-MM-DD")
	verify.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else "+archive.DefaultURL+")")
	cmd.AddCommand(verify)
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

func newCreditNote(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var lines, reason, dateFlag, archiveFlag string
	var full bool
	cmd := &cobra.Command{
		Use:   "credit-note INVOICE (--full | --lines 1,3) --reason TEXT",
		Short: "Issue a credit note (type 381) for an invoice, in full or for some lines",
		Long: `credit-note corrects an issued invoice the lawful way: a credit note (UNTDID 1001 type
381) that references it (BT-25, BT-26), numbered from the credit-note series, rendered as a
Factur-X PDF/A-3 with its XML and archived like an invoice. The invoice itself never
changes. Each line can be credited once: crediting a line again, or crediting a credit
note, is refused. --full credits every line not credited yet.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if full == (lines != "") {
				return usageError(errors.New("give either --full or --lines"))
			}
			if strings.TrimSpace(reason) == "" {
				return usageError(errors.New("--reason is required"))
			}
			var ids []string
			for _, l := range strings.Split(lines, ",") {
				if l = strings.TrimSpace(l); l != "" {
					ids = append(ids, l)
				}
			}
			ctx := cmd.Context()
			st, ds, err := openWithDataset(ctx, *dbFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			date, err := runDate(dateFlag, ds.Seller, time.Now())
			if err != nil {
				return err
			}
			r, arc, err := renderAndArchive(ctx, archiveFlag)
			if err != nil {
				return err
			}
			sum, err := jobs.CreditNote(ctx, st, args[0], ids, reason, jobs.RunOptions{AsOf: date, Renderer: r, Archive: arc, Logger: logger})
			if errors.Is(err, store.ErrOverCredit) {
				return &exitError{code: 1, err: err}
			}
			if err != nil {
				return err
			}
			for _, is := range sum.Issued {
				fmt.Fprintf(cmd.OutOrStdout(), "issued %s (type %s) for %s: net %s, VAT %s, gross %s %s; archived %d\n",
					is.Number, is.Type, args[0], is.Net.StringFixed(2), is.VAT.StringFixed(2), is.Gross.StringFixed(2), is.Currency, sum.Archived)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "credit every line not credited yet")
	cmd.Flags().StringVar(&lines, "lines", "", "the invoice's line numbers to credit, e.g. 1,3")
	cmd.Flags().StringVar(&reason, "reason", "", "why the invoice is corrected (printed on the credit note)")
	cmd.Flags().StringVar(&dateFlag, "date", "", "issue date YYYY-MM-DD (default: today in the billing time zone)")
	cmd.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else file://./out/archive)")
	return cmd
}

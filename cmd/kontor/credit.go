package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
)

func newCreditNote(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var lines, reason, dateFlag, archiveFlag, line, amount string
	var full bool
	cmd := &cobra.Command{
		Use:   "credit-note INVOICE (--full | --lines 1,3 | --line N --amount X) --reason TEXT",
		Short: "Issue a credit note (type 381) for an invoice: in full, for some lines, or part of a line by amount",
		Long: `credit-note corrects an issued invoice the lawful way: a credit note (UNTDID 1001 type
381) that references it (BT-25, BT-26), numbered from the credit-note series, rendered as a
Factur-X PDF/A-3 with its XML and archived like an invoice. The invoice itself never
changes. A line is credited until nothing is left of it: in full, or part of it by a net
amount (--line N --amount X); crediting more than is left, or crediting a credit note, is
refused. --full credits what is left of every line. A credit note reduces what is open of
the invoice; when the invoice was paid through Stripe, the credit note's amount is refunded
there (once, under the credit note's idempotency key, and recorded).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			parts, err := creditParts(full, lines, line, amount)
			if err != nil {
				return usageError(err)
			}
			if strings.TrimSpace(reason) == "" {
				return usageError(errors.New("--reason is required"))
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
			sum, err := jobs.CreditNote(ctx, st, args[0], parts, reason, jobs.RunOptions{AsOf: date, Renderer: r, Archive: arc, Logger: logger,
				Charger: stripeCharger()})
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
			return writeCharges(cmd.OutOrStdout(), sum)
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "credit every line not credited yet")
	cmd.Flags().StringVar(&lines, "lines", "", "the invoice's line numbers to credit, e.g. 1,3")
	cmd.Flags().StringVar(&line, "line", "", "the line to credit part of, with --amount")
	cmd.Flags().StringVar(&amount, "amount", "", "the net amount of --line to credit, e.g. 25.00")
	cmd.Flags().StringVar(&reason, "reason", "", "why the invoice is corrected (printed on the credit note)")
	cmd.Flags().StringVar(&dateFlag, "date", "", "issue date YYYY-MM-DD (default: today in the billing time zone)")
	cmd.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else file://./out/archive)")
	return cmd
}

// creditParts reads what to credit from the flags: --full, --lines, or --line with --amount.
func creditParts(full bool, lines, line, amount string) ([]invoice.CreditPart, error) {
	given := 0
	for _, g := range []bool{full, lines != "", line != "" || amount != ""} {
		if g {
			given++
		}
	}
	if given != 1 {
		return nil, errors.New("give one of --full, --lines, or --line with --amount")
	}
	if line != "" || amount != "" {
		a, err := decimal.NewFromString(amount)
		if line == "" || err != nil || !a.IsPositive() {
			return nil, fmt.Errorf("--line N --amount X: a line and a positive net amount, got line %q amount %q", line, amount)
		}
		return []invoice.CreditPart{{LineID: strings.TrimSpace(line), Amount: a}}, nil
	}
	var parts []invoice.CreditPart
	for _, l := range strings.Split(lines, ",") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, invoice.CreditPart{LineID: l})
		}
	}
	return parts, nil
}

package main

import (
	"fmt"

	"github.com/kontor-billing/kontor/openitems"
	"github.com/spf13/cobra"
)

func newReceivables(dbFlag *string) *cobra.Command {
	var asOfFlag, format string
	cmd := &cobra.Command{
		Use:   "receivables [--as-of DATE] [--format table|csv]",
		Short: "List the open items: every invoice with something open, its age and the ageing",
		Long: `receivables lists every invoice with something open as of the date (default today): its
gross, what was paid (net of refunds and returned debits) and credited, what is open and how
many days it is overdue, oldest due date first, then the open amounts in age bands of 0–30,
31–60, 61–90 and over 90 days overdue. --format csv writes the columns
invoice,customer,issue_date,due_date,gross,paid,open,days_overdue (paid includes credit
notes; amounts with a dot and two decimals). An invoice paid more than its gross shows a
negative open amount.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "csv" {
				return usageError(fmt.Errorf("--format %q: table or csv", format))
			}
			st, seller, asOf, err := openAsOf(cmd.Context(), *dbFlag, asOfFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			items, err := st.Receivables(cmd.Context(), asOf, seller.Location)
			if err != nil {
				return err
			}
			if format == "csv" {
				return openitems.WriteCSV(cmd.OutOrStdout(), items)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "open items as of %s\n\n", asOf)
			return openitems.WriteTable(cmd.OutOrStdout(), items)
		},
	}
	cmd.Flags().StringVar(&asOfFlag, "as-of", "", "date YYYY-MM-DD (default: today in the billing time zone)")
	cmd.Flags().StringVar(&format, "format", "table", "table or csv")
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/openitems"
	"github.com/kontor-billing/kontor/store"
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
			st, seller, err := openWithSeller(cmd.Context(), *dbFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			asOf, err := runDate(asOfFlag, seller, time.Now())
			if err != nil {
				return err
			}
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

func newOutbox(dbFlag *string, logger *slog.Logger) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "Send, list and resend the notices and invoice emails of the outbox",
		Long: `outbox shows what kontor has told or will tell buyers: notices of failed payments, of
licenses deactivated and active again, and invoice emails when the seller sends them. Each
is sent once over SMTP (KONTOR_SMTP_URL) by "outbox send", at the end of "kontor run", and
every minute by "kontor schedule" and "kontor serve". A failed send is tried again. An
entry "in doubt" was handed to the SMTP server by a sender that stopped before it recorded
it sent: check the mail server's log, then "outbox resend ID" if it was not delivered.`,
		Args: cobra.NoArgs,
	}
	list := &cobra.Command{
		Use: "list [STATE…]", Short: "List the outbox (states: pending, sending, sent, failed, in_doubt)",
		RunE: func(cmd *cobra.Command, states []string) error {
			st, err := store.Open(cmd.Context(), databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			entries, err := st.Outbox(cmd.Context(), states...)
			if err != nil {
				return err
			}
			for _, e := range entries {
				fmt.Fprintf(cmd.OutOrStdout(), "%d\t%s\t%s\t%s\t%s\t%s\t%s\tattempts %d\t%s\n", e.ID, e.State, e.On, e.Kind, e.Customer, e.Invoice, e.Recipient, e.Attempts, e.LastError)
			}
			return nil
		},
	}
	send := &cobra.Command{
		Use: "send", Short: "Send what is due now over KONTOR_SMTP_URL", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, seller, err := openWithSeller(cmd.Context(), *dbFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			arc, err := archive.Open(cmd.Context(), archiveURL(""))
			if err != nil {
				return err
			}
			s, ok, err := mailSender(st, arc, seller.Email, logger)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("outbox send: " + envSMTP + " is not set")
			}
			sent, failed, err := s.Send(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "emails: %d sent, %d to retry\n", sent, failed)
			if failed > 0 {
				return &exitError{code: exitFailure, err: fmt.Errorf("%d emails not sent; they are tried again", failed)}
			}
			return nil
		},
	}
	resend := &cobra.Command{
		Use: "resend ID", Short: "Send an entry in doubt or failed again", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			if _, err := fmt.Sscan(args[0], &id); err != nil {
				return usageError(fmt.Errorf("outbox resend: %q is not an entry ID", args[0]))
			}
			st, err := store.Open(cmd.Context(), databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			return st.ResendMail(cmd.Context(), id)
		},
	}
	cmd.AddCommand(list, send, resend)
	return cmd
}

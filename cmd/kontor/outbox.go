package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

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
	cmd.AddCommand(newOutboxList(dbFlag), newOutboxSend(dbFlag, logger), newOutboxResend(dbFlag))
	return cmd
}

func newOutboxList(dbFlag *string) *cobra.Command {
	return &cobra.Command{
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
}

func newOutboxSend(dbFlag *string, logger *slog.Logger) *cobra.Command {
	return &cobra.Command{
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
}

func newOutboxResend(dbFlag *string) *cobra.Command {
	return &cobra.Command{
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
}

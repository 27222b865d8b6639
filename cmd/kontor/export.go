package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/kontor-billing/kontor/bookkeeping"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

func newExport(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var from, to, format, out, configFile string
	cmd := &cobra.Command{
		Use:   "export --from DATE --to DATE --format datev|csv",
		Short: "Export issued invoices and credit notes for bookkeeping (DATEV or CSV)",
		Long: `export writes the invoices and credit notes issued from --from to --to (issue dates,
inclusive) for bookkeeping:

  --format datev  a DATEV Buchungsstapel (EXTF, format 700, category 21, version 13):
                  one booking per document and VAT category, its gross amount between the
                  buyer's debtor account and the category's revenue account; invoices on
                  the debit side (S), credit notes on the credit side (H). The account
                  mapping comes from --datev-config (JSON; see the README). The period must
                  lie in one fiscal year. Windows-1252, semicolons, CRLF, as DATEV imports.
  --format csv    one row per document with its totals, the gross signed as it counts
                  toward revenue (credit notes negative) and the VAT breakdown; UTF-8.

Nothing is written when a document cannot be booked; every such document is named.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lo, hi, err := parsePeriod("export", from, to)
			if err != nil {
				return err
			}
			var cfg bookkeeping.DATEVConfig
			switch format {
			case "csv":
			case "datev":
				if configFile == "" {
					return &exitError{code: 2, err: fmt.Errorf("export: --format datev needs --datev-config FILE (the account mapping; see the README)")}
				}
				f, err := os.Open(configFile)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				cfg, err = bookkeeping.ReadDATEVConfig(f)
				f.Close()
				if err != nil {
					return &exitError{code: 1, err: fmt.Errorf("%s: %w", configFile, err)}
				}
			default:
				return &exitError{code: 2, err: fmt.Errorf("export: --format %q: want datev or csv", format)}
			}
			st, err := store.Open(cmd.Context(), databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			prog := newProgress(cmd.ErrOrStderr(), logger)
			docs, err := st.IssuedInvoices(cmd.Context(), lo, hi, func(done, total int) { prog.update("read documents", done, total) })
			prog.finish()
			if err != nil {
				return err
			}
			var data []byte
			if format == "csv" {
				data, err = bookkeeping.CSV(docs)
			} else {
				var bookings []bookkeeping.Booking
				data, bookings, err = bookkeeping.DATEV(docs, cfg, lo, hi, time.Now())
				if err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "export: %s, %s\n", invoice.Count(len(docs), "document", "documents"), invoice.Count(len(bookings), "booking", "bookings"))
				}
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			return writeOut(cmd, out, data)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first issue date YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last issue date YYYY-MM-DD")
	cmd.Flags().StringVar(&format, "format", "csv", "datev or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default standard output)")
	cmd.Flags().StringVar(&configFile, "datev-config", "", "DATEV account mapping (JSON)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

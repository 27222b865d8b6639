package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/bank"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/store"
	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
)

func newPayments(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "payments",
		Short: "Record payments: bank statements (camt.053), card results (CSV), direct-debit files (pain.008)",
		Long: `payments records what was paid. "payments import --camt FILE…" reads bank statements;
"payments import --file FILE" (or "payments --file FILE") reads a CSV of the results of
charging stored payment methods: a header and the columns invoice, attempted_at (RFC 3339),
outcome (paid or failed) and optionally reference. "payments debit-file" writes the SEPA
direct debits due as a pain.008 file for the seller's bank.

A failed charge or a returned direct debit queues a notice to the customer; the next run
deactivates the license when the invoice is still unpaid 7 days later. Whatever was
imported before is skipped; a file with any error imports nothing and names every error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError(errors.New("payments: give --file, or a subcommand (import, debit-file)"))
			}
			return importResults(cmd, *dbFlag, file, logger)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "CSV file of payment results")
	cmd.AddCommand(newPaymentsImport(dbFlag, logger), newDebitFile(dbFlag))
	return cmd
}

func newPaymentsImport(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var camt []string
	var file string
	cmd := &cobra.Command{
		Use:   "import --camt FILE… | --file FILE",
		Short: "Import bank statements (camt.053/camt.054 .001.02 or .001.08) or a CSV of card results",
		Long: `import --camt reads ISO 20022 bank statements (camt.053, also camt.054; versions .001.02
and .001.08). Each booked credit is matched to open invoices by the invoice numbers in its
remittance information (in any case, with spaces and line breaks as banks insert them) and
by amount: it pays one invoice in full, in part or more than is open, or several invoices
when it is exactly what is open of them. A returned direct debit (a debit with a return
reason such as AM04 or MD06) reopens its invoice and starts the notice and grace. What
cannot be matched is listed. Each statement is imported in one transaction: a malformed
file imports nothing and names the element; an entry imported before (by the bank's
reference) changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case len(camt) > 0 && file != "":
				return usageError(errors.New("payments import: --camt or --file, not both"))
			case file != "":
				return importResults(cmd, *dbFlag, file, logger)
			case len(camt) == 0:
				return usageError(errors.New("payments import: give --camt FILE… or --file FILE"))
			}
			return importStatements(cmd, *dbFlag, camt)
		},
	}
	cmd.Flags().StringSliceVar(&camt, "camt", nil, "camt.053 or camt.054 statement files (repeat the flag or separate with commas)")
	cmd.Flags().StringVar(&file, "file", "", "CSV file of payment results")
	return cmd
}

// importStatements reads every statement first (a malformed one imports nothing), then
// imports each in its own transaction.
func importStatements(cmd *cobra.Command, dbFlag string, files []string) error {
	stmts := make([]bank.Statement, len(files))
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		if stmts[i], err = bank.ReadStatement(f, data); err != nil {
			return &exitError{code: exitFailure, err: fmt.Errorf("%w; nothing imported", err)}
		}
	}
	st, seller, err := openWithSeller(cmd.Context(), dbFlag)
	if err != nil {
		return err
	}
	defer st.Close()
	out := cmd.OutOrStdout()
	for i, f := range files {
		res, err := st.ImportStatement(cmd.Context(), filepath.Base(f), stmts[i], seller.Location)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		writeBankImport(out, f, stmts[i], res)
	}
	return nil
}

// writeBankImport prints what a statement's import did.
func writeBankImport(w io.Writer, file string, s bank.Statement, res store.BankImport) {
	fmt.Fprintf(w, "%s (%s): %s booked, %d imported before, %d not for kontor, %d pending at the bank\n", file, s.Version,
		invoice.Count(len(s.Entries), "entry", "entries"), res.Before, res.Other, s.Pending)
	for _, l := range res.Lines {
		what := strings.Join(l.Invoices, ", ")
		if l.Result == bank.Unmatched {
			what = "could not match: " + l.Reason
		}
		fmt.Fprintf(w, "  %-9s %s %12s %s  %-28s %s\n", l.Result, l.Booked, l.Amount.StringFixed(2), l.Currency, truncate(l.Payer, 28), what)
	}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// importResults imports a CSV file of payment results.
func importResults(cmd *cobra.Command, dbFlag, file string, logger *slog.Logger) error {
	results, err := readPayments(file)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	st, seller, err := openWithSeller(cmd.Context(), dbFlag)
	if err != nil {
		return err
	}
	defer st.Close()
	n, notified, err := st.ImportPayments(cmd.Context(), results, seller.Location)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	for _, c := range notified {
		logger.Warn("payment failed: customer notice queued", "customer", c)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s, %s notified of a failed payment\n",
		invoice.Count(n, "payment result", "payment results"), invoice.Count(len(notified), "customer", "customers"))
	return nil
}

func newDebitFile(dbFlag *string) *cobra.Command {
	var asOfFlag, outFile string
	cmd := &cobra.Command{
		Use:   "debit-file --as-of DATE --out FILE",
		Short: "Write the SEPA direct debits due as a pain.008.001.08 file for the seller's bank",
		Long: `debit-file writes the direct debits due as of the date as a pain.008.001.08 file (SEPA Core):
every open invoice issued by then to a buyer paying by SEPA direct debit without a Stripe
payment method, not in an earlier file. Each is collected on its due date, or on the next
business day when that is past; a mandate's first debit is FRST, later ones RCUR. An invoice
goes into one file only: the file is written aside, recorded in the database, then moved
into place. Buyers whose data does not allow a debit (no mandate date, not in EUR) are
listed and left out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if outFile == "" {
				return usageError(errors.New("debit-file: --out is required"))
			}
			st, seller, asOf, err := openAsOf(cmd.Context(), *dbFlag, asOfFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			return writeDebitFile(cmd, st, seller, asOf, outFile)
		},
	}
	cmd.Flags().StringVar(&asOfFlag, "as-of", "", "date YYYY-MM-DD (default: today in the billing time zone)")
	cmd.Flags().StringVar(&outFile, "out", "", "the pain.008 file to write")
	return cmd
}

// writeDebitFile writes the debits due as of asOf to outFile.
func writeDebitFile(cmd *cobra.Command, st *store.Store, sel dataset.Seller, asOf calendar.Date, outFile string) error {
	ctx := cmd.Context()
	due, err := st.DebitsDue(ctx, asOf)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var debits []bank.Debit
	for _, d := range due {
		d.Collection = bank.CollectionDay(d.Collection, asOf)
		if err := d.Check(); err != nil {
			fmt.Fprintf(out, "left out: %v\n", err)
			continue
		}
		debits = append(debits, d)
	}
	if len(debits) == 0 {
		fmt.Fprintf(out, "no direct debits due as of %s; no file written\n", asOf)
		return nil
	}
	now := time.Now()
	msgID := "KONTOR-" + now.UTC().Format("20060102150405")
	data, err := bank.DebitFile(msgID, now, bank.Creditor{Name: sel.Name, IBAN: sel.IBAN, BIC: sel.BIC, CreditorID: sel.CreditorID}, debits)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	tmp := outFile + ".partial"
	if err := st.RecordDebitFile(ctx, msgID, debits, func() error { return writeSynced(tmp, data) }); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, outFile); err != nil {
		return fmt.Errorf("debit file %s is recorded and written as %s: %w", msgID, tmp, err)
	}
	total := decimal.Zero
	for _, d := range debits {
		total = total.Add(d.Amount)
	}
	fmt.Fprintf(out, "wrote %s (%s): %s, %s EUR\n", outFile, msgID, invoice.Count(len(debits), "direct debit", "direct debits"), total.StringFixed(2))
	return nil
}

// writeSynced writes data to file and syncs it to disk.
func writeSynced(file string, data []byte) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

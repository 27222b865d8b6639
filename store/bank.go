// Bank statements: transfers that pay invoices, direct debits returned.

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/bank"
	"github.com/shopspring/decimal"
)

// BankLine is an imported statement entry and what it did.
type BankLine struct {
	Ref      string
	Path     string
	Booked   string
	Amount   decimal.Decimal
	Currency string
	Payer    string
	Invoices []string
	Result   bank.Result
	Reason   string
}

// BankImport is what a statement import did: the entries it matched, returned and could
// not match, and how many it had imported before or left as not kontor's (debits that are
// not returned direct debits).
type BankImport struct {
	Lines  []BankLine
	Before int
	Other  int
}

// ImportStatement imports the booked entries of a statement in one transaction: a credit
// naming open invoices in its remittance information pays them (full, partial or over);
// a returned direct debit reopens its invoice and starts the notice and grace; a credit
// naming none is kept as unmatched. An entry imported before (by its reference) changes
// nothing.
func (s *Store) ImportStatement(ctx context.Context, file string, st bank.Statement, loc *time.Location) (BankImport, error) {
	var out BankImport
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return out, fmt.Errorf("import %s: %w", file, err)
	}
	defer tx.Rollback(ctx)
	ix, err := invoiceIndex(ctx, tx)
	if err != nil {
		return out, fmt.Errorf("import %s: %w", file, err)
	}
	for _, e := range st.Entries {
		var seen bool
		if err := tx.QueryRow(ctx, `select exists (select 1 from bank_entries where ref = $1)`, e.Ref).Scan(&seen); err != nil {
			return out, fmt.Errorf("import %s: %w", file, err)
		}
		if seen {
			out.Before++
			continue
		}
		if !e.Credit && e.ReturnReason == "" {
			out.Other++
			continue
		}
		line, err := bookEntry(ctx, tx, ix, file, e, loc)
		if err != nil {
			return out, fmt.Errorf("import %s: %s: %w", file, e.Path, err)
		}
		out.Lines = append(out.Lines, line)
	}
	return out, commit(ctx, tx, "import "+file)
}

// invoiceIndex indexes the numbers of every issued invoice.
func invoiceIndex(ctx context.Context, tx pgx.Tx) (*bank.Index, error) {
	rows, err := tx.Query(ctx, `select number from invoices where type_code = '380' and number is not null`)
	if err != nil {
		return nil, err
	}
	numbers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	return bank.NewIndex(numbers), nil
}

// bookEntry records entry e: its payments or return, and the entry itself.
func bookEntry(ctx context.Context, tx pgx.Tx, ix *bank.Index, file string, e bank.Entry, loc *time.Location) (BankLine, error) {
	line := BankLine{Ref: e.Ref, Path: e.Path, Booked: e.Booked.String(), Amount: e.Amount, Currency: e.Currency, Payer: e.Counterparty}
	named := ix.Find(e.EndToEnd + "\n" + e.Remittance)
	at := e.Booked.Time(loc)
	switch {
	case e.Reversal:
		line.Result, line.Reason = bank.Unmatched, "a reversal: check it by hand"
	case !e.Credit:
		if len(named) != 1 {
			line.Result, line.Reason = bank.Unmatched, fmt.Sprintf("a returned direct debit (%s) naming %d invoices", e.ReturnReason, len(named))
			break
		}
		line.Result, line.Invoices = bank.Returned, named
		p := Payment{Invoice: named[0], Source: FromBank, Reference: e.Ref, Outcome: Returned, Amount: e.Amount.Neg(), At: at,
			Detail: "direct debit returned, reason " + e.ReturnReason}
		if _, err := recordPayment(ctx, tx, p, loc); err != nil {
			return line, err
		}
	default:
		if err := payInvoices(ctx, tx, e, named, &line, at, loc); err != nil {
			return line, err
		}
	}
	var first *string
	if len(line.Invoices) > 0 {
		first = &line.Invoices[0]
	}
	_, err := tx.Exec(ctx, `insert into bank_entries (ref, account, booked_on, amount, currency, counterparty, remittance, invoice_number, result, reason, statement)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, e.Ref, e.Account, e.Booked.String(), signed(e), e.Currency,
		e.Counterparty, e.Remittance, first, string(line.Result), line.Reason, file)
	return line, err
}

// signed is an entry's amount, negative for a debit.
func signed(e bank.Entry) decimal.Decimal {
	if e.Credit {
		return e.Amount
	}
	return e.Amount.Neg()
}

// payInvoices puts credit e on the invoices it names.
func payInvoices(ctx context.Context, tx pgx.Tx, e bank.Entry, named []string, line *BankLine, at time.Time, loc *time.Location) error {
	opens := make([]bank.Open, 0, len(named))
	for _, n := range named {
		o := bank.Open{Number: n}
		if err := tx.QueryRow(ctx, `select currency, gross - paid - credited from invoice_balances where number = $1`, n).
			Scan(&o.Currency, &o.Amount); err != nil {
			return err
		}
		opens = append(opens, o)
	}
	allocs, why := bank.Allocate(e.Amount, e.Currency, opens)
	if len(allocs) == 0 {
		line.Result, line.Reason = bank.Unmatched, why
		return nil
	}
	line.Result = allocs[0].Result
	for _, a := range allocs {
		line.Invoices = append(line.Invoices, a.Invoice)
		p := Payment{Invoice: a.Invoice, Source: FromBank, Reference: e.Ref + " " + a.Invoice, Outcome: Paid, Amount: a.Amount, At: at, Detail: e.Remittance}
		if _, err := recordPayment(ctx, tx, p, loc); err != nil {
			return err
		}
	}
	return nil
}

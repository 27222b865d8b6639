// SEPA direct debits collected through the seller's bank (pain.008 files).

package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/bank"
	"github.com/kontor-billing/kontor/calendar"
)

// DebitsDue returns the direct debits to collect as of asOf: the open invoices issued by
// then to buyers paying by SEPA direct debit without a Stripe payment method, not yet in
// a debit file, in invoice order. The mandate and IBAN are the invoice's (what it told
// the buyer); the name and the mandate's date are the dataset's. A mandate's first debit
// is FRST, later ones RCUR. Collection is left to the caller.
func (s *Store) DebitsDue(ctx context.Context, asOf calendar.Date) ([]bank.Debit, error) {
	rows, err := s.pool.Query(ctx, `select b.number, b.gross - b.paid - b.credited, b.currency, coalesce(r.doc->>'name', i.model->'buyer'->>'name'),
			i.model->'payment'->>'debtor_iban', i.model->'payment'->>'mandate_reference', coalesce(r.doc->>'mandate_date', ''),
			exists (select 1 from direct_debits d where d.mandate = i.model->'payment'->>'mandate_reference'),
			b.due_date::text
		from invoice_balances b join invoices i on i.number = b.number
		left join dataset_records r on r.kind = b.buyer_kind and r.id = b.buyer_id
		where b.method = 'sepa_direct_debit' and b.issue_date <= $1::date and b.gross - b.paid - b.credited > 0
		  and coalesce(r.doc->>'stripe_payment_method_id', '') = ''
		  and not exists (select 1 from direct_debits d where d.invoice_number = b.number)
		order by b.number`, asOf.String())
	if err != nil {
		return nil, fmt.Errorf("direct debits due: %w", err)
	}
	var out []bank.Debit
	var d bank.Debit
	var signed, due string
	var recurring bool
	_, err = pgx.ForEachRow(rows, []any{&d.Invoice, &d.Amount, &d.Currency, &d.Debtor, &d.IBAN, &d.Mandate, &signed, &recurring, &due}, func() error {
		d.MandateDate, d.Sequence = calendar.Date{}, bank.First
		var err error
		if d.Collection, err = calendar.Parse(due); err != nil {
			return fmt.Errorf("invoice %s: due date %q: %w", d.Invoice, due, err)
		}
		if signed != "" {
			if d.MandateDate, err = calendar.Parse(signed); err != nil {
				return fmt.Errorf("invoice %s: mandate_date %q: %w", d.Invoice, signed, err)
			}
		}
		if recurring {
			d.Sequence = bank.Recurring
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("direct debits due: %w", err)
	}
	return out, nil
}

// RecordDebitFile records debits as sent in the file with message ID msgID and calls
// write (which writes the file aside) before it commits: an invoice is in one file only,
// and when write fails nothing is recorded. The caller moves the file into place after.
// A debit another file took meanwhile is an error.
func (s *Store) RecordDebitFile(ctx context.Context, msgID string, debits []bank.Debit, write func() error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("debit file %s: %w", msgID, err)
	}
	defer tx.Rollback(ctx)
	for _, d := range debits {
		if _, err := tx.Exec(ctx, `insert into direct_debits (invoice_number, message_id, mandate, collection_date, sequence, amount)
			values ($1, $2, $3, $4, $5, $6)`, d.Invoice, msgID, d.Mandate, d.Collection.String(), string(d.Sequence), d.Amount); err != nil {
			return fmt.Errorf("debit file %s: invoice %s: %w", msgID, d.Invoice, err)
		}
	}
	if err := write(); err != nil {
		return fmt.Errorf("debit file %s: %w", msgID, err)
	}
	return commit(ctx, tx, "debit file "+msgID)
}

// Refunds through Stripe of what credit notes credit of invoices paid there.

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/charging"
	"github.com/shopspring/decimal"
)

// RefundDue is a credit note whose amount is to be refunded through Stripe.
type RefundDue struct {
	CreditNote string
	Invoice    string
	IntentID   string
	Currency   string
	// Amount is the credit note's gross, or what was paid of the invoice when that is
	// less.
	Amount decimal.Decimal
}

// RefundsDue returns the credit notes of invoices paid through Stripe that are not
// refunded yet, in credit-note order.
func (s *Store) RefundsDue(ctx context.Context) ([]RefundDue, error) {
	rows, err := s.pool.Query(ctx, `select cn.number, b.number, ch.intent_id, b.currency, least(cn.gross, b.paid)
		from invoices cn
		join invoice_balances b on b.number = cn.preceding_invoice
		join stripe_charges ch on ch.invoice_number = b.number and ch.status = 'succeeded' and ch.intent_id is not null
		where cn.type_code = '381' and cn.number is not null and b.paid > 0
		  and not exists (select 1 from payments p where p.source = 'stripe' and p.outcome = 'refunded'
		                  and p.reference = 'kontor-refund-' || cn.number)
		order by cn.number`)
	if err != nil {
		return nil, fmt.Errorf("refunds due: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RefundDue, error) {
		var d RefundDue
		err := row.Scan(&d.CreditNote, &d.Invoice, &d.IntentID, &d.Currency, &d.Amount)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("refunds due: %w", err)
	}
	return out, nil
}

// RecordRefund records the refund of credit note d.CreditNote, Stripe's refundID, at.
func (s *Store) RecordRefund(ctx context.Context, d RefundDue, refundID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `insert into payments (invoice_number, source, reference, outcome, amount, at, detail)
		values ($1, 'stripe', $2, 'refunded', $3, $4, $5) on conflict do nothing`,
		d.Invoice, charging.RefundKey(d.CreditNote), d.Amount.Neg(), at, "Stripe refund "+refundID+" for credit note "+d.CreditNote); err != nil {
		return fmt.Errorf("record refund of %s: %w", d.CreditNote, err)
	}
	return nil
}

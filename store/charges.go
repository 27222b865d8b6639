// Charges of stored payment methods through Stripe, one per invoice.

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/shopspring/decimal"
)

// Charge is an invoice to charge through Stripe, or one that cannot be charged.
type Charge struct {
	Invoice  string
	Customer string
	Method   dataset.PaymentMethod
	Currency string
	Gross    decimal.Decimal
	// StripeCustomerID and PaymentMethod are the customer's Stripe IDs as the dataset has them
	// now; empty when it has none.
	StripeCustomerID string
	PaymentMethod    string
	// Pending is set when an earlier run began the charge and did not record its outcome.
	Pending bool
}

// ChargesDue returns the finalized invoices of customers paying by a stored payment
// method that have no charge outcome yet, in invoice order: those whose charge an earlier
// run began first. A direct debit without Stripe IDs is collected through the seller's
// bank (DebitsDue) and is not listed.
func (s *Store) ChargesDue(ctx context.Context) ([]Charge, error) {
	rows, err := s.pool.Query(ctx, `select i.number, i.buyer_id, i.payment_method, i.currency, i.gross,
			coalesce(c.doc->>'stripe_customer_id', ''), coalesce(c.doc->>'stripe_payment_method_id', ''), ch.status is not null
		from invoices i
		left join dataset_records c on c.kind = 'customer' and c.id = i.buyer_id
		left join stripe_charges ch on ch.invoice_number = i.number
		where i.number is not null and i.type_code = '380' and i.buyer_kind = 'customer' and i.gross > 0
		  and i.payment_method not in ('sepa_credit_transfer', 'online')
		  and (ch.status is null or ch.status = 'pending')
		  and not (i.payment_method = 'sepa_direct_debit' and coalesce(c.doc->>'stripe_payment_method_id', '') = '')
		order by ch.status is null, i.number`)
	if err != nil {
		return nil, fmt.Errorf("charges due: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Charge, error) {
		var c Charge
		err := row.Scan(&c.Invoice, &c.Customer, &c.Method, &c.Currency, &c.Gross, &c.StripeCustomerID, &c.PaymentMethod, &c.Pending)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("charges due: %w", err)
	}
	return out, nil
}

// BeginCharge records req as pending before Stripe is called, so that a run that stops
// before it records the outcome is followed by one that charges under the same key. A
// charge pending already keeps its key and amount.
func (s *Store) BeginCharge(ctx context.Context, req charging.Request) error {
	if _, err := s.pool.Exec(ctx, `insert into stripe_charges (invoice_number, idempotency_key, stripe_customer, payment_method, amount_minor, currency, status)
		values ($1, $2, $3, $4, $5, $6, 'pending') on conflict (invoice_number) do nothing`,
		req.Invoice, req.Key, req.Customer, req.PaymentMethod, req.Amount, req.Currency); err != nil {
		return fmt.Errorf("begin charge of %s: %w", req.Invoice, err)
	}
	return nil
}

// PendingCharge returns the request a pending charge of invoice was begun with.
func (s *Store) PendingCharge(ctx context.Context, invoice string) (charging.Request, error) {
	r := charging.Request{Invoice: invoice}
	if err := s.pool.QueryRow(ctx, `select idempotency_key, stripe_customer, payment_method, amount_minor, currency
		from stripe_charges where invoice_number = $1 and status = 'pending'`, invoice).
		Scan(&r.Key, &r.Customer, &r.PaymentMethod, &r.Amount, &r.Currency); err != nil {
		return r, fmt.Errorf("pending charge of %s: %w", invoice, err)
	}
	return r, nil
}

// RecordCharge stores the outcome of invoice's charge, at: the charge's status and, for a
// collected or declined one, the payment (a decline queues the customer's notice).
func (s *Store) RecordCharge(ctx context.Context, invoice, currency string, res charging.Result, at time.Time, loc *time.Location) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record charge of %s: %w", invoice, err)
	}
	defer tx.Rollback(ctx)
	var minor int64
	err = tx.QueryRow(ctx, `update stripe_charges set status = $2, intent_id = nullif($3, ''), failure = $4, updated_at = now()
		where invoice_number = $1 and status in ('pending', 'processing') returning amount_minor`,
		invoice, string(res.Status), res.IntentID, res.Failure).Scan(&minor)
	if errors.Is(err, pgx.ErrNoRows) {
		// Stripe's webhook event came first and recorded the outcome: the payment below is
		// recorded already, or is recorded now under the same reference.
		err = tx.QueryRow(ctx, `select amount_minor from stripe_charges where invoice_number = $1`, invoice).Scan(&minor)
	}
	if err != nil {
		return fmt.Errorf("record charge of %s: %w", invoice, err)
	}
	p := Payment{Invoice: invoice, Source: FromStripe, Reference: res.IntentID, At: at, Detail: res.Failure}
	switch res.Status {
	case charging.Succeeded:
		p.Outcome, p.Amount = Paid, charging.FromMinor(minor, currency)
	case charging.Declined:
		p.Outcome = Failed
		if p.Reference == "" {
			p.Reference = charging.IdempotencyKey(invoice)
		}
	default:
		return commit(ctx, tx, "record charge of "+invoice)
	}
	if _, err := recordPayment(ctx, tx, p, loc); err != nil {
		return err
	}
	return commit(ctx, tx, "record charge of "+invoice)
}

// commit commits tx, wrapping an error with what it was doing.
func commit(ctx context.Context, tx pgx.Tx, what string) error {
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

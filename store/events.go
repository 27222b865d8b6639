// Stripe's webhook events, applied once each.

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/charging"
	"github.com/shopspring/decimal"
)

// StripeEvents applies Stripe's events as charging.Webhook hands them over, with the
// seller's time zone for the dates of notices.
type StripeEvents struct {
	Store    *Store
	Location *time.Location
}

// ApplyStripeEvent applies e in one transaction unless its ID was applied before
// (reported false): a succeeded PaymentIntent records the payment, a failed one the
// failure (which starts the grace and queues the notice), a refund what was refunded
// beyond what is recorded. An event of a PaymentIntent that is not a kontor invoice's is
// recorded and changes nothing else.
func (s StripeEvents) ApplyStripeEvent(ctx context.Context, e charging.Event) (bool, error) {
	tx, err := s.Store.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("stripe event %s: %w", e.ID, err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `insert into stripe_events (id, type) values ($1, $2) on conflict do nothing`, e.ID, string(e.Kind))
	if err != nil {
		return false, fmt.Errorf("stripe event %s: %w", e.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	applied, err := s.apply(ctx, tx, e)
	if err != nil {
		return false, fmt.Errorf("stripe event %s (%s): %w", e.ID, e.Kind, err)
	}
	if _, err := tx.Exec(ctx, `update stripe_events set applied = $2 where id = $1`, e.ID, applied); err != nil {
		return false, fmt.Errorf("stripe event %s: %w", e.ID, err)
	}
	return true, commit(ctx, tx, "stripe event "+e.ID)
}

// apply applies e and says what it did.
func (s StripeEvents) apply(ctx context.Context, tx pgx.Tx, e charging.Event) (string, error) {
	inv, err := invoiceOfIntent(ctx, tx, e)
	if err != nil || inv == "" {
		return "ignored: not a kontor invoice's payment", err
	}
	p := Payment{Invoice: inv, Source: FromStripe, Reference: e.IntentID, At: e.Created}
	switch e.Kind {
	case charging.IntentSucceeded:
		p.Outcome, p.Amount = Paid, charging.FromMinor(e.Amount, e.Currency)
		if err := setChargeStatus(ctx, tx, inv, e, "succeeded", "pending", "processing", "failed"); err != nil {
			return "", err
		}
	case charging.IntentFailed:
		p.Outcome, p.Detail = Failed, e.Failure
		if err := setChargeStatus(ctx, tx, inv, e, "failed", "pending", "processing"); err != nil {
			return "", err
		}
	case charging.ChargeRefunded:
		return refundTo(ctx, tx, inv, e)
	}
	if _, err := recordPayment(ctx, tx, p, s.Location); err != nil {
		return "", err
	}
	return string(p.Outcome) + " " + inv, nil
}

// invoiceOfIntent is the invoice whose charge made e's PaymentIntent: by the charge kontor
// recorded, or by the invoice number in the PaymentIntent's metadata.
func invoiceOfIntent(ctx context.Context, tx pgx.Tx, e charging.Event) (string, error) {
	var inv string
	err := tx.QueryRow(ctx, `select invoice_number from stripe_charges where intent_id = $1
		union all select number from invoices where number = $2 and type_code = '380' limit 1`, e.IntentID, e.Invoice).Scan(&inv)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return inv, err
}

// setChargeStatus moves inv's charge to status from one of the states from.
func setChargeStatus(ctx context.Context, tx pgx.Tx, inv string, e charging.Event, status string, from ...string) error {
	_, err := tx.Exec(ctx, `update stripe_charges set status = $2, intent_id = $3, failure = $4, updated_at = now()
		where invoice_number = $1 and status = any($5)`, inv, status, e.IntentID, e.Failure, from)
	return err
}

// refundTo records what Stripe has refunded of inv beyond what is recorded: a refund
// kontor made has its row already, one made in Stripe's dashboard gets one.
func refundTo(ctx context.Context, tx pgx.Tx, inv string, e charging.Event) (string, error) {
	var recorded decimal.Decimal
	if err := tx.QueryRow(ctx, `select coalesce(-sum(amount), 0) from payments where invoice_number = $1 and source = 'stripe' and outcome = 'refunded'`,
		inv).Scan(&recorded); err != nil {
		return "", err
	}
	more := charging.FromMinor(e.Refunded, e.Currency).Sub(recorded)
	if !more.IsPositive() {
		return "refund recorded before", nil
	}
	if _, err := tx.Exec(ctx, `insert into payments (invoice_number, source, reference, outcome, amount, at, detail)
		values ($1, 'stripe', $2, 'refunded', $3, $4, 'refunded in Stripe') on conflict do nothing`, inv, e.ID, more.Neg(), e.Created); err != nil {
		return "", err
	}
	return "refunded " + more.StringFixed(2) + " of " + inv, nil
}

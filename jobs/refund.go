package jobs

import (
	"context"
	"strconv"
	"time"

	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/store"
	"github.com/shopspring/decimal"
)

// Refunder refunds through Stripe: charging.Stripe.
type Refunder interface {
	Refund(ctx context.Context, key, intentID string, amount int64) (string, error)
}

// refundStore is what refunding reads and writes.
type refundStore interface {
	// RefundsDue returns the credit notes of invoices paid through Stripe not refunded yet.
	RefundsDue(ctx context.Context) ([]store.RefundDue, error)
	// RecordRefund records a refund made.
	RecordRefund(ctx context.Context, d store.RefundDue, refundID string, at time.Time) error
}

// RefundOutcome is a credit note's refund through Stripe.
type RefundOutcome struct {
	CreditNote string          `json:"credit_note"`
	Invoice    string          `json:"invoice"`
	Amount     decimal.Decimal `json:"amount"`
	Currency   string          `json:"currency"`
	Status     string          `json:"status"` // refunded, or the error (refunded again next time under the same key)
}

// refund refunds every credit note due through Stripe, each under its own idempotency
// key: a refund made and not recorded (a crash) is made again under the same key, which
// Stripe answers with the refund it made. Without a Refunder it leaves them for a run
// that has one, and says so in the summary.
func refund(ctx context.Context, st refundStore, r *runState) error {
	due, err := st.RefundsDue(ctx)
	if err != nil || len(due) == 0 {
		return err
	}
	rf, ok := r.opt.Charger.(Refunder)
	if !ok {
		r.sum.RefundsOff = len(due)
		r.log.Warn("refunds through Stripe are off (no STRIPE_API_KEY): refund the credit notes there by hand or configure the key", "credit_notes", len(due))
		return nil
	}
	for i, d := range due {
		out := RefundOutcome{CreditNote: d.CreditNote, Invoice: d.Invoice, Amount: d.Amount, Currency: d.Currency, Status: "refunded"}
		minor, err := charging.MinorUnits(d.Amount, d.Currency)
		if err != nil {
			return err
		}
		id, err := rf.Refund(ctx, charging.RefundKey(d.CreditNote), d.IntentID, minor)
		if err != nil {
			r.log.Error("refund not confirmed; the next run refunds again under the same idempotency key", "credit_note", d.CreditNote, "err", err)
			out.Status = "error: " + err.Error()
			r.sum.Refunds = append(r.sum.Refunds, out)
			continue
		}
		r.step("refunded-" + strconv.Itoa(i+1))
		if err := st.RecordRefund(ctx, d, id, r.now()); err != nil {
			return err
		}
		r.sum.Refunds = append(r.sum.Refunds, out)
	}
	return nil
}

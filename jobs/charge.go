package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/store"
)

// Charger charges a stored payment method: charging.Stripe, or nothing when no API key
// is configured.
type Charger interface {
	Charge(ctx context.Context, req charging.Request) (charging.Result, error)
}

// chargeStore is what the charge stage reads and writes.
type chargeStore interface {
	refundStore
	// ChargesDue returns the invoices to charge, those an earlier run began first.
	ChargesDue(ctx context.Context) ([]store.Charge, error)
	// BeginCharge records a charge as pending before Stripe is called.
	BeginCharge(ctx context.Context, req charging.Request) error
	// PendingCharge returns the request a pending charge was begun with.
	PendingCharge(ctx context.Context, invoice string) (charging.Request, error)
	// RecordCharge stores a charge's outcome and the payment it made or failed to make.
	RecordCharge(ctx context.Context, invoice, currency string, res charging.Result, at time.Time, loc *time.Location) error
}

// ChargeOutcome is what became of an invoice's charge in a run.
type ChargeOutcome struct {
	Invoice  string                `json:"invoice"`
	Customer string                `json:"customer"`
	Method   dataset.PaymentMethod `json:"method"`
	Status   string                `json:"status"` // succeeded, processing, failed, or error (not known: charged again next run)
	Failure  string                `json:"failure,omitempty"`
}

// CannotCharge is an invoice of a stored payment method the run could not charge because
// the dataset has no Stripe IDs for its customer: the seller's data to fix. The invoice
// stays open and no grace starts.
type CannotCharge struct {
	Invoice  string                `json:"invoice"`
	Customer string                `json:"customer"`
	Method   dataset.PaymentMethod `json:"method"`
}

// chargeStage charges every finalized invoice payable by a stored payment method through
// Stripe, once: the charge is recorded pending under the invoice's idempotency key before
// Stripe is called, and a charge left pending by a stopped run is made again under the
// same key, which Stripe answers with the PaymentIntent it made the first time. Without a
// Charger it says once that charging is off and leaves the invoices open.
type chargeStage struct{ st chargeStore }

func (chargeStage) name() string { return "charge" }

func (s chargeStage) run(ctx context.Context, r *runState) error {
	if err := s.chargeAll(ctx, r); err != nil {
		return err
	}
	if err := refund(ctx, s.st, r); err != nil { // credit notes a credit-note command could not refund
		return err
	}
	r.timed("charge")
	return nil
}

// chargeAll charges every invoice due.
func (s chargeStage) chargeAll(ctx context.Context, r *runState) error {
	due, err := s.st.ChargesDue(ctx)
	if err != nil {
		return err // the store says what it was reading
	}
	if len(due) == 0 {
		return nil
	}
	if r.opt.Charger == nil {
		r.sum.ChargingOff = len(due)
		r.log.Warn("charging is off (no STRIPE_API_KEY): the invoices of stored payment methods stay open", "invoices", len(due))
		return nil
	}
	for i, c := range due {
		if err := s.charge(ctx, r, i+1, c); err != nil {
			return err
		}
		if r.stopped() {
			return ErrStopped
		}
	}
	return nil
}

// charge charges one invoice, the n-th of the run.
func (s chargeStage) charge(ctx context.Context, r *runState, n int, c store.Charge) error {
	out := ChargeOutcome{Invoice: c.Invoice, Customer: c.Customer, Method: c.Method}
	req, err := s.request(ctx, r, n, c)
	if errors.Is(err, errNoStripeIDs) {
		r.sum.CannotCharge = append(r.sum.CannotCharge, CannotCharge{Invoice: c.Invoice, Customer: c.Customer, Method: c.Method})
		return nil
	}
	if err != nil {
		return err
	}
	res, err := r.opt.Charger.Charge(ctx, req)
	if err != nil {
		// Not known whether Stripe charged: the charge stays pending and the next run makes
		// it again under the same key.
		r.log.Error("charge not confirmed; the next run charges again under the same idempotency key", "invoice", c.Invoice, "err", err)
		out.Status, out.Failure = "error", err.Error()
		r.sum.Charges = append(r.sum.Charges, out)
		return nil
	}
	r.step("charged-" + strconv.Itoa(n))
	if err := s.st.RecordCharge(ctx, c.Invoice, req.Currency, res, r.now(), r.ds.Seller.Location); err != nil {
		return err
	}
	r.step("charge-recorded-" + strconv.Itoa(n))
	out.Status, out.Failure = string(res.Status), res.Failure
	if res.Status == charging.Declined {
		r.log.Warn("charge declined; the customer is notified and the license is in grace", "invoice", c.Invoice, "customer", c.Customer, "failure", res.Failure)
	}
	r.sum.Charges = append(r.sum.Charges, out)
	return nil
}

var errNoStripeIDs = errors.New("no Stripe IDs")

// request is the charge of c: the one a stopped run began, or a new one recorded pending.
func (s chargeStage) request(ctx context.Context, r *runState, n int, c store.Charge) (charging.Request, error) {
	if c.Pending {
		return s.st.PendingCharge(ctx, c.Invoice)
	}
	if c.StripeCustomerID == "" || c.PaymentMethod == "" {
		return charging.Request{}, errNoStripeIDs
	}
	amount, err := charging.MinorUnits(c.Gross, c.Currency)
	if err != nil {
		return charging.Request{}, fmt.Errorf("charge %s: %w", c.Invoice, err)
	}
	req := charging.Request{Key: charging.IdempotencyKey(c.Invoice), Invoice: c.Invoice, Customer: c.StripeCustomerID,
		PaymentMethod: c.PaymentMethod, Amount: amount, Currency: c.Currency,
		Description: fmt.Sprintf("Invoice %s (%s)", c.Invoice, r.ds.Seller.Name)}
	if err := s.st.BeginCharge(ctx, req); err != nil {
		return charging.Request{}, err
	}
	r.step("charge-" + strconv.Itoa(n))
	return req, nil
}

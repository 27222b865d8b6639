package charging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// EventKind is a Stripe event type kontor applies.
type EventKind string

const (
	IntentSucceeded EventKind = "payment_intent.succeeded"
	IntentFailed    EventKind = "payment_intent.payment_failed" // a declined card or wallet, a returned SEPA debit
	ChargeRefunded  EventKind = "charge.refunded"
)

// Event is what kontor reads of a Stripe event.
type Event struct {
	ID      string
	Kind    EventKind
	Created time.Time
	// Invoice is the invoice number the PaymentIntent carries in its metadata; IntentID
	// the PaymentIntent.
	Invoice  string
	IntentID string
	Currency string
	// Amount is what a succeeded PaymentIntent received; Refunded what a charge has had
	// refunded in all (minor units).
	Amount   int64
	Refunded int64
	Failure  string
}

// EventStore applies an event once: it reports false for an event applied before.
type EventStore interface {
	ApplyStripeEvent(ctx context.Context, e Event) (bool, error)
}

// Webhook receives Stripe's events (POST /webhooks/stripe): it verifies the
// Stripe-Signature header with the endpoint's secret and a timestamp tolerance, refuses
// unsigned, stale, mis-signed and malformed bodies with 400 and applies nothing from
// them, and applies each verified event once by its ID, whatever the order and however
// often it comes.
type Webhook struct {
	Secret string
	// Tolerance is how old a signature may be (default webhook.DefaultTolerance, 5 minutes).
	Tolerance time.Duration
	Store     EventStore
	Log       *slog.Logger
}

// maxEventBytes bounds what is read of a request.
const maxEventBytes = 1 << 20

func (h Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	tol := h.Tolerance
	if tol == 0 {
		tol = webhook.DefaultTolerance
	}
	ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), h.Secret,
		webhook.ConstructEventOptions{Tolerance: tol, IgnoreAPIVersionMismatch: true})
	if err != nil {
		h.Log.Warn("stripe webhook refused", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "refused: "+signatureProblem(err), http.StatusBadRequest)
		return
	}
	e, ok, err := readEvent(ev)
	if err != nil {
		h.Log.Warn("stripe webhook refused", "event", ev.ID, "err", err)
		http.Error(w, "refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !ok {
		fmt.Fprintln(w, "ignored:", ev.Type)
		return
	}
	applied, err := h.Store.ApplyStripeEvent(r.Context(), e)
	if err != nil {
		h.Log.Error("stripe webhook not applied; Stripe sends it again", "event", e.ID, "err", err)
		http.Error(w, "not applied", http.StatusInternalServerError)
		return
	}
	if !applied {
		fmt.Fprintln(w, "applied before:", e.ID)
		return
	}
	h.Log.Info("stripe event applied", "event", e.ID, "type", string(e.Kind), "invoice", e.Invoice)
	fmt.Fprintln(w, "applied:", e.ID)
}

// signatureProblem says why a body was refused, without echoing what it held.
func signatureProblem(err error) string {
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		return "not signed"
	case errors.Is(err, webhook.ErrTooOld):
		return "signature too old"
	case errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrInvalidHeader):
		return "no valid signature"
	}
	return "not a Stripe event"
}

// readEvent reads an event of a kind kontor applies; ok is false for other kinds.
func readEvent(ev stripe.Event) (Event, bool, error) {
	e := Event{ID: ev.ID, Kind: EventKind(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if ev.ID == "" || ev.Data == nil {
		return e, false, errors.New("event without ID or data")
	}
	switch e.Kind {
	case IntentSucceeded, IntentFailed:
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil {
			return e, false, fmt.Errorf("event %s: payment intent: %w", ev.ID, err)
		}
		e.IntentID, e.Invoice, e.Currency, e.Amount = pi.ID, pi.Metadata["invoice"], string(pi.Currency), pi.AmountReceived
		if e.Kind == IntentFailed {
			e.Failure = "payment failed"
			if pi.LastPaymentError != nil {
				e.Failure = declineText(pi.LastPaymentError)
			}
		}
	case ChargeRefunded:
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
			return e, false, fmt.Errorf("event %s: charge: %w", ev.ID, err)
		}
		e.Invoice, e.Currency, e.Refunded = ch.Metadata["invoice"], string(ch.Currency), ch.AmountRefunded
		if ch.PaymentIntent != nil {
			e.IntentID = ch.PaymentIntent.ID
		}
	default:
		return e, false, nil
	}
	if e.IntentID == "" {
		return e, false, fmt.Errorf("event %s: no payment intent", ev.ID)
	}
	return e, true, nil
}

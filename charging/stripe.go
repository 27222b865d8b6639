package charging

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stripe/stripe-go/v82"
)

// Stripe charges and refunds through the Stripe API with stripe-go.
type Stripe struct{ c *stripe.Client }

// NewStripe returns a client of the Stripe API with secret key; base, when not empty,
// is another API server (a local stripe-mock). stripe-go's own retries are on: a retry
// carries the same idempotency key.
func NewStripe(key, base string, hc *http.Client) *Stripe {
	cfg := &stripe.BackendConfig{HTTPClient: hc, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
		MaxNetworkRetries: stripe.Int64(2)}
	if base != "" {
		cfg.URL = stripe.String(strings.TrimRight(base, "/"))
	}
	backends := &stripe.Backends{API: stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg)}
	return &Stripe{c: stripe.NewClient(key, stripe.WithBackends(backends))}
}

// Charge creates and confirms the PaymentIntent of req, off-session. A declined charge
// (a card error) is a Result, not an error; an error means the outcome is not known (the
// API could not be reached, or refused the request) and the charge is made again later
// under the same key.
func (s *Stripe) Charge(ctx context.Context, req Request) (Result, error) {
	p := &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(req.Amount), Currency: stripe.String(strings.ToLower(req.Currency)),
		Customer: stripe.String(req.Customer), PaymentMethod: stripe.String(req.PaymentMethod),
		OffSession: stripe.Bool(true), Confirm: stripe.Bool(true),
		Description: stripe.String(req.Description),
	}
	p.AddMetadata("invoice", req.Invoice)
	p.SetIdempotencyKey(req.Key)
	pi, err := s.c.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
			r := Result{Status: Declined, Failure: declineText(se)}
			if se.PaymentIntent != nil {
				r.IntentID = se.PaymentIntent.ID
			}
			return r, nil
		}
		return Result{}, fmt.Errorf("stripe: charge %s: %w", req.Invoice, err)
	}
	return intentResult(pi), nil
}

// intentResult reads a confirmed PaymentIntent's status.
func intentResult(pi *stripe.PaymentIntent) Result {
	r := Result{IntentID: pi.ID}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		r.Status = Succeeded
	case stripe.PaymentIntentStatusProcessing:
		r.Status = Processing
	default:
		// requires_action (the bank asks for the customer, who is not there),
		// requires_payment_method (declined), canceled: not collected.
		r.Status, r.Failure = Declined, "payment intent "+string(pi.Status)
		if pi.LastPaymentError != nil {
			r.Failure = declineText(pi.LastPaymentError)
		}
	}
	return r
}

// declineText is a decline's code and message.
func declineText(e *stripe.Error) string {
	code := string(e.DeclineCode)
	if code == "" {
		code = string(e.Code)
	}
	if code == "" {
		return e.Msg
	}
	return code + ": " + e.Msg
}

// Refund refunds amount (minor units) of the PaymentIntent intentID under key and
// returns the refund's ID.
func (s *Stripe) Refund(ctx context.Context, key, intentID string, amount int64) (string, error) {
	p := &stripe.RefundCreateParams{PaymentIntent: stripe.String(intentID), Amount: stripe.Int64(amount)}
	p.SetIdempotencyKey(key)
	r, err := s.c.V1Refunds.Create(ctx, p)
	if err != nil {
		return "", fmt.Errorf("stripe: refund %s: %w", intentID, err)
	}
	return r.ID, nil
}

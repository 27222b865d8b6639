// Package charging charges stored payment methods through Stripe and reads what Stripe
// tells of them afterwards (webhook events). Amounts cross it in minor units, as Stripe
// counts them.
package charging

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Request is one invoice to charge: one PaymentIntent, off-session and confirmed, under
// an idempotency key that the same invoice always gets.
type Request struct {
	Key           string // the idempotency key
	Invoice       string
	Customer      string // cus_…
	PaymentMethod string // pm_…
	Amount        int64  // in minor units
	Currency      string // ISO 4217, any case
	Description   string
}

// Status is what became of a charge.
type Status string

const (
	Succeeded  Status = "succeeded"  // the money is collected
	Processing Status = "processing" // a debit on its way: a webhook event tells the end
	Declined   Status = "failed"     // the method could not be charged: the grace starts
)

// Result is Stripe's answer to a charge.
type Result struct {
	Status   Status
	IntentID string
	// Failure is the decline code or error code and Stripe's message, for a declined charge.
	Failure string
}

// IdempotencyKey is the key an invoice's charge is made under, whichever run makes it.
func IdempotencyKey(invoice string) string { return "kontor-charge-" + invoice }

// RefundKey is the key of the refund that follows a credit note.
func RefundKey(creditNote string) string { return "kontor-refund-" + creditNote }

// zeroDecimal are the currencies Stripe counts in whole units.
var zeroDecimal = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true, "KRW": true,
	"MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true, "XOF": true, "XPF": true}

// exponent is how many decimals Stripe's minor unit has for currency.
func exponent(currency string) int32 {
	if zeroDecimal[strings.ToUpper(currency)] {
		return 0
	}
	return 2
}

// MinorUnits converts an amount to Stripe's minor units; an amount with more decimals
// than the currency has is an error, not rounded.
func MinorUnits(amount decimal.Decimal, currency string) (int64, error) {
	e := exponent(currency)
	m := amount.Shift(e)
	if !m.Equal(m.Truncate(0)) {
		return 0, fmt.Errorf("%s %s has more decimals than the currency's %d", amount, currency, e)
	}
	return m.IntPart(), nil
}

// FromMinor converts Stripe's minor units to an amount.
func FromMinor(minor int64, currency string) decimal.Decimal {
	return decimal.New(minor, -exponent(currency))
}

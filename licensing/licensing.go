// Package licensing decides the license state of a customer from its card payment results
// (BILLING-RULES 4): a card that cannot be charged puts the license in a 7-day grace
// period, after which it is deactivated; payment within the grace keeps it active, a later
// payment reactivates it. It is pure: the date is an argument.
package licensing

import (
	"sort"

	"github.com/kontor-billing/kontor/calendar"
)

// GraceDays is the grace period after a failed card payment.
const GraceDays = 7

// State of a license.
type State string

const (
	Active      State = "active"
	Grace       State = "grace"       // a card payment failed; paying keeps the license
	Deactivated State = "deactivated" // the grace passed unpaid
)

// Attempt is the result of charging the card for an invoice, on a date in the billing
// time zone.
type Attempt struct {
	Invoice string
	On      calendar.Date
	Paid    bool
}

// Status is a customer's license state as of a date and the invoice that decides it.
type Status struct {
	State State `json:"state"`
	// Invoice is the unpaid invoice behind a grace or deactivation.
	Invoice string `json:"invoice,omitempty"`
	// FailedOn is the first failed charge of that invoice since it was last paid;
	// DeactivatedOn = FailedOn + 7 days.
	FailedOn      calendar.Date `json:"failed_on,omitzero"`
	DeactivatedOn calendar.Date `json:"deactivated_on,omitzero"`
}

// Change is a license whose state a run changed.
type Change struct {
	Customer string
	From, To State
	Status   Status
}

// Evaluate returns the license state as of asOf from a customer's payment attempts, all
// invoices together: the worst state of any invoice decides. Attempts after asOf are not
// known yet.
func Evaluate(attempts []Attempt, asOf calendar.Date) Status {
	byInvoice := map[string][]Attempt{}
	for _, a := range attempts {
		if !a.On.After(asOf) {
			byInvoice[a.Invoice] = append(byInvoice[a.Invoice], a)
		}
	}
	worst := Status{State: Active}
	rank := map[State]int{Active: 0, Grace: 1, Deactivated: 2}
	invoices := make([]string, 0, len(byInvoice))
	for inv := range byInvoice {
		invoices = append(invoices, inv)
	}
	sort.Strings(invoices)
	for _, inv := range invoices {
		as := byInvoice[inv]
		sort.SliceStable(as, func(i, j int) bool { return as[i].On.Before(as[j].On) })
		var failed calendar.Date
		for _, a := range as {
			switch {
			case a.Paid:
				failed = calendar.Date{}
			case failed.IsZero():
				failed = a.On
			}
		}
		if failed.IsZero() {
			continue
		}
		s := Status{State: Grace, Invoice: inv, FailedOn: failed, DeactivatedOn: failed.AddDays(GraceDays)}
		if !asOf.Before(s.DeactivatedOn) {
			s.State = Deactivated
		}
		if rank[s.State] > rank[worst.State] || (rank[s.State] == rank[worst.State] && s.State != Active && s.FailedOn.Before(worst.FailedOn)) {
			worst = s
		}
	}
	return worst
}

package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/licensing"
)

// licenseStore is what the license stage reads and writes.
type licenseStore interface {
	// PaymentAttempts returns each customer's payment attempts, in the seller's time zone.
	PaymentAttempts(ctx context.Context, loc *time.Location) (map[string][]licensing.Attempt, error)
	// SaveLicenses records the license states as of asOf and returns those that changed.
	SaveLicenses(ctx context.Context, runID int64, asOf calendar.Date, states map[string]licensing.Status) ([]licensing.Change, error)
}

// LicenseChange is a license state a run changed.
type LicenseChange struct {
	Customer string `json:"customer"`
	State    string `json:"state"`
	Invoice  string `json:"invoice,omitempty"`
}

// licenseStage evaluates every customer's license from its payment attempts: a payment
// that failed deactivates the license after the grace period (BILLING-RULES 4). The
// changes go into the summary.
type licenseStage struct{ st licenseStore }

func (licenseStage) name() string { return "licenses" }

func (s licenseStage) run(ctx context.Context, r *runState) error {
	attempts, err := s.st.PaymentAttempts(ctx, r.ds.Seller.Location)
	if err != nil {
		return fmt.Errorf("read payment attempts: %w", err)
	}
	states := map[string]licensing.Status{}
	for cust, as := range attempts {
		states[cust] = licensing.Evaluate(as, r.opt.AsOf)
	}
	changes, err := s.st.SaveLicenses(ctx, r.runID, r.opt.AsOf, states)
	if err != nil {
		return fmt.Errorf("save license states: %w", err)
	}
	for _, c := range changes {
		r.log.Warn("license state changed", "customer", c.Customer, "from", string(c.From), "to", string(c.To), "invoice", c.Status.Invoice)
		r.sum.Licenses = append(r.sum.Licenses, LicenseChange{Customer: c.Customer, State: string(c.To), Invoice: c.Status.Invoice})
	}
	r.step("licensed")
	r.timed("licenses")
	return nil
}

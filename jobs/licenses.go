package jobs

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/licensing"
)

// licenseStore is what the license stage reads and writes.
type licenseStore interface {
	// PaymentAttempts returns each customer's payment attempts, in the seller's time zone.
	PaymentAttempts(ctx context.Context, loc *time.Location) (map[string][]licensing.Attempt, error)
	// LicenseStates returns the stored license state of every customer that has one
	// (those without are active).
	LicenseStates(ctx context.Context) (map[string]licensing.State, error)
	// SaveLicenses records the license states as of asOf and returns those that changed.
	SaveLicenses(ctx context.Context, runID int64, asOf calendar.Date, states map[string]licensing.Status) ([]licensing.Change, error)
}

// LicenseChange is a license state a run changed (or, in a dry run, would change).
type LicenseChange struct {
	Customer string          `json:"customer"`
	From     licensing.State `json:"from,omitempty"`
	State    string          `json:"state"`
	Invoice  string          `json:"invoice,omitempty"`
	// FailedOn is the failed payment behind a grace or deactivation; GraceEnds is the day
	// the license is deactivated unless the invoice is paid.
	FailedOn  calendar.Date `json:"failed_on,omitzero"`
	GraceEnds calendar.Date `json:"grace_ends,omitzero"`
}

// licenseStage evaluates every customer's license from its payment attempts: a payment
// that failed puts the license in grace and deactivates it after the grace period
// (BILLING-RULES 4). The changes go into the summary; a dry run lists them against the
// stored states and saves nothing.
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
	changes, err := s.changes(ctx, r, states)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if !r.opt.DryRun {
			r.log.Warn("license state changed", "customer", c.Customer, "from", string(c.From), "to", string(c.To), "invoice", c.Status.Invoice)
		}
		r.sum.Licenses = append(r.sum.Licenses, LicenseChange{Customer: c.Customer, From: c.From, State: string(c.To),
			Invoice: c.Status.Invoice, FailedOn: c.Status.FailedOn, GraceEnds: c.Status.DeactivatedOn})
	}
	if !r.opt.DryRun {
		r.step("licensed")
		r.timed("licenses")
	}
	return nil
}

// changes saves the states and returns those that changed; a dry run compares them with
// the stored states instead, in customer order.
func (s licenseStage) changes(ctx context.Context, r *runState, states map[string]licensing.Status) ([]licensing.Change, error) {
	if !r.opt.DryRun {
		changes, err := s.st.SaveLicenses(ctx, r.runID, r.opt.AsOf, states)
		if err != nil {
			return nil, fmt.Errorf("save license states: %w", err)
		}
		return changes, nil
	}
	stored, err := s.st.LicenseStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("read license states: %w", err)
	}
	var changes []licensing.Change
	for _, cust := range slices.Sorted(maps.Keys(states)) {
		from := cmp.Or(stored[cust], licensing.Active)
		if st := states[cust]; st.State != from {
			changes = append(changes, licensing.Change{Customer: cust, From: from, To: st.State, Status: st})
		}
	}
	return changes, nil
}

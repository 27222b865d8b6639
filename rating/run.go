package rating

import (
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/shopspring/decimal"
)

// Result is the rating of a whole dataset as of a date.
type Result struct {
	AsOf    calendar.Date  `json:"as_of"`
	Charges []Charge       `json:"charges"`
	Usage   []UsageSummary `json:"usage"`
	// Problems are the subscriptions that could not be rated; nothing of theirs is charged.
	Problems []*Error `json:"problems,omitempty"`
	Counts   Counts   `json:"counts"`
}

// Counts says what a run saw.
type Counts struct {
	Subscriptions int `json:"subscriptions"`
	// Marketplace subscriptions are billed by Microsoft and never invoiced (BILLING-RULES 1).
	Marketplace int `json:"marketplace"`
	// NotBilled are subscriptions with nothing billed as of the date: running trials,
	// lapsed trials, cancellations before billing started, activations after the date.
	NotBilled int `json:"not_billed"`
	// Usage events, by what the run did with them.
	Events        int             `json:"events"`
	Duplicates    int             `json:"duplicates"`
	SettledBefore int             `json:"settled_before"` // settled by the opening state
	Rated         int             `json:"rated"`
	Late          int             `json:"late"` // of Rated: in periods billed before
	Outside       int             `json:"outside_subscription"`
	Pending       int             `json:"pending"`
	UnitsBlocked  decimal.Decimal `json:"units_blocked"`
	UnitsOverage  decimal.Decimal `json:"units_overage"`
	UnitsIncluded decimal.Decimal `json:"units_included"`
}

// Run rates every subscription of ds as of asOf, statelessly: the opening state is what
// the dataset declares (billed_as_of: everything due as of that date was billed before),
// and nothing is remembered afterwards. A subscription that cannot be rated is reported
// in Problems while all others are rated.
func Run(ds *dataset.Dataset, asOf calendar.Date) Result {
	res := Result{AsOf: asOf, Counts: Counts{Events: len(ds.Usage) + ds.Duplicates, Duplicates: ds.Duplicates}}
	events := map[string][]dataset.UsageEvent{}
	for _, ev := range ds.Usage {
		events[ev.SubscriptionID] = append(events[ev.SubscriptionID], ev)
	}
	for _, s := range ds.Subscriptions {
		res.Counts.Subscriptions++
		evs := events[s.ID]
		if s.Channel == dataset.Marketplace {
			res.Counts.Marketplace++
			res.Counts.Pending += len(evs)
			continue
		}
		in := NewInput(ds, s, asOf, evs)
		billedAsOf := s.BilledAsOf
		if billedAsOf.IsZero() {
			billedAsOf = ds.Manifest.BilledAsOf
		}
		if !billedAsOf.IsZero() {
			var settled int
			var err error
			in.Prior, in.Events, settled, err = Opening(in, billedAsOf)
			if err != nil {
				res.Problems = append(res.Problems, err.(*Error))
				continue
			}
			res.Counts.SettledBefore += settled
		}
		sr, err := RateSubscription(in)
		if err != nil {
			res.Problems = append(res.Problems, err.(*Error))
			continue
		}
		if !sr.Schedule.Billed() || sr.Schedule.Start.After(asOf) {
			res.Counts.NotBilled++
		}
		res.Charges = append(res.Charges, sr.Charges...)
		res.Usage = append(res.Usage, sr.Usage...)
		for _, f := range sr.Fates {
			switch f {
			case Pending:
				res.Counts.Pending++
			case Rated:
				res.Counts.Rated++
			case OutsideSubscription:
				res.Counts.Outside++
			}
		}
		for _, u := range sr.Usage {
			if u.Late {
				res.Counts.Late += u.Events
			}
			res.Counts.UnitsBlocked = res.Counts.UnitsBlocked.Add(u.Blocked)
			res.Counts.UnitsOverage = res.Counts.UnitsOverage.Add(u.Overage)
			res.Counts.UnitsIncluded = res.Counts.UnitsIncluded.Add(u.Units.Sub(u.Blocked).Sub(u.Overage))
		}
	}
	return res
}

// NewInput assembles the rating input of subscription s from the dataset, with an empty
// Prior.
func NewInput(ds *dataset.Dataset, s *dataset.Subscription, asOf calendar.Date, events []dataset.UsageEvent) Input {
	p := ds.Catalog.PlanByID[s.PlanID]
	return Input{
		AsOf: asOf, Location: ds.Seller.Location, Subscription: s, Plan: p,
		App: ds.Catalog.AppByID[p.App], UsageTypes: ds.Catalog.UsageTypeByID,
		Reports: ds.LicenseReports[s.ID], Events: events,
		Prior: Prior{Advance: map[calendar.Date]int64{}, Usage: map[UsageKey]decimal.Decimal{}},
	}
}

// Opening returns the state after a run as of billedAsOf from an empty ledger, i.e. what
// counts as billed when a subscription comes to kontor with "everything due as of
// billedAsOf was billed": the Prior, the events still unsettled, and how many were settled.
func Opening(in Input, billedAsOf calendar.Date) (Prior, []dataset.UsageEvent, int, error) {
	open := in
	open.AsOf, open.opening = billedAsOf, true
	sr, err := RateSubscription(open)
	if err != nil {
		e := err.(*Error)
		return Prior{}, nil, 0, &Error{SubscriptionID: e.SubscriptionID, Reason: "opening state as of " + billedAsOf.String() + ": " + e.Reason}
	}
	var left []dataset.UsageEvent
	for i, f := range sr.Fates {
		if f == Pending {
			left = append(left, in.Events[i])
		}
	}
	return sr.Next, left, len(in.Events) - len(left), nil
}

package rating

import (
	"cmp"
	"errors"
	"slices"

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
// in Problems while all others are rated. Run groups ds.Usage by subscription in place
// (Load delivered it grouped) and may reorder each subscription's events: no result
// depends on their order.
func Run(ds *dataset.Dataset, asOf calendar.Date) Result {
	res, _ := RunFrom(ds, ds.Subscriptions, asOf, dataset.GroupBySubscription(ds.Usage), func(string) (Prior, bool) { return Prior{}, false })
	res.Counts.Events += ds.Duplicates
	res.Counts.Duplicates = ds.Duplicates
	return res
}

// Outcome is what a run leaves for one subscription: the ledger after it and the events it
// settled (rated, or outside the subscription), which no later run rates again.
type Outcome struct {
	SubscriptionID string
	// Opening is true when the subscription's opening state (billed_as_of) was computed in
	// this run because no earlier run had billed it.
	Opening bool
	Next    Prior
	// Settled is in ascending Seq.
	Settled []SettledEvent
}

// SettledEvent is an event a run settled and how.
type SettledEvent struct {
	// Seq is the event's number in the store (UsageEvent.Seq).
	Seq  int64
	Fate EventFate
	// Opening marks events settled by the opening state (billed before kontor).
	Opening bool
}

// Add adds the counts of another part of a run.
func (c *Counts) Add(o Counts) {
	c.Subscriptions += o.Subscriptions
	c.Marketplace += o.Marketplace
	c.NotBilled += o.NotBilled
	c.Events += o.Events
	c.Duplicates += o.Duplicates
	c.SettledBefore += o.SettledBefore
	c.Rated += o.Rated
	c.Late += o.Late
	c.Outside += o.Outside
	c.Pending += o.Pending
	c.UnitsBlocked = c.UnitsBlocked.Add(o.UnitsBlocked)
	c.UnitsOverage = c.UnitsOverage.Add(o.UnitsOverage)
	c.UnitsIncluded = c.UnitsIncluded.Add(o.UnitsIncluded)
}

// Unaccounted is the number of events the counts do not place: received events less the
// duplicates, those settled before the opening date, the rated, those outside a
// subscription and the pending. Every event is one of them, so it is 0.
func (c Counts) Unaccounted() int {
	return c.Events - c.Duplicates - c.SettledBefore - c.Rated - c.Outside - c.Pending
}

// RunFrom rates the subscriptions subs of ds (all of them, or a part: a run may rate its
// subscriptions part by part) as of asOf from what earlier runs billed: prior
// returns a subscription's ledger, or false when no run has billed it yet (then the
// dataset's opening state, billed_as_of, applies). events are the unsettled usage events
// by subscription; RunFrom may reorder each subscription's (the events a subscription's
// opening state leaves unsettled are moved to the front instead of copied), which never
// changes a result. It returns the rating and, per rated subscription, its outcome.
func RunFrom(ds *dataset.Dataset, subs []*dataset.Subscription, asOf calendar.Date, events map[string][]dataset.UsageEvent, prior func(subscriptionID string) (Prior, bool)) (Result, []Outcome) {
	res := Result{AsOf: asOf}
	var outcomes []Outcome
	for _, evs := range events {
		res.Counts.Events += len(evs)
	}
	for _, s := range subs {
		res.Counts.Subscriptions++
		evs := events[s.ID]
		if s.Channel == dataset.Marketplace {
			res.Counts.Marketplace++
			res.Counts.Pending += len(evs)
			continue
		}
		in := NewInput(ds, s, asOf, evs)
		out := Outcome{SubscriptionID: s.ID}
		if len(evs) > 0 {
			out.Settled = make([]SettledEvent, 0, len(evs))
		}
		if p, ok := prior(s.ID); ok {
			in.Prior = p
		} else if billedAsOf := openingDate(ds, s); !billedAsOf.IsZero() {
			p, left, settled, err := opening(in, billedAsOf, out.Settled)
			if err != nil {
				res.Problems = append(res.Problems, err)
				continue
			}
			in.Prior, in.Events, out.Opening = p, left, true
			res.Counts.SettledBefore += len(settled) - len(out.Settled)
			out.Settled = settled
		}
		sr, err := RateSubscription(in)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				res.Problems = append(res.Problems, e)
			} else {
				res.Problems = append(res.Problems, &Error{SubscriptionID: s.ID, Reason: err.Error()})
			}
			continue
		}
		if !sr.Schedule.Billed() || sr.Schedule.Start.After(asOf) {
			res.Counts.NotBilled++
		}
		res.Charges = append(res.Charges, sr.Charges...)
		res.Usage = append(res.Usage, sr.Usage...)
		for i, f := range sr.Fates {
			switch f {
			case Pending:
				res.Counts.Pending++
				continue
			case Rated:
				res.Counts.Rated++
			case OutsideSubscription:
				res.Counts.Outside++
			}
			out.Settled = append(out.Settled, SettledEvent{Seq: in.Events[i].Seq, Fate: f})
		}
		for _, u := range sr.Usage {
			if u.Late {
				res.Counts.Late += u.Events
			}
			res.Counts.UnitsBlocked = res.Counts.UnitsBlocked.Add(u.Blocked)
			res.Counts.UnitsOverage = res.Counts.UnitsOverage.Add(u.Overage)
			res.Counts.UnitsIncluded = res.Counts.UnitsIncluded.Add(u.Units.Sub(u.Blocked).Sub(u.Overage))
		}
		out.Next = sr.Next
		slices.SortFunc(out.Settled, func(a, b SettledEvent) int { return cmp.Compare(a.Seq, b.Seq) })
		outcomes = append(outcomes, out)
	}
	return res, outcomes
}

func openingDate(ds *dataset.Dataset, s *dataset.Subscription) calendar.Date {
	if !s.BilledAsOf.IsZero() {
		return s.BilledAsOf
	}
	return ds.Manifest.BilledAsOf
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

// opening returns the state after a run as of billedAsOf from an empty ledger, i.e. what
// counts as billed when a subscription comes to kontor with "everything due as of
// billedAsOf was billed": the Prior, the events still unsettled, and settled with those it
// settled appended. The events left are moved to the front of in.Events, in their order.
func opening(in Input, billedAsOf calendar.Date, settled []SettledEvent) (Prior, []dataset.UsageEvent, []SettledEvent, *Error) {
	open := in
	open.AsOf, open.opening = billedAsOf, true
	sr, err := RateSubscription(open)
	if err != nil {
		reason := err.Error()
		var e *Error
		if errors.As(err, &e) {
			reason = e.Reason
		}
		return Prior{}, nil, settled, &Error{SubscriptionID: in.Subscription.ID, Reason: "opening state as of " + billedAsOf.String() + ": " + reason}
	}
	// The events left are swapped to the front (k <= i: the one at k was settled), so
	// that in.Events keeps every event and the caller's slice stays whole.
	k := 0
	for i, f := range sr.Fates {
		if f == Pending {
			in.Events[k], in.Events[i] = in.Events[i], in.Events[k]
			k++
		} else {
			settled = append(settled, SettledEvent{Seq: in.Events[i].Seq, Fate: f, Opening: true})
		}
	}
	return sr.Next, in.Events[:k:k], settled, nil
}

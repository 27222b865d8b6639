// Package rating computes the charges that are due as of a date: advance subscription
// charges with proration and quantity increases, and usage overage with included units,
// PSP weighting, spending limits and late events (BILLING-RULES 2).
//
// It is pure: no I/O, no clock, no globals. What earlier runs billed comes in as a Prior
// and what this run leaves billed goes out as the result's Next, so the same code serves a
// stateless preview and a database-backed run.
package rating

import (
	"fmt"
	"sort"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/shopspring/decimal"
)

// Kind is what a charge is for.
type Kind string

const (
	// Advance is a subscription charge for a billing period, billed in advance.
	Advance Kind = "advance"
	// Increase is the pro-rata charge for a quantity increase within a paid period.
	Increase Kind = "increase"
	// Overage is usage beyond the included units of an ended period, billed in arrears.
	Overage Kind = "overage"
)

// Charge is one billable amount: an invoice line before it is put on an invoice.
type Charge struct {
	// Key identifies the charge uniquely and stably across runs: one charge per subscription,
	// kind and period (and report date, usage type, late run where those apply).
	Key            string          `json:"key"`
	SubscriptionID string          `json:"subscription_id"`
	CustomerID     string          `json:"customer_id"`
	Kind           Kind            `json:"kind"`
	PlanID         string          `json:"plan_id"`
	UsageType      string          `json:"usage_type,omitempty"`
	Service        calendar.Period `json:"service_period"`
	Quantity       decimal.Decimal `json:"quantity"`
	UnitCode       string          `json:"unit_code"`
	UnitPrice      decimal.Decimal `json:"unit_price"`
	// ProrateDays/BasisDays: the net is UnitPrice × Quantity × ProrateDays / BasisDays
	// (both 0 when the charge is not prorated).
	ProrateDays int             `json:"prorate_days,omitempty"`
	BasisDays   int             `json:"basis_days,omitempty"`
	Net         decimal.Decimal `json:"net"`
	Currency    string          `json:"currency"`
	// Used and Included explain an overage charge: the weighted units this charge rates
	// (with those counted before, for late usage) and the period's included units.
	Used     decimal.Decimal `json:"used,omitzero"`
	Included decimal.Decimal `json:"included,omitzero"`
	// Late marks usage of a period that was billed before the events arrived.
	Late bool `json:"late,omitempty"`
	// Final marks charges of a cancelled subscription's last period.
	Final bool `json:"final,omitempty"`
}

// UsageKey names a usage bucket: a usage type in a billing period.
type UsageKey struct {
	Type        string
	PeriodStart calendar.Date
}

// Prior is what earlier runs billed for a subscription.
type Prior struct {
	// Advance maps the start of each billing period whose advance charge was billed to the
	// license quantity billed for it so far (increases included).
	Advance map[calendar.Date]int64
	// Usage maps each closed usage bucket to the weighted units counted when it was billed.
	Usage map[UsageKey]decimal.Decimal
}

func (p Prior) clone() Prior {
	n := Prior{Advance: make(map[calendar.Date]int64, len(p.Advance)), Usage: make(map[UsageKey]decimal.Decimal, len(p.Usage))}
	for k, v := range p.Advance {
		n.Advance[k] = v
	}
	for k, v := range p.Usage {
		n.Usage[k] = v
	}
	return n
}

// UsageSummary is the rating of one usage bucket in a run.
type UsageSummary struct {
	SubscriptionID string          `json:"subscription_id"`
	UsageType      string          `json:"usage_type"`
	Period         calendar.Period `json:"period"`
	Events         int             `json:"events"`
	PSPEvents      int             `json:"psp_events,omitempty"`
	// Units are the weighted units of this run's events; PriorUnits those counted before
	// (non-zero only for late usage).
	Units      decimal.Decimal `json:"units"`
	PriorUnits decimal.Decimal `json:"prior_units"`
	Included   decimal.Decimal `json:"included"`
	Limit      decimal.Decimal `json:"limit"` // 0: no limit
	// Overage and Blocked are this run's additional overage units and units over the limit.
	Overage decimal.Decimal `json:"overage"`
	Blocked decimal.Decimal `json:"blocked"`
	Late    bool            `json:"late,omitempty"`
}

// EventFate says what a run did with a usage event.
type EventFate uint8

const (
	// Pending: not settled yet (its period has not ended, or it was received after the
	// as-of date); a later run rates it.
	Pending EventFate = iota
	// Rated: counted in its closed period (as included, overage or blocked usage).
	Rated
	// OutsideSubscription: it occurred before billing started (trial) or after the
	// subscription ended; never billed.
	OutsideSubscription
)

// Input is everything needed to rate one subscription.
type Input struct {
	AsOf         calendar.Date
	Location     *time.Location // the seller's billing time zone
	Subscription *dataset.Subscription
	Plan         *dataset.Plan
	App          *dataset.App
	UsageTypes   map[string]*dataset.UsageType
	Reports      []dataset.LicenseReport // sorted by date
	// Events are the subscription's unsettled usage events, in any order.
	Events []dataset.UsageEvent
	Prior  Prior
	// opening marks the simulated run that establishes the opening state: a period whose
	// quantity no report tells was billed by an earlier system at an unknown quantity; the
	// latest report known by then stands in (it matters only as the baseline for increases
	// within the period that contains the opening date).
	opening bool
}

// SubscriptionResult is the rating of one subscription.
type SubscriptionResult struct {
	Schedule Schedule
	Charges  []Charge
	Usage    []UsageSummary
	// Fates is aligned with Input.Events.
	Fates []EventFate
	// Next is Prior plus what this run bills.
	Next Prior
}

// Error is a problem that stops one subscription from being billed; the run goes on with
// the others and reports it.
type Error struct {
	SubscriptionID string
	Reason         string
}

func (e *Error) Error() string { return "subscription " + e.SubscriptionID + ": " + e.Reason }

// RateSubscription computes what is due for one subscription as of in.AsOf.
func RateSubscription(in Input) (SubscriptionResult, error) {
	s, p := in.Subscription, in.Plan
	res := SubscriptionResult{
		Schedule: ScheduleOf(s, p, in.AsOf),
		Fates:    make([]EventFate, len(in.Events)),
		Next:     in.Prior.clone(),
	}
	if err := advanceCharges(in, &res); err != nil {
		return SubscriptionResult{}, err
	}
	usageCharges(in, &res)
	return res, nil
}

func (in *Input) charge(kind Kind, key string, service calendar.Period) Charge {
	return Charge{
		Key: in.Subscription.ID + "/" + string(kind) + "/" + key, SubscriptionID: in.Subscription.ID,
		CustomerID: in.Subscription.CustomerID, Kind: kind, PlanID: in.Plan.ID, Service: service,
		UnitCode: "C62", Currency: in.Plan.Currency,
	}
}

// final reports whether period p is the last of a cancelled subscription.
func final(sc Schedule, p calendar.Period) bool { return !sc.End.IsZero() && sc.End == p.End }

// advanceCharges bills each period that has started by the as-of date and was not billed,
// and the increases of quantity within periods (BILLING-RULES 2.2).
func advanceCharges(in Input, res *SubscriptionResult) error {
	sc := res.Schedule
	if !sc.Billed() {
		return nil
	}
	price := in.Plan.UnitPrice
	for per, ok := sc.PeriodAt(sc.Start); ok && !per.Start.After(in.AsOf); per, ok = sc.next(per) {
		basis := sc.BasisDays(per)
		hw, billed := in.Prior.Advance[per.Start]
		if !billed {
			q, err := in.quantityFor(per)
			if err != nil {
				return err
			}
			hw = q
			if q > 0 && !in.opening { // the opening state needs the ledger, not the charges
				c := in.charge(Advance, per.Start.String(), per)
				c.Quantity, c.UnitPrice, c.Final = decimal.NewFromInt(q), price, final(sc, per)
				c.Net = prorate(price, q, per.Days(), basis, &c)
				res.Charges = append(res.Charges, c)
			}
		}
		// Increases: each later report within the period (known by the as-of date) whose
		// quantity exceeds what was billed is charged from its date to the period's end.
		// Decreases take effect from the next period; no credit (BILLING-RULES 2.2).
		last := calendar.Min(per.End, in.AsOf)
		for _, r := range in.Reports {
			if !r.ReportedOn.After(per.Start) || r.ReportedOn.After(last) {
				continue
			}
			q := in.quantity(r)
			if q <= hw {
				continue
			}
			if in.opening {
				hw = q
				continue
			}
			days := r.ReportedOn.DaysUntil(per.End) + 1
			c := in.charge(Increase, per.Start.String()+"/"+r.ReportedOn.String(), calendar.Period{Start: r.ReportedOn, End: per.End})
			c.Quantity, c.UnitPrice, c.Final = decimal.NewFromInt(q-hw), price, final(sc, per)
			c.Net = prorate(price, q-hw, days, basis, &c)
			res.Charges = append(res.Charges, c)
			hw = q
		}
		res.Next.Advance[per.Start] = hw
	}
	return nil
}

// prorate returns price × qty × days / basis, rounded once to 2 decimals, half away from
// zero (BILLING-RULES 2.2), and notes the proration on c when days < basis.
func prorate(price decimal.Decimal, qty int64, days, basis int, c *Charge) decimal.Decimal {
	amount := price.Mul(decimal.NewFromInt(qty))
	if days >= basis {
		return amount.Round(2)
	}
	c.ProrateDays, c.BasisDays = days, basis
	return amount.Mul(decimal.NewFromInt(int64(days))).DivRound(decimal.NewFromInt(int64(basis)), 2)
}

// quantityFor returns the license quantity billed in advance for a period: the latest
// report dated on or before the period's first day or, failing that, the first report
// within the period known by the as-of date.
func (in *Input) quantityFor(per calendar.Period) (int64, error) {
	if in.Plan.LicenseMethod == dataset.PerTenant {
		return 1, nil
	}
	var base *dataset.LicenseReport
	for i := range in.Reports {
		r := &in.Reports[i]
		if r.ReportedOn.After(per.Start) {
			if base == nil && !r.ReportedOn.After(calendar.Min(per.End, in.AsOf)) {
				base = r
			}
			break
		}
		base = r
	}
	if base == nil && in.opening {
		for i := range in.Reports {
			if !in.Reports[i].ReportedOn.After(in.AsOf) {
				base = &in.Reports[i]
			}
		}
		if base == nil {
			return 0, nil
		}
	}
	if base == nil {
		return 0, &Error{SubscriptionID: in.Subscription.ID, Reason: fmt.Sprintf(
			"no license report on or before %s for %s-licensed plan %s: the quantity for period %s is unknown",
			calendar.Min(per.End, in.AsOf), in.Plan.LicenseMethod, in.Plan.ID, per)}
	}
	return in.quantity(*base), nil
}

// quantity is what a license report counts under the plan's license method
// (BILLING-RULES 2.1).
func (in *Input) quantity(r dataset.LicenseReport) int64 {
	return LicenseQuantity(in.Plan, in.App, r)
}

// LicenseQuantity is the quantity billed for a license report under plan p of app a
// (BILLING-RULES 2.1): licensed users (licensable users for apps that must be licensed
// for all users), companies other than evaluation companies, or 1 tenant.
func LicenseQuantity(p *dataset.Plan, a *dataset.App, r dataset.LicenseReport) int64 {
	switch p.LicenseMethod {
	case dataset.PerUser:
		if a != nil && a.AllUsersMustBeLicensed {
			return int64(max(r.LicensableUsers, 0))
		}
		return int64(max(r.LicensedUsers, 0))
	case dataset.PerCompany:
		return int64(max(r.Companies, 0) - max(r.EvaluationCompanies, 0))
	case dataset.PerTenant:
		return 1
	}
	return 1
}

// bucket accumulates one usage bucket with integer counters; decimals only at the end.
type bucket struct {
	key             UsageKey
	period          calendar.Period
	events, pspEvts int
	plain, psp      int64 // summed quantities of ordinary and PSP-initiated events
}

// usageCharges rates the events of every period that ended before the as-of date
// (BILLING-RULES 2.4, 2.5).
func usageCharges(in Input, res *SubscriptionResult) {
	buckets := bucketEvents(in, res)
	sort.Slice(buckets, func(i, j int) bool {
		if c := buckets[i].key.PeriodStart.Compare(buckets[j].key.PeriodStart); c != 0 {
			return c < 0
		}
		return buckets[i].key.Type < buckets[j].key.Type
	})
	for _, b := range buckets {
		rateBucket(in, res, b)
	}
	// Buckets with no new events still close when their period ends, so that events
	// arriving after the run are recognised as late.
	sc := res.Schedule
	for _, a := range in.Plan.Usage {
		for per, ok := sc.PeriodAt(sc.Start); ok && per.End.Before(in.AsOf); per, ok = sc.next(per) {
			k := UsageKey{Type: a.Type, PeriodStart: per.Start}
			if _, seen := res.Next.Usage[k]; !seen {
				res.Next.Usage[k] = decimal.Zero
			}
		}
	}
}

// bucketEvents sums the events received by the as-of date into buckets (usage type ×
// closed period) and records each event's fate.
func bucketEvents(in Input, res *SubscriptionResult) []*bucket {
	sc := res.Schedule
	// A subscription has a few buckets (usage types × closed periods): a linear search is
	// cheaper than hashing a string key for every event.
	var buckets []*bucket
	var last *bucket
	days := calendar.NewDays(in.Location)
	for i := range in.Events {
		ev := &in.Events[i]
		if days.OfUnix(ev.ReceivedAt.Unix()).After(in.AsOf) {
			continue // not received yet as of the run date
		}
		day := days.OfUnix(ev.OccurredAt.Unix())
		b := last
		if b == nil || b.key.Type != ev.UsageType || !b.period.Contains(day) {
			per, ok := sc.PeriodAt(day)
			if !ok {
				if sc.Billed() || (!sc.TrialEnd.IsZero() && !day.After(sc.TrialEnd)) {
					res.Fates[i] = OutsideSubscription
				}
				continue
			}
			if !per.End.Before(in.AsOf) {
				continue // the period has not ended: billed by a later run
			}
			b = findBucket(&buckets, UsageKey{Type: ev.UsageType, PeriodStart: per.Start}, per)
		}
		last = b
		b.events++
		if ev.ViaPSP {
			b.pspEvts++
			b.psp += ev.Quantity
		} else {
			b.plain += ev.Quantity
		}
		// Every event in a bucket is rated: each bucket is summarised, whether or not it
		// has overage.
		res.Fates[i] = Rated
	}
	return buckets
}

// findBucket returns the bucket of key k, added (for period per) when there is none.
func findBucket(buckets *[]*bucket, k UsageKey, per calendar.Period) *bucket {
	for _, c := range *buckets {
		if c.key == k {
			return c
		}
	}
	b := &bucket{key: k, period: per}
	*buckets = append(*buckets, b)
	return b
}

// rateBucket rates one bucket: its units (PSP-initiated events weighted) on top of what
// the ledger holds for it, the overage beyond the included units up to the spending limit,
// and the overage charge.
func rateBucket(in Input, res *SubscriptionResult, b *bucket) {
	k := b.key
	ut := in.UsageTypes[k.Type]
	allow, _ := in.Plan.Allowance(k.Type)
	units := decimal.NewFromInt(b.plain)
	if b.psp > 0 {
		units = units.Add(decimal.NewFromInt(b.psp).Mul(ut.PSPWeight.Decimal))
	}
	prior, late := in.Prior.Usage[k]
	total := prior.Add(units)
	res.Next.Usage[k] = total
	if in.opening {
		return // the opening state needs the ledger, not the rating
	}
	limit := in.Subscription.SpendingLimits[k.Type]
	over := overage(total, allow.Included, limit).Sub(overage(prior, allow.Included, limit))
	blocked := blockedUnits(total, limit).Sub(blockedUnits(prior, limit))
	res.Usage = append(res.Usage, UsageSummary{
		SubscriptionID: in.Subscription.ID, UsageType: k.Type, Period: b.period,
		Events: b.events, PSPEvents: b.pspEvts, Units: units, PriorUnits: prior,
		Included: allow.Included, Limit: limit, Overage: over, Blocked: blocked, Late: late,
	})
	if !over.IsPositive() {
		return
	}
	key := k.Type + "/" + k.PeriodStart.String()
	if late {
		key += "/late-" + in.AsOf.String()
	}
	c := in.charge(Overage, key, b.period)
	c.UsageType, c.UnitCode, c.Late, c.Final = k.Type, ut.UnitCode, late, final(res.Schedule, b.period)
	c.Quantity, c.UnitPrice = over, allow.OverageUnitPrice
	c.Used, c.Included = total, allow.Included
	c.Net = over.Mul(allow.OverageUnitPrice).Round(2)
	res.Charges = append(res.Charges, c)
}

// billable is the usage that may be billed: at most the spending limit, included units
// counted; a zero limit means no limit (BILLING-RULES 2.5).
func billable(units, limit decimal.Decimal) decimal.Decimal {
	if limit.IsPositive() && units.GreaterThan(limit) {
		return limit
	}
	return units
}

func overage(units, included, limit decimal.Decimal) decimal.Decimal {
	return decimal.Max(decimal.Zero, billable(units, limit).Sub(included))
}

func blockedUnits(units, limit decimal.Decimal) decimal.Decimal {
	return units.Sub(billable(units, limit))
}

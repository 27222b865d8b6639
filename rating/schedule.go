package rating

import (
	"fmt"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
)

// Trial lengths (BILLING-RULES 2.3): the start day and the 29 days after it, 10 more days
// with the one extension a trial may have.
const (
	TrialDays     = 30
	ExtensionDays = 10
)

// TrialEnd returns the last day of a subscription's trial, or the zero Date without trial.
func TrialEnd(s *dataset.Subscription) calendar.Date {
	if s.TrialStart.IsZero() {
		return calendar.Date{}
	}
	return s.TrialStart.AddDays(TrialDays - 1 + ExtensionDays*s.TrialExtensions)
}

// ExtendTrial returns s with its trial extended by 10 days, as requested on day on. A trial
// can be extended once, while it runs (BILLING-RULES 2.3); anything else is refused.
func ExtendTrial(s dataset.Subscription, on calendar.Date) (dataset.Subscription, error) {
	switch {
	case s.TrialStart.IsZero():
		return s, fmt.Errorf("subscription %s: has no trial to extend", s.ID)
	case s.TrialExtensions >= 1:
		return s, fmt.Errorf("subscription %s: trial was already extended once; a trial can be extended once, by %d days (BILLING-RULES 2.3)", s.ID, ExtensionDays)
	case on.Before(s.TrialStart) || on.After(TrialEnd(&s)):
		return s, fmt.Errorf("subscription %s: trial ran %s..%s; it cannot be extended on %s", s.ID, s.TrialStart, TrialEnd(&s), on)
	}
	s.TrialExtensions++
	return s, nil
}

// Schedule is a subscription's billing calendar as known on a run's as-of date.
type Schedule struct {
	// Start is the first billed day (zero: nothing is billed as of the run date).
	Start calendar.Date
	// TrialEnd is the last day of the trial (zero: no trial).
	TrialEnd calendar.Date
	// End is the last billed day after a cancellation (zero: open-ended).
	End  calendar.Date
	Term dataset.Term
	// firstEnd is the last day of the first period.
	firstEnd calendar.Date
}

// ScheduleOf returns the billing schedule of s under plan p as known on asOf: what is dated
// after asOf (an activation, a cancellation) is not known yet.
//
// Billing starts on the activation date, or the day after the trial ends, whichever is later
// (BILLING-RULES 2.2, 2.3). A cancellation ends the subscription at the end of the billing
// period that contains it (BILLING-RULES 4); one declared before billing started means
// nothing is ever billed.
func ScheduleOf(s *dataset.Subscription, p *dataset.Plan, asOf calendar.Date) Schedule {
	sc := Schedule{TrialEnd: TrialEnd(s), Term: p.Term}
	if s.ActivatedOn.IsZero() || s.ActivatedOn.After(asOf) {
		return sc
	}
	start := s.ActivatedOn
	if !sc.TrialEnd.IsZero() {
		start = calendar.Max(start, sc.TrialEnd.AddDays(1))
	}
	cancelled := !s.CancelledOn.IsZero() && !s.CancelledOn.After(asOf)
	if cancelled && s.CancelledOn.Before(start) {
		return sc
	}
	sc.Start = start
	// Calendar alignment (BILLING-RULES 2.2): the first period runs to the end of the start's
	// month; an annual subscription starting on the 1st has a full 12-month first period.
	sc.firstEnd = start.MonthEnd()
	if p.Term == dataset.Annual && start.Day() == 1 {
		sc.firstEnd = start.AddMonths(12).AddDays(-1)
	}
	if cancelled {
		last, _ := sc.PeriodAt(s.CancelledOn) // CancelledOn >= start, so it is in a period
		sc.End = last.End
	}
	return sc
}

// Billed reports whether anything is billed under the schedule.
func (sc Schedule) Billed() bool { return !sc.Start.IsZero() }

// PeriodAt returns the billing period containing d; ok is false when d is before the
// billing start or after the end.
func (sc Schedule) PeriodAt(d calendar.Date) (p calendar.Period, ok bool) {
	if !sc.Billed() || d.Before(sc.Start) || (!sc.End.IsZero() && d.After(sc.End)) {
		return p, false
	}
	if !d.After(sc.firstEnd) {
		return calendar.Period{Start: sc.Start, End: sc.firstEnd}, true
	}
	if sc.Term == dataset.Monthly {
		return calendar.Period{Start: d.MonthStart(), End: d.MonthEnd()}, true
	}
	anchor := sc.firstEnd.AddDays(1) // a 1st of a month; annual periods start every 12 months
	ay, am, _ := anchor.Date()
	dy, dm, _ := d.Date()
	months := (dy-ay)*12 + int(dm) - int(am)
	start := anchor.AddMonths(months / 12 * 12)
	return calendar.Period{Start: start, End: start.AddMonths(12).AddDays(-1)}, true
}

// next returns the period after p, if the subscription has one.
func (sc Schedule) next(p calendar.Period) (calendar.Period, bool) {
	return sc.PeriodAt(p.End.AddDays(1))
}

// BasisDays is the number of days a period's price refers to: the days of the calendar
// month (monthly) or of the 12-month period starting on the 1st of the month (annual). It
// differs from p.Days() only for a first period that starts after the 1st (BILLING-RULES 2.2).
func (sc Schedule) BasisDays(p calendar.Period) int {
	first := p.Start.MonthStart()
	if sc.Term == dataset.Monthly {
		return first.DaysUntil(first.MonthEnd()) + 1
	}
	return first.DaysUntil(first.AddMonths(12))
}

// Package calendar holds civil dates and the calendar arithmetic of billing periods.
//
// A Date is a day in no particular time zone, as finance speaks of it ("1 November 2026").
// Instants (usage timestamps) become Dates only through an explicit *time.Location, so
// nothing in this package reads a clock or a global time zone.
package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date. The zero Date is "no date"; see IsZero.
type Date struct {
	// n is the number of days since 1970-01-01, plus one, so that the zero value is unset.
	n int32
}

const secondsPerDay = 86400

// New returns the date y-m-d. Out-of-range values normalise as in time.Date.
func New(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{n: int32(t.Unix()/secondsPerDay) + 1}
}

// Parse reads a date written as YYYY-MM-DD.
func Parse(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", s)
	}
	return Of(t, time.UTC), nil
}

// MustParse is Parse for constants in tests and tables; it panics on a malformed date.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Of returns the date of instant t in loc.
func Of(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return New(y, m, d)
}

// IsZero reports whether d is the zero ("no date") value.
func (d Date) IsZero() bool { return d.n == 0 }

// Time returns midnight of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	y, m, day := d.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}

// Date returns the year, month and day of d.
func (d Date) Date() (int, time.Month, int) {
	return time.Unix(int64(d.n-1)*secondsPerDay, 0).UTC().Date()
}

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return Date{n: d.n + int32(n)} }

// AddMonths returns the same day n months later, normalised as time.AddDate does.
func (d Date) AddMonths(n int) Date {
	y, m, day := d.Date()
	return New(y, m+time.Month(n), day)
}

// MonthStart returns the first day of d's month.
func (d Date) MonthStart() Date {
	y, m, _ := d.Date()
	return New(y, m, 1)
}

// MonthEnd returns the last day of d's month.
func (d Date) MonthEnd() Date {
	y, m, _ := d.Date()
	return New(y, m+1, 1).AddDays(-1)
}

// Day returns the day of the month.
func (d Date) Day() int { _, _, day := d.Date(); return day }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.n < e.n }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.n > e.n }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.n < e.n:
		return -1
	case d.n > e.n:
		return 1
	}
	return 0
}

// DaysUntil returns the number of days from d to e (e − d); negative when e is before d.
func (d Date) DaysUntil(e Date) int { return int(e.n - d.n) }

// Max returns the later of d and e.
func Max(d, e Date) Date {
	if d.After(e) {
		return d
	}
	return e
}

// Min returns the earlier of d and e.
func Min(d, e Date) Date {
	if d.Before(e) {
		return d
	}
	return e
}

// String formats d as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	y, m, day := d.Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), day)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; an empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Period is an inclusive range of days [Start, End].
type Period struct {
	Start Date `json:"start"`
	End   Date `json:"end"`
}

// Days returns the number of days in p, both ends included.
func (p Period) Days() int { return p.Start.DaysUntil(p.End) + 1 }

// Contains reports whether d lies within p.
func (p Period) Contains(d Date) bool { return !d.Before(p.Start) && !d.After(p.End) }

func (p Period) String() string { return p.Start.String() + ".." + p.End.String() }

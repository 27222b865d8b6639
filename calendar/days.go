package calendar

import (
	"math"
	"time"
)

// Days converts instants to dates in one time zone, as Of does, and faster where there
// are many instants: it remembers the zone periods (standard time, summer time) it has
// met, with their offsets, so that an instant in one of them takes an addition and a
// division instead of a zone lookup and a calendar conversion. The zero Days is not
// usable; a Days is not safe for concurrent use.
type Days struct {
	loc     *time.Location
	n       int
	periods [4]zonePeriod // the last met; a usage period meets one or two
}

// zonePeriod is a span of Unix seconds [start, end) with one offset from UTC.
type zonePeriod struct{ start, end, offset int64 }

// NewDays returns a Days for loc.
func NewDays(loc *time.Location) Days { return Days{loc: loc} }

// Of returns the date of instant t, as Of(t, loc).
func (d *Days) Of(t time.Time) Date { return d.OfUnix(t.Unix()) }

// OfUnix returns the date of the instant u seconds after 1970-01-01 UTC, as
// Of(time.Unix(u, 0), loc).
func (d *Days) OfUnix(u int64) Date {
	for i := range d.n {
		if p := &d.periods[i]; u >= p.start && u < p.end {
			return dayOf(u + p.offset)
		}
	}
	local := time.Unix(u, 0).In(d.loc)
	_, offset := local.Zone()
	p := zonePeriod{start: math.MinInt64, end: math.MaxInt64, offset: int64(offset)}
	start, end := local.ZoneBounds() // zero where the zone has no start or no end
	if !start.IsZero() {
		p.start = start.Unix()
	}
	if !end.IsZero() {
		p.end = end.Unix()
	}
	copy(d.periods[1:], d.periods[:len(d.periods)-1])
	d.periods[0] = p
	d.n = min(d.n+1, len(d.periods))
	return dayOf(u + p.offset)
}

// dayOf is the date of a count of seconds since 1970-01-01 00:00 (local time).
func dayOf(sec int64) Date {
	days := sec / secondsPerDay
	if sec%secondsPerDay < 0 {
		days-- // floor, for instants before 1970
	}
	return Date{n: int32(days) + 1}
}

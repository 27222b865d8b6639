package dataset

import (
	"encoding/csv"
	"errors"
	"hash/maphash"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

var maxQuantity = decimal.NewFromInt(1e12)

// usage reads the usage files and calls emit for each distinct valid event, while no
// problem has been found (see Usage.Each).
//
// An event may be sent more than once (BILLING-RULES 2.4); its copies must be compared
// and the event counted once. Holding every event ID read would take memory in
// proportion to the files, so the files are read twice: first only the event IDs,
// hashed (8 bytes an event, sorted to find the hashes on more than one row), then in
// full. Events whose ID hash appears once are emitted as they are read; the others,
// a few percent, are held until every copy is read, and emitted last.
func (l *loader) usage(emit func(*UsageEvent) error) error {
	files, err := fs.Glob(l.fsys, UsagePattern)
	if err != nil {
		l.add(&Error{File: UsagePattern, Reason: err.Error()})
		return nil
	}
	sort.Strings(files)
	seed := maphash.MakeSeed()
	resent := l.repeatedIDs(files, seed)
	if l.progress != nil {
		var total, read int64
		for _, f := range files {
			if st, err := fs.Stat(l.fsys, f); err == nil {
				total += st.Size()
			}
		}
		l.progress(0, total)
		l.onRead = func(n int) { read += int64(n); l.progress(read, total) }
		defer func() { l.onRead = nil }()
	}
	send := func(ev *UsageEvent) {
		if len(l.errs) == 0 && l.halt == nil {
			l.halt = emit(ev)
		}
	}
	// First copies of the events whose ID hash is repeated, with the line they came from.
	type first struct {
		ev   UsageEvent
		file string
		line int
	}
	held := map[string]*first{}
	var order []*first
	for _, file := range files {
		l.readCSV(path.Base(file), []string{"event_id", "subscription_id", "usage_type", "quantity", "occurred_at"},
			[]string{"received_at", "via_psp"}, func(r *row) {
				ev := l.event(r)
				if r.bad {
					return
				}
				if _, ok := resent[maphash.String(seed, ev.ID)]; !ok {
					send(&ev)
					return
				}
				f := held[ev.ID]
				if f == nil {
					f = &first{ev: ev, file: file, line: r.line}
					held[ev.ID] = f
					order = append(order, f)
					return
				}
				if !sameEvent(&f.ev, &ev) {
					r.fail("event_id", "%q was already used for a different event (%s:%d)", ev.ID, f.file, f.line)
					return
				}
				l.ds.Duplicates++
				if ev.ReceivedAt < f.ev.ReceivedAt {
					f.ev.ReceivedAt = ev.ReceivedAt // the event arrived with its first copy
				}
			})
		if l.tooMany() || l.halt != nil {
			return l.halt
		}
	}
	for _, f := range order {
		send(&f.ev)
	}
	return l.halt
}

// event reads and checks one usage row.
func (l *loader) event(r *row) UsageEvent {
	ev := UsageEvent{ID: r.required("event_id")}
	r.record = ev.ID
	ev.SubscriptionID = r.id("subscription_id")
	sub, p := l.planOf(r, "subscription_id", ev.SubscriptionID)
	if sub != nil {
		ev.SubscriptionID = sub.ID // one string per subscription, not per event
	}
	ev.UsageType = r.required("usage_type")
	if ut := l.ds.Catalog.UsageTypeByID[ev.UsageType]; ut != nil {
		ev.UsageType = ut.ID // shared: rating compares usage types per event, equal ones then by pointer
	}
	// Quantities are whole numbers: most parse as one; anything else gets the decimal
	// reading and its messages.
	if n, err := strconv.ParseInt(r.str("quantity"), 10, 64); err == nil && n >= 1 && n <= 1e12 {
		ev.Quantity = n
	} else if r.failedOn("quantity") {
		// not UTF-8, or a control character: reported
	} else if q, ok := r.decimal("quantity"); ok {
		if !q.IsInteger() || !q.IsPositive() || q.GreaterThan(maxQuantity) {
			r.fail("quantity", "must be a whole number from 1 to 10^12, got %s", q)
		} else {
			ev.Quantity = q.IntPart()
		}
	} else if !r.bad {
		r.fail("quantity", "is required")
	}
	occurred := r.instant("occurred_at")
	if occurred.IsZero() && !r.bad {
		r.fail("occurred_at", "is required")
	}
	r.representable("occurred_at", occurred)
	received := r.instant("received_at")
	if received.IsZero() {
		received = occurred
	} else if received.Before(occurred) {
		r.fail("received_at", "%s is before occurred_at", received.Format(time.RFC3339))
	} else {
		r.representable("received_at", received)
	}
	ev.OccurredAt, ev.ReceivedAt = InstantOf(occurred), InstantOf(received)
	ev.ViaPSP = r.boolean("via_psp")
	if p != nil && ev.UsageType != "" {
		if _, ok := p.Allowance(ev.UsageType); !ok {
			r.fail("usage_type", "%q is not a usage type of plan %s", ev.UsageType, p.ID)
		} else if ev.ViaPSP && !l.ds.Catalog.UsageTypeByID[ev.UsageType].PSPWeight.Valid {
			r.fail("via_psp", "usage type %s has no PSP weighting; only payment instructions can be initiated via a PSP", ev.UsageType)
		}
	}
	return ev
}

// representable fails col unless t is zero (not given) or can be held as an Instant.
func (r *row) representable(col string, t time.Time) {
	if !t.IsZero() && (t.Before(MinInstant) || t.After(MaxInstant)) {
		r.fail(col, "%s is outside the years %d to %d", t.Format(time.RFC3339), MinInstant.Year()+1, MaxInstant.Year()-1)
	}
}

// sameEvent reports whether two rows with one event ID describe the same event; a resent
// event may differ only in when it was received.
func sameEvent(a, b *UsageEvent) bool {
	return a.SubscriptionID == b.SubscriptionID && a.UsageType == b.UsageType &&
		a.Quantity == b.Quantity && a.OccurredAt == b.OccurredAt && a.ViaPSP == b.ViaPSP
}

// repeatedIDs returns the hashes of the event IDs found on more than one row of the
// usage files. It reports nothing: a file it cannot read is reported by the full read.
// Two IDs with one hash only make both held, never wrong.
func (l *loader) repeatedIDs(files []string, seed maphash.Seed) map[uint64]struct{} {
	var hashes []uint64
	for _, file := range files {
		hashes = appendIDHashes(hashes, l.fsys, file, seed)
	}
	slices.Sort(hashes)
	repeated := map[uint64]struct{}{}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			repeated[hashes[i]] = struct{}{}
		}
	}
	return repeated
}

func appendIDHashes(hashes []uint64, fsys fs.FS, file string, seed maphash.Seed) []uint64 {
	f, err := fsys.Open(file)
	if err != nil {
		return hashes
	}
	defer func() { _ = f.Close() }() // read only
	cr := csvReader(f)
	header, err := cr.Read()
	if err != nil {
		return hashes
	}
	col := slices.IndexFunc(header, func(h string) bool {
		return strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == "event_id"
	})
	if col < 0 {
		return hashes
	}
	if st, err := f.Stat(); err == nil && hashes == nil {
		hashes = make([]uint64, 0, st.Size()/48) // a usage row has about 60 bytes
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return hashes
		}
		var pe *csv.ParseError
		if err != nil && (!errors.As(err, &pe) || errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)) {
			return hashes
		}
		if err == nil && col < len(rec) {
			hashes = append(hashes, maphash.String(seed, strings.TrimSpace(rec[col])))
		}
	}
}

// countingReader tells onRead how many bytes were read, about every 4 MiB.
type countingReader struct {
	r      io.Reader
	n      int
	onRead func(int)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= 4<<20 || (err != nil && c.n > 0) {
		c.onRead(c.n)
		c.n = 0
	}
	return n, err
}

// Ledgers and unsettled usage as a run reads them, part by part.

package store

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// Ledger is what earlier runs billed, by subscription, as a run read it.
type Ledger struct {
	// Priors holds the ledger of every subscription a run billed before.
	Priors map[string]rating.Prior
	// versions holds the run that wrote each subscription's ledger, as read: a changed
	// ledger is stored only over that version.
	versions map[string]int64
}

// Prior returns the ledger of subscription sub, and whether a run billed it before.
func (l Ledger) Prior(sub string) (rating.Prior, bool) {
	p, ok := l.Priors[sub]
	return p, ok
}

// Ledger returns what earlier runs billed for the subscriptions subs (nil: for all), by
// subscription.
func (s *Store) Ledger(ctx context.Context, subs []string) (Ledger, error) {
	return readLedger(ctx, s.pool, subs)
}

// querier runs queries: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// readLedger reads the ledger of the subscriptions subs (nil: of all).
func readLedger(ctx context.Context, q querier, subs []string) (Ledger, error) {
	led := Ledger{Priors: make(map[string]rating.Prior, len(subs)), versions: make(map[string]int64, len(subs))}
	query := `select subscription_id, run_id, advance_starts::text[], advance_quantities,
		usage_types, usage_starts::text[], usage_units::text[] from ledger`
	var args []any
	if subs != nil {
		query += ` where subscription_id = any($1)`
		args = append(args, subs)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return led, fmt.Errorf("load ledger: %w", err)
	}
	var sub string
	var version int64
	var advStarts, useTypes, useStarts, useUnits []string
	var advQty []int64
	// Usage types repeat across subscriptions: kept once each.
	types := map[string]string{}
	if _, err := pgx.ForEachRow(rows, []any{&sub, &version, &advStarts, &advQty, &useTypes, &useStarts, &useUnits}, func() error {
		if len(advStarts) != len(advQty) || len(useTypes) != len(useStarts) || len(useTypes) != len(useUnits) {
			return fmt.Errorf("subscription %s: arrays of unequal length", sub)
		}
		p := rating.Prior{Advance: make(map[calendar.Date]int64, len(advStarts)), Usage: make(map[rating.UsageKey]decimal.Decimal, len(useTypes))}
		for i, day := range advStarts {
			d, err := calendar.Parse(day)
			if err != nil {
				return fmt.Errorf("subscription %s: %w", sub, err)
			}
			p.Advance[d] = advQty[i]
		}
		for i, typ := range useTypes {
			d, err := calendar.Parse(useStarts[i])
			if err != nil {
				return fmt.Errorf("subscription %s: %w", sub, err)
			}
			u, err := decimal.NewFromString(useUnits[i])
			if err != nil {
				return fmt.Errorf("subscription %s: %w", sub, err)
			}
			if t, ok := types[typ]; ok {
				typ = t
			} else {
				types[typ] = typ
			}
			p.Usage[rating.UsageKey{Type: typ, PeriodStart: d}] = u
		}
		led.Priors[sub], led.versions[sub] = p, version
		return nil
	}); err != nil {
		return led, fmt.Errorf("load ledger: %w", err)
	}
	return led, nil
}

// Window is a range of usage event numbers (import order): above From, up to Through.
type Window struct{ From, Through int64 }

// Unsettled is the usage no run has settled, as a run reads it.
type Unsettled struct {
	// Events by subscription, in no particular order.
	Events map[string][]dataset.UsageEvent
	// Read is what was read; SaveAssembly and Assembler.Save need it back (Assembly.Read).
	Read UsageRead
}

// UsageRead is the usage a run read: the events imported since the last run (Window)
// and the Held ones earlier runs held back, by number (usage_events.seq) all of them, in
// ascending order.
type UsageRead struct {
	Window Window
	Held   int
	Seqs   []int64
	// events are the events read, all of them: settling holds back those not settled
	// from them. Rating may reorder them, never change them.
	events []dataset.UsageEvent
}

// UnsettledEvents returns the usage events no run has settled, by subscription: those
// imported since the last run and those earlier runs held back, all at once (ReadUsage
// reads them part by part). The reads share one snapshot. The caller holds RunLock (as a
// run does), so that no import is numbering events meanwhile.
func (s *Store) UnsettledEvents(ctx context.Context) (Unsettled, error) {
	r, err := s.ReadUsage(ctx, nil)
	if err != nil {
		return Unsettled{}, err
	}
	defer r.Close(ctx)
	return r.Next(ctx)
}

// UsageReader reads the unsettled usage of a run part by part (Store.ReadUsage): one
// query in one snapshot, so that a run holds one part's events at a time.
type UsageReader struct {
	tx     pgx.Tx
	rows   pgx.Rows
	window Window
	parts  int
	part   int // the part Next reads next
	// next is a row read that belongs to a later part than the one being read.
	next     dataset.UsageEvent
	nextHeld bool
	nextPart int
	hasNext  bool
	names    map[string]string
	// sizeHint is the room a part's lists get up front: a little more than the last
	// part's events (parts are of about one size), so that they are not grown by copying.
	sizeHint int
}

// ReadUsage starts reading the usage no run has settled (the events imported since the
// last run and those earlier runs held back) in parts: parts[i] lists the subscriptions of
// part i, and the i-th call of Next returns their events (the last part also those of
// subscriptions in no part). With no parts, one call returns all. The reads share one
// snapshot; the caller holds RunLock (as a run does), so that no import is numbering
// events meanwhile, and closes the reader.
func (s *Store) ReadUsage(ctx context.Context, parts [][]string) (*UsageReader, error) {
	r := &UsageReader{parts: max(len(parts), 1), names: map[string]string{}}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("load usage: %w", err)
	}
	r.tx = tx
	// The last number handed out (usage_events.seq; a number of an import rolled back is
	// a gap, which the count check of settling tolerates): the run lock keeps imports out.
	if err := tx.QueryRow(ctx, `select c.seq, greatest(c.seq,
			coalesce(pg_sequence_last_value(pg_get_serial_sequence('usage_events', 'seq')), 0)) from usage_cursor c`).
		Scan(&r.window.From, &r.window.Through); err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("load usage: %w", err)
	}
	// The events are read by number, not by their text ID: settling needs no more, and a
	// run of 10 million events holds no 10 million ID strings. Held events are kept whole.
	unsettled := `select seq, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp, true as held
		from usage_held
		union all
		select seq, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp, false
		from usage_events where seq > $1 and seq <= $2`
	if r.parts == 1 {
		r.rows, err = tx.Query(ctx, `select *, 0 from (`+unsettled+`) e`, r.window.From, r.window.Through)
	} else {
		// PostgreSQL sorts the events by part (spilling to disk where they exceed its
		// work_mem), so that they come part after part.
		var subs []string
		var of []int32
		for i, p := range parts {
			for _, sub := range p {
				subs, of = append(subs, sub), append(of, int32(i))
			}
		}
		r.rows, err = tx.Query(ctx, `select e.*, coalesce(p.part, $5) as part from (`+unsettled+`) e
			left join unnest($3::text[], $4::int[]) as p(subscription_id, part) using (subscription_id)
			order by 9`, r.window.From, r.window.Through, subs, of, r.parts-1)
	}
	if err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("load usage: %w", err)
	}
	if err := r.read(); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("load usage: %w", err)
	}
	return r, nil
}

// Window is the range of event numbers the reader reads (besides the held events).
func (r *UsageReader) Window() Window { return r.window }

// Parts is the number of parts, the calls of Next that return usage.
func (r *UsageReader) Parts() int { return r.parts }

// read reads the next row into r.next; hasNext is false at the end.
func (r *UsageReader) read() error {
	r.hasNext = r.rows.Next()
	if !r.hasNext {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return fmt.Errorf("load usage: %w", err)
		}
		return nil
	}
	// Subscription and usage type IDs repeat across millions of events: they are read
	// from the driver's buffer and kept once each, so events share them (less memory, and
	// comparing two equal ones is then a pointer check).
	var sub, typ pgtype.DriverBytes
	var occurred, received time.Time
	var part int32
	e := &r.next
	if err := r.rows.Scan(&e.Seq, &sub, &typ, &e.Quantity, &occurred, &received, &e.ViaPSP, &r.nextHeld, &part); err != nil {
		r.rows.Close()
		return fmt.Errorf("load usage: event number %d: %w", e.Seq, err)
	}
	e.SubscriptionID, e.UsageType = r.intern(sub), r.intern(typ)
	e.OccurredAt, e.ReceivedAt = dataset.InstantOf(occurred), dataset.InstantOf(received)
	r.nextPart = int(part)
	return nil
}

func (r *UsageReader) intern(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	s := string(b)
	r.names[s] = s
	return s
}

// Next returns the unsettled usage of the next part; after the last part it returns
// io.EOF.
func (r *UsageReader) Next(ctx context.Context) (Unsettled, error) {
	out := Unsettled{Read: UsageRead{Window: r.window}}
	if r.part >= r.parts {
		return out, io.EOF
	}
	events := make([]dataset.UsageEvent, 0, r.sizeHint)
	out.Read.Seqs = make([]int64, 0, r.sizeHint)
	for r.hasNext && r.nextPart <= r.part {
		if r.nextPart < r.part {
			return out, fmt.Errorf("load usage: event number %d comes after its part", r.next.Seq)
		}
		if r.nextHeld {
			out.Read.Held++
		}
		events = append(events, r.next)
		out.Read.Seqs = append(out.Read.Seqs, r.next.Seq)
		if err := r.read(); err != nil {
			return out, fmt.Errorf("load usage of part %d: %w", r.part+1, err)
		}
	}
	r.part++
	r.sizeHint = len(events) + len(events)/8
	// A part's subscriptions are in no other part: their names are not needed again.
	clear(r.names)
	out.Events = dataset.GroupBySubscription(events)
	out.Read.events = events
	slices.Sort(out.Read.Seqs)
	return out, nil
}

// Close ends the reading; closing again does nothing.
func (r *UsageReader) Close(ctx context.Context) {
	r.rows.Close()
	r.tx.Rollback(ctx)
}

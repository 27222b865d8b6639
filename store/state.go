package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// Dataset loads the stored dataset (without usage events).
func (s *Store) Dataset(ctx context.Context) (*dataset.Dataset, error) {
	rows, err := s.pool.Query(ctx, `select kind, doc from dataset_records order by kind, id`)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	defer rows.Close()
	ds := &dataset.Dataset{LicenseReports: map[string][]dataset.LicenseReport{}}
	seen := map[string]bool{}
	for rows.Next() {
		var kind string
		var doc []byte
		if err := rows.Scan(&kind, &doc); err != nil {
			return nil, fmt.Errorf("load dataset: %w", err)
		}
		seen[kind] = true
		var err error
		switch kind {
		case "manifest":
			err = json.Unmarshal(doc, &ds.Manifest)
		case "seller":
			err = json.Unmarshal(doc, &ds.Seller)
		case "catalog":
			err = json.Unmarshal(doc, &ds.Catalog)
		case "customer":
			c := &dataset.Customer{}
			err = json.Unmarshal(doc, c)
			ds.Customers = append(ds.Customers, c)
		case "partner":
			p := &dataset.Partner{}
			err = json.Unmarshal(doc, p)
			ds.Partners = append(ds.Partners, p)
		case "subscription":
			sub := &dataset.Subscription{}
			err = json.Unmarshal(doc, sub)
			ds.Subscriptions = append(ds.Subscriptions, sub)
		case "license_report":
			var r dataset.LicenseReport
			err = json.Unmarshal(doc, &r)
			ds.LicenseReports[r.SubscriptionID] = append(ds.LicenseReports[r.SubscriptionID], r)
		}
		if err != nil {
			return nil, fmt.Errorf("load dataset: %s record: %w", kind, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	if !seen["seller"] || !seen["catalog"] {
		return nil, fmt.Errorf("load dataset: nothing imported yet (run kontor import --data DIR)")
	}
	if err := ds.Index(); err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	return ds, nil
}

// Seller returns the imported seller, its time zone resolved: what a command needs before
// a run loads the whole dataset (the date in the seller's time zone).
func (s *Store) Seller(ctx context.Context) (dataset.Seller, error) {
	var seller dataset.Seller
	var doc []byte
	err := s.pool.QueryRow(ctx, `select doc from dataset_records where kind = 'seller' and id = '-'`).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return seller, fmt.Errorf("load seller: nothing imported yet (run kontor import --data DIR)")
	}
	if err != nil {
		return seller, fmt.Errorf("load seller: %w", err)
	}
	if err := json.Unmarshal(doc, &seller); err != nil {
		return seller, fmt.Errorf("load seller: %w", err)
	}
	if seller.Location, err = time.LoadLocation(seller.TimeZone); err != nil {
		return seller, fmt.Errorf("load seller: time zone: %w", err)
	}
	return seller, nil
}

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

// Ledger returns what earlier runs billed, by subscription.
func (s *Store) Ledger(ctx context.Context) (Ledger, error) {
	led := Ledger{Priors: map[string]rating.Prior{}, versions: map[string]int64{}}
	rows, err := s.pool.Query(ctx, `select subscription_id, run_id, advance_starts::text[], advance_quantities,
		usage_types, usage_starts::text[], usage_units::text[] from ledger`)
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
	// Read is what was read; SaveAssembly needs it back (Assembly.Read).
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

// maxPresize bounds how many events UnsettledEvents makes room for before reading
// (33 million: 2.9 GB).
const maxPresize = 1 << 25

// UnsettledEvents returns the usage events no run has settled, by subscription: those
// imported since the last run and those earlier runs held back. The reads share one
// snapshot. The caller holds RunLock (as a run does), so that no import is numbering
// events meanwhile.
func (s *Store) UnsettledEvents(ctx context.Context) (Unsettled, error) {
	var out Unsettled
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return out, fmt.Errorf("load usage: %w", err)
	}
	defer tx.Rollback(ctx)
	// The last number handed out (usage_events.seq; a number of an import rolled back is
	// a gap, which the count check of settle tolerates): the run lock keeps imports out.
	if err := tx.QueryRow(ctx, `select c.seq, greatest(c.seq,
			coalesce(pg_sequence_last_value(pg_get_serial_sequence('usage_events', 'seq')), 0)) from usage_cursor c`).
		Scan(&out.Read.Window.From, &out.Read.Window.Through); err != nil {
		return out, fmt.Errorf("load usage: %w", err)
	}
	// The window's numbers and the held events bound how many events are read (fewer
	// where an import rolled back left a gap): one array of that size holds them all,
	// grouped in place afterwards, instead of one growing array per subscription.
	var heldCount int64
	if err := tx.QueryRow(ctx, `select count(*) from usage_held`).Scan(&heldCount); err != nil {
		return out, fmt.Errorf("load usage: %w", err)
	}
	// Numbers an import that rolled back took are never used, so the bound may exceed
	// what is read; memory reserved and never written is not resident, and beyond
	// maxPresize events the array grows as it is filled instead.
	bound := min(heldCount+out.Read.Window.Through-out.Read.Window.From, maxPresize)
	events := make([]dataset.UsageEvent, 0, bound)
	out.Read.Seqs = make([]int64, 0, bound)
	// The events are read by number, not by their text ID: settling needs no more, and a
	// run of 10 million events holds no 10 million ID strings. Held events are kept whole.
	rows, err := tx.Query(ctx, `select seq, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp, true
		from usage_held
		union all
		select seq, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp, false
		from usage_events where seq > $1 and seq <= $2`, out.Read.Window.From, out.Read.Window.Through)
	if err != nil {
		return out, fmt.Errorf("load usage: %w", err)
	}
	// Subscription and usage type IDs repeat across millions of events: they are read
	// from the driver's buffer and kept once each, so events share them (less memory, and
	// comparing two equal ones is then a pointer check).
	names := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := string(b)
		names[s] = s
		return s
	}
	var e dataset.UsageEvent
	var sub, typ pgtype.DriverBytes
	var occurred, received time.Time
	var held bool
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &sub, &typ, &e.Quantity, &occurred, &received, &e.ViaPSP, &held}, func() error {
		if held {
			out.Read.Held++
		}
		e.SubscriptionID, e.UsageType = intern(sub), intern(typ)
		e.OccurredAt, e.ReceivedAt = dataset.InstantOf(occurred), dataset.InstantOf(received)
		events = append(events, e)
		out.Read.Seqs = append(out.Read.Seqs, e.Seq)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("load usage: %w", err)
	}
	out.Events = dataset.GroupBySubscription(events)
	out.Read.events = events
	// Stored in import order, the window comes in ascending order (a sort is then one
	// pass); held events are not always below it.
	if !slices.IsSorted(out.Read.Seqs) {
		slices.Sort(out.Read.Seqs)
	}
	return out, nil
}

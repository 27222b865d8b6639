package store_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
)

// demo returns a new store with the demo dataset imported.
func demo(t *testing.T) *store.Store {
	t.Helper()
	_, st := storetest.New(t)
	ds, err := dataset.LoadDir("../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return st
}

// assemble rates the stored dataset as of asOf from the stored ledger and unsettled usage
// the way a run does and returns its assembly for run runID, and the usage it read.
func assemble(t *testing.T, st *store.Store, runID int64, asOf string) (store.Assembly, store.Unsettled) {
	t.Helper()
	ctx := context.Background()
	ds, err := st.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := st.Ledger(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	usage, err := st.UnsettledEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	date := calendar.MustParse(asOf)
	res, outcomes := rating.RunFrom(ds, ds.Subscriptions, date, usage.Events, ledger.Prior)
	batch := invoice.Assemble(ds, res, invoice.Options{IssueDate: date})
	return store.Assembly{RunID: runID, Invoices: batch.Invoices, Charges: res.Charges, Skipped: batch.Skipped,
		Outcomes: outcomes, Ledger: ledger, Usage: res.Usage, Read: usage.Read}, usage
}

// count is the number of events.
func count(events map[string][]dataset.UsageEvent) int {
	n := 0
	for _, evs := range events {
		n += len(evs)
	}
	return n
}

// TestSaveAssemblyStoresAllOrNothing saves the demo run's assembly, then assemblies that
// contradict what is stored: each fails naming the record, and stores nothing.
func TestSaveAssemblyStoresAllOrNothing(t *testing.T) {
	ctx := context.Background()
	st := demo(t)
	first, err := st.StartRun(ctx, calendar.MustParse("2026-11-01"), "")
	if err != nil {
		t.Fatal(err)
	}
	a, read := assemble(t, st, first, "2026-11-01")
	settled := 0
	for _, o := range a.Outcomes {
		settled += len(o.Settled)
	}
	if len(a.Invoices) != 25 || settled == 0 {
		t.Fatalf("demo assembly: %d invoices, %d settled events; want 25 and some", len(a.Invoices), settled)
	}
	if err := st.SaveAssembly(ctx, a); err != nil {
		t.Fatal(err)
	}
	drafts, err := st.Invoices(ctx, "draft")
	if err != nil {
		t.Fatal(err)
	}
	if len(drafts) != 25 {
		t.Fatalf("%d drafts stored, want 25", len(drafts))
	}
	left, err := st.UnsettledEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settledSeqs := map[int64]bool{}
	for _, o := range a.Outcomes {
		for _, s := range o.Settled {
			settledSeqs[s.Seq] = true
		}
	}
	for sub, evs := range left.Events {
		for _, e := range evs {
			if settledSeqs[e.Seq] {
				t.Errorf("event %d of %s settled by the run but still unsettled", e.Seq, sub)
			}
		}
	}
	// The events the run read and did not settle are held for the next run, which reads
	// nothing else: no event was imported since.
	held := 0
	for sub, evs := range read.Events {
		for _, e := range evs {
			if !settledSeqs[e.Seq] {
				held++
				if !slices.ContainsFunc(left.Events[sub], func(l dataset.UsageEvent) bool { return l == e }) {
					t.Errorf("event %d of %s was read, not settled, and is not held whole for the next run", e.Seq, sub)
				}
			}
		}
	}
	if n := count(left.Events); n != held || held == 0 || left.Read.Window.From != read.Read.Window.Through || left.Read.Window.Through != read.Read.Window.Through {
		t.Errorf("next run reads %d events in window %+v; want the %d held and an empty window after %+v", n, left.Read.Window, held, read.Read.Window)
	}
	before := storetest.Fingerprint(t, st, "")

	// The ledger as the first run stored it, as a run reads it.
	ledger, err := st.Ledger(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ledger.Prior(a.Outcomes[0].SubscriptionID); !ok || len(ledger.Priors) != len(a.Outcomes) || len(p.Advance) != len(a.Outcomes[0].Next.Advance) {
		t.Fatalf("ledger read back: %d subscriptions (%v), want %d", len(ledger.Priors), ok, len(a.Outcomes))
	}
	withSettled := func(events ...rating.SettledEvent) store.Assembly {
		o := a.Outcomes[0]
		o.Settled = events
		return store.Assembly{Outcomes: []rating.Outcome{o}, Ledger: ledger, Read: left.Read}
	}
	var sub, event string
	var seq int64
	for _, o := range a.Outcomes {
		if len(o.Settled) > 0 {
			sub, seq = o.SubscriptionID, o.Settled[0].Seq
			break
		}
	}
	if err := st.Pool().QueryRow(ctx, `select event_id from usage_events where seq = $1`, seq).Scan(&event); err != nil {
		t.Fatal(err)
	}
	// An event the next run reads (held by the first).
	heldSeq := left.Read.Seqs[0]
	var heldEvent string
	if err := st.Pool().QueryRow(ctx, `select event_id from usage_events where seq = $1`, heldSeq).Scan(&heldEvent); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		a    store.Assembly
		is   error
		want string
	}{
		{"the same charges again", store.Assembly{Invoices: a.Invoices, Charges: a.Charges, Read: left.Read},
			store.ErrAlreadyBilled, "charge " + a.Invoices[0].Lines[0].ChargeKey},
		{"an event settled before", withSettled(rating.SettledEvent{Seq: seq, Fate: rating.Rated}),
			nil, "usage of subscription " + sub + ": event " + event + " was settled already by run"},
		{"an event settled twice", withSettled(rating.SettledEvent{Seq: heldSeq, Fate: rating.Rated}, rating.SettledEvent{Seq: heldSeq, Fate: rating.Rated}),
			nil, "event " + heldEvent + " is settled twice"},
		{"an event that is not stored", withSettled(rating.SettledEvent{Seq: 1 << 40, Fate: rating.Rated}),
			nil, "event number 1099511627776 is not stored"},
		{"a ledger read before the last run stored it", func() store.Assembly {
			as := withSettled()
			as.Ledger = store.Ledger{}
			return as
		}(), nil, "ledger: a subscription's ledger is stored in another version than the run read"},
		{"a ledger changed since the run read it", func() store.Assembly {
			as := withSettled()
			o := as.Outcomes[0]
			o.Next = rating.Prior{Advance: map[calendar.Date]int64{calendar.MustParse("2099-01-01"): 1}}
			as.Outcomes = []rating.Outcome{o}
			stale, err := st.Ledger(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Another run (number 999999) stores this subscription's ledger after this one
			// read it.
			if _, err := st.Pool().Exec(ctx, `update ledger set run_id = 999999 where subscription_id = $1`, o.SubscriptionID); err != nil {
				t.Fatal(err)
			}
			as.Ledger = stale
			return as
		}(), nil, "ledger: a subscription's ledger is stored in another version than the run read"},
		{"a read that leaves out the held events", store.Assembly{Read: store.UsageRead{Window: left.Read.Window}},
			nil, "the usage read is incomplete"},
		{"usage read before the last run settled it", store.Assembly{Read: read.Read},
			nil, "the usage was read before another run settled usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := st.StartRun(ctx, calendar.MustParse("2026-11-01"), "")
			if err != nil {
				t.Fatal(err)
			}
			tc.a.RunID = run
			err = st.SaveAssembly(ctx, tc.a)
			if err == nil {
				t.Fatal("saved")
			}
			t.Log(err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if after := storetest.Fingerprint(t, st, ""); after != before {
				t.Error("a failed assembly changed what is stored")
			}
		})
	}
}

// TestHeldEventsAreSettledByALaterRun runs the demo as of 2026-11-01 and 2026-12-01: the
// events the first run held back (November's, not due yet) are settled by the second,
// leave usage_held, and no event is ever both settled and held, or settled twice.
func TestHeldEventsAreSettledByALaterRun(t *testing.T) {
	ctx := context.Background()
	st := demo(t)
	var cursor int64
	for i, asOf := range []string{"2026-11-01", "2026-12-01"} {
		run, err := st.StartRun(ctx, calendar.MustParse(asOf), "")
		if err != nil {
			t.Fatal(err)
		}
		a, usage := assemble(t, st, run, asOf)
		settledHeld := 0
		for _, o := range a.Outcomes {
			for _, e := range o.Settled {
				if e.Seq <= usage.Read.Window.From {
					settledHeld++
				}
			}
		}
		if err := st.SaveAssembly(ctx, a); err != nil {
			t.Fatalf("run as of %s: %v", asOf, err)
		}
		var held, settled, both, twice int
		if err := st.Pool().QueryRow(ctx, `with s as (select unnest(seqs) as seq from usage_settled)
			select (select count(*) from usage_held), (select count(*) from s),
				(select count(*) from s join usage_held using (seq)),
				(select count(*) from (select seq from s group by seq having count(*) > 1) d)`).Scan(&held, &settled, &both, &twice); err != nil {
			t.Fatal(err)
		}
		t.Logf("as of %s: %d read (%d held before), %d settled of them held before; now %d settled, %d held", asOf, len(usage.Read.Seqs), usage.Read.Held, settledHeld, settled, held)
		if both != 0 || twice != 0 {
			t.Errorf("%d events both settled and held, %d settled twice", both, twice)
		}
		switch i {
		case 0:
			cursor = usage.Read.Window.Through
			if held == 0 || usage.Read.Held != 0 {
				t.Fatalf("the first run held %d events (read %d held); want some, none", held, usage.Read.Held)
			}
		case 1:
			if usage.Read.Window.From != cursor || usage.Read.Held == 0 || settledHeld == 0 || held >= usage.Read.Held {
				t.Errorf("the second run read from %d (cursor %d) %d held events, settled %d of them, %d still held; want the held ones read and some settled",
					usage.Read.Window.From, cursor, usage.Read.Held, settledHeld, held)
			}
		}
		var stored int
		if err := st.Pool().QueryRow(ctx, `select count(*) from usage_events`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if settled+held != stored {
			t.Errorf("%d settled + %d held of %d stored events: every event read is one or the other", settled, held, stored)
		}
	}
}

// TestReadUsageInParts reads the demo's unsettled usage in parts of subscriptions, one
// subscription left out of every part: each part gets exactly its subscriptions' events
// (the last also the left-out one's), the parts together are what one read returns, and
// each part's numbers are its events', ascending.
func TestReadUsageInParts(t *testing.T) {
	ctx := context.Background()
	st := demo(t)
	all, err := st.UnsettledEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := "S-002" // has events, in no part
	if len(all.Events[left]) == 0 {
		t.Fatalf("%s has no events", left)
	}
	parts := make([][]string, 3)
	partOf := map[string]int{}
	for i, s := range ds.Subscriptions {
		if s.ID != left {
			parts[i%3] = append(parts[i%3], s.ID)
			partOf[s.ID] = i % 3
		}
	}
	partOf[left] = 2
	r, err := st.ReadUsage(ctx, parts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if r.Parts() != 3 || r.Window() != all.Read.Window {
		t.Fatalf("%d parts, window %+v; want 3, %+v", r.Parts(), r.Window(), all.Read.Window)
	}
	var seqs []int64
	for i := range 3 {
		u, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		var own []int64
		for sub, evs := range u.Events {
			if partOf[sub] != i {
				t.Errorf("part %d has the events of %s (part %d)", i, sub, partOf[sub])
			}
			if len(evs) != len(all.Events[sub]) {
				t.Errorf("part %d has %d events of %s, want %d", i, len(evs), sub, len(all.Events[sub]))
			}
			for _, e := range evs {
				own = append(own, e.Seq)
			}
		}
		slices.Sort(own)
		if !slices.Equal(own, u.Read.Seqs) || len(own) == 0 {
			t.Errorf("part %d: numbers %v, its events' %v", i, u.Read.Seqs, own)
		}
		seqs = append(seqs, u.Read.Seqs...)
	}
	if _, err := r.Next(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("after the last part: %v, want io.EOF", err)
	}
	slices.Sort(seqs)
	if !slices.Equal(seqs, all.Read.Seqs) {
		t.Errorf("the parts read %d events, one read %d", len(seqs), len(all.Read.Seqs))
	}
}

// TestAssemblyInPartsStoresAllOrNothing stores the demo run's assembly in two parts in one
// transaction: when the second part fails (it settles an event it did not read), nothing
// of the first is stored either; the same two parts without the fault commit, and the
// next run reads only what they held back.
func TestAssemblyInPartsStoresAllOrNothing(t *testing.T) {
	ctx := context.Background()
	st := demo(t)
	ds, err := st.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	asOf := calendar.MustParse("2026-11-01")
	parts := invoice.Parts(ds.Subscriptions, invoice.BuyerOf, 20)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	ids := make([][]string, len(parts))
	for i, p := range parts {
		for _, s := range p {
			ids[i] = append(ids[i], s.ID)
		}
	}
	before := storetest.Fingerprint(t, st, "")
	for _, fault := range []bool{true, false} {
		run, err := st.StartRun(ctx, asOf, "")
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.ReadUsage(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		as, err := st.BeginAssembly(ctx, run, r.Window())
		if err != nil {
			t.Fatal(err)
		}
		drafts, held := 0, 0
		var saveErr error
		for i, p := range parts {
			u, err := r.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			led, err := as.Ledger(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			res, outcomes := rating.RunFrom(ds, p, asOf, u.Events, led.Prior)
			b := invoice.Assemble(ds, res, invoice.Options{IssueDate: asOf, DraftsBefore: drafts})
			drafts += len(b.Invoices)
			settled := 0
			for _, o := range outcomes {
				settled += len(o.Settled)
			}
			held += len(u.Read.Seqs) - settled
			if fault && i == 1 {
				outcomes[0].Settled = append(outcomes[0].Settled, rating.SettledEvent{Seq: 1 << 40, Fate: rating.Rated})
			}
			if saveErr = as.Save(ctx, store.Assembly{Invoices: b.Invoices, Charges: res.Charges, Skipped: b.Skipped,
				Outcomes: outcomes, Ledger: led, Usage: res.Usage, Read: u.Read}); saveErr != nil {
				break
			}
		}
		r.Close(ctx)
		if fault {
			as.Rollback(ctx)
			if saveErr == nil || !strings.Contains(saveErr.Error(), "event number 1099511627776 is not stored") {
				t.Fatalf("the faulty second part: %v", saveErr)
			}
			if storetest.Fingerprint(t, st, "") != before {
				t.Fatal("a failed second part left the first part stored")
			}
			continue
		}
		if saveErr != nil {
			t.Fatal(saveErr)
		}
		if err := as.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		stored, err := st.InvoiceRefs(ctx, "draft")
		if err != nil {
			t.Fatal(err)
		}
		next, err := st.UnsettledEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 25 || drafts != 25 || len(next.Read.Seqs) != held || held == 0 {
			t.Errorf("%d drafts stored of %d assembled (want 25); the next run reads %d events, the parts held %d", len(stored), drafts, len(next.Read.Seqs), held)
		}
	}
}

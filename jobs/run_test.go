package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/kontor-billing/kontor/zugferd"
)

var (
	rOnce sync.Once
	rnd   *zugferd.Renderer
)

func renderer(t testing.TB) *zugferd.Renderer {
	rOnce.Do(func() {
		var err error
		if rnd, err = zugferd.NewRenderer(); err != nil {
			t.Fatal(err)
		}
	})
	return rnd
}

func load(t testing.TB, dir string) *dataset.Dataset {
	t.Helper()
	ds, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func runOnce(t *testing.T, st *store.Store, arcDir, asOf string) jobs.Summary {
	t.Helper()
	arc, err := archive.NewLocal(arcDir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := jobs.Run(context.Background(), st, jobs.RunOptions{AsOf: calendar.MustParse(asOf), Renderer: renderer(t), Archive: arc})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestRunIssuesWhatThePreviewShowsOnceAndArchivesIt(t *testing.T) {
	_, st := storetest.New(t)
	ds := load(t, "../fixtures/demo")
	if _, err := st.Import(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	arc := t.TempDir()
	sum := runOnce(t, st, arc, "2026-11-01")
	preview, err := jobs.RunPreview(ds, calendar.MustParse("2026-11-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Issued) != len(preview.Batch.Invoices) || len(sum.Issued) != 25 {
		t.Fatalf("run issued %d invoices, preview shows %d", len(sum.Issued), len(preview.Batch.Invoices))
	}
	want := preview.Batch.TotalsByCurrency()
	for i, tot := range sum.Totals {
		if tot.Currency != want[i].Currency || !tot.Gross.Equal(want[i].Gross) || !tot.VAT.Equal(want[i].VAT) || tot.Invoices != want[i].Invoices {
			t.Errorf("totals %+v, preview %+v", tot, want[i])
		}
	}
	// Gapless, strictly increasing numbers in finalization order.
	for i, is := range sum.Issued {
		if want := fmt.Sprintf("RE-2026-%06d", i+1); is.Number != want {
			t.Errorf("invoice %d is %s, want %s", i+1, is.Number, want)
		}
	}
	// The event counts add up: each event read is placed once.
	if u := sum.Usage; u.Unaccounted() != 0 || u.Events == 0 {
		t.Errorf("event counts do not add up: %+v", u)
	}
	if u := preview.Rating.Counts; u.Unaccounted() != 0 || u.SettledBefore == 0 {
		t.Errorf("preview event counts do not add up (or settle none before the opening date): %+v", u)
	}
	if sum.Rendered != 25 || sum.Archived != 25 || len(sum.Skipped) != 2 {
		t.Errorf("rendered %d, archived %d, skipped %d", sum.Rendered, sum.Archived, len(sum.Skipped))
	}
	// The archived PDF is the rendered PDF and carries the final number in its XML.
	pdf, err := os.ReadFile(filepath.Join(arc, "invoices/2026/11/RE-2026-000001.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := os.ReadFile(filepath.Join(arc, "invoices/2026/11/RE-2026-000001.xml"))
	if err != nil || !strings.Contains(string(x), "<ram:ID>RE-2026-000001</ram:ID>") {
		t.Fatalf("archived XML lacks its number: %v", err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF-1.7") {
		t.Error("archived PDF is not a PDF")
	}
	before := storetest.Fingerprint(t, st, arc)
	// BILLING-RULES 5: running it again for the same date changes nothing.
	again := runOnce(t, st, arc, "2026-11-01")
	if len(again.Issued) != 0 {
		t.Errorf("second run issued %d invoices", len(again.Issued))
	}
	if storetest.Fingerprint(t, st, arc) != before {
		t.Error("second run changed the billing state")
	}
	// Importing the same data again changes nothing either.
	res, err := st.Import(context.Background(), ds)
	if err != nil || res.Records != 0 || res.Events != 0 || res.KnownEvents != len(ds.Usage) {
		t.Errorf("re-import: %+v %v", res, err)
	}
}

func TestLateUsageImportedAfterTheRunIsBilledOnTheNextRunMarkedLate(t *testing.T) {
	// BILLING-RULES 2.4: an event that arrives after its period was closed is never lost.
	_, st := storetest.New(t)
	dir := datasettest.CopyDir(t, "../fixtures/demo")
	if _, err := st.Import(context.Background(), load(t, dir)); err != nil {
		t.Fatal(err)
	}
	arc := t.TempDir()
	runOnce(t, st, arc, "2026-11-01")
	importLateUsage(t, st, dir)
	sum := runOnce(t, st, arc, "2026-11-05")
	if len(sum.Issued) != 1 {
		t.Fatalf("issued %d invoices, want the late usage of C-006", len(sum.Issued))
	}
	// 50 × 0.08 = 4.00 net, reverse charge (Greece with VAT ID): 4.00 gross.
	if is := sum.Issued[0]; is.Number != "RE-2026-000026" || is.Buyer != "customer C-006" || is.Gross.StringFixed(2) != "4.00" {
		t.Errorf("issued %+v", is)
	}
	inv, err := st.Invoices(context.Background(), "archived")
	if err != nil {
		t.Fatal(err)
	}
	last := inv[len(inv)-1].Invoice
	if len(last.Lines) != 1 || !last.Lines[0].Late || last.Lines[0].Period.String() != "2026-10-01..2026-10-31" {
		t.Errorf("late invoice lines %+v", last.Lines)
	}
}

// importLateUsage adds to the demo dataset in dir, and imports, 50 einvoices of S-008 (500
// included, 0.08 each; 812 used and 312 billed in October) that occurred in October and
// arrived on 5 November, after the run as of 1 November.
func importLateUsage(t *testing.T, st *store.Store, dir string) {
	t.Helper()
	late := datasetLine("EV-LATE-1,S-008,einvoices,50,2026-10-30T10:00:00+01:00,2026-11-05T09:00:00+01:00,")
	if err := os.WriteFile(filepath.Join(dir, "usage-late.csv"), late, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), load(t, dir))
	if err != nil || res.Events != 1 {
		t.Fatalf("import of the late event: %+v %v", res, err)
	}
}

func datasetLine(row string) []byte {
	return []byte("event_id,subscription_id,usage_type,quantity,occurred_at,received_at,via_psp\n" + row + "\n")
}

func TestASkippedBuyerIsBilledOnceItCanBe(t *testing.T) {
	// A run never loses a charge: C-009 (Italy, no VAT ID) is skipped until its VAT ID is
	// known, then invoiced everything that was due.
	_, st := storetest.New(t)
	dir := datasettest.CopyDir(t, "../fixtures/demo")
	if _, err := st.Import(context.Background(), load(t, dir)); err != nil {
		t.Fatal(err)
	}
	arc := t.TempDir()
	first := runOnce(t, st, arc, "2026-11-01")
	if len(first.Skipped) != 2 {
		t.Fatalf("skipped %+v", first.Skipped)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "customers.csv"))
	b = []byte(strings.Replace(string(b), "IT,,amministrazione@rossi.example", "IT,IT12345678901,amministrazione@rossi.example", 1))
	os.WriteFile(filepath.Join(dir, "customers.csv"), b, 0o644)
	if _, err := st.Import(context.Background(), load(t, dir)); err != nil {
		t.Fatal(err)
	}
	second := runOnce(t, st, arc, "2026-11-03")
	if len(second.Issued) != 1 || second.Issued[0].Buyer != "customer C-009" || second.Issued[0].Gross.StringFixed(2) != "39.00" {
		t.Errorf("second run issued %+v", second.Issued)
	}
}

func TestRunStopsBetweenInvoicesAndTheNextRunFinishes(t *testing.T) {
	_, st := storetest.New(t)
	if _, err := st.Import(context.Background(), load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	arc, err := archive.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc, FinalizeBatch: 3,
		Crash: func(step string) {
			if step == "finalized-3" { // SIGTERM arrives while the first batch of three is in hand
				cancel()
			}
		}}
	sum, err := jobs.Run(ctx, st, opt)
	if !errors.Is(err, jobs.ErrStopped) || len(sum.Issued) != 3 {
		t.Fatalf("stopped run: %v, %d issued; want ErrStopped after 3", err, len(sum.Issued))
	}
	opt.Crash = nil
	sum, err = jobs.Run(context.Background(), st, opt)
	if err != nil || len(sum.Issued) != 22 || sum.Issued[0].Number != "RE-2026-000004" || sum.Archived != 25 {
		t.Fatalf("next run: %v, %d issued from %v, %d archived", err, len(sum.Issued), sum.Issued, sum.Archived)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	_, st := storetest.New(t)
	if _, err := st.Import(context.Background(), load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	before := storetest.Fingerprint(t, st, dir)
	arc, _ := archive.NewLocal(dir)
	sum, err := jobs.Run(context.Background(), st, jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), DryRun: true, Renderer: renderer(t), Archive: arc})
	if err != nil || sum.Preview == nil || len(sum.Preview.Invoices) != 25 || sum.Totals[0].Gross.StringFixed(2) != "3445.37" {
		t.Fatalf("dry run: %v %+v", err, sum.Totals)
	}
	if storetest.Fingerprint(t, st, dir) != before {
		t.Error("a dry run changed the database or the archive")
	}
}

// TestFinalizeInBatches: numbers come in contiguous blocks per transaction, the same as
// one at a time; finalizing again returns the numbers already given and takes no new one.
func TestFinalizeInBatches(t *testing.T) {
	ctx := context.Background()
	_, st := storetest.New(t)
	if _, err := st.Import(ctx, load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	arc, err := archive.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	sum, err := jobs.Run(ctx, st, jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc, FinalizeBatch: 7,
		Crash: func(step string) {
			if strings.HasPrefix(step, "finaliz") {
				steps = append(steps, step)
			}
		}})
	if err != nil || len(sum.Issued) != 25 {
		t.Fatalf("run: %v, %d issued", err, len(sum.Issued))
	}
	for i, is := range sum.Issued {
		if want := fmt.Sprintf("RE-2026-%06d", i+1); is.Number != want {
			t.Errorf("invoice %d is %s, want %s", i+1, is.Number, want)
		}
	}
	wantSteps := "finalize-1 finalized-7 finalize-8 finalized-14 finalize-15 finalized-21 finalize-22 finalized-25"
	if got := strings.Join(steps, " "); got != wantSteps {
		t.Errorf("steps %s, want %s", got, wantSteps)
	}
	done, err := st.Invoices(ctx, "archived")
	if err != nil || len(done) != 25 {
		t.Fatalf("%d archived: %v", len(done), err)
	}
	ids := []int64{done[3].ID, done[0].ID}
	again, err := st.Finalize(ctx, ids, "RE-2026-")
	var nums []string
	for _, si := range again {
		nums = append(nums, si.Invoice.Number+"/"+string(si.Status))
	}
	if err != nil || strings.Join(nums, " ") != "RE-2026-000004/archived RE-2026-000001/archived" {
		t.Errorf("finalizing finalized invoices again: %v, %v", nums, err)
	}
	if _, err := st.Finalize(ctx, []int64{done[0].ID, 999999}, "RE-2026-"); err == nil || !strings.Contains(err.Error(), "invoice 999999 does not exist") {
		t.Errorf("unknown invoice: %v", err)
	}
	var last int64
	if err := st.Pool().QueryRow(ctx, `select last_number from number_series where series = 'RE-2026-'`).Scan(&last); err != nil || last != 25 {
		t.Errorf("the series counter is at %d (%v), want 25", last, err)
	}
}

// TestPartsDoNotChangeTheResult runs the demo as of 2026-11-01 and 2026-12-01 (the second
// settles the usage the first held back) with the subscriptions rated, assembled and
// stored in parts of different sizes: the stored state (numbers, invoices, charges,
// ledger, settled and held usage, skipped buyers, rated usage, archive) and the dry run's
// preview equal those of one part, whatever the size.
func TestPartsDoNotChangeTheResult(t *testing.T) {
	ctx := context.Background()
	state := func(t *testing.T, part int) (string, string) {
		st := demoStore(t)
		dir := t.TempDir()
		arc, err := archive.NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		var parts int
		var preview []string
		for _, asOf := range []string{"2026-11-01", "2026-12-01"} {
			opt := jobs.RunOptions{AsOf: calendar.MustParse(asOf), Renderer: renderer(t), Archive: arc, Part: part,
				Progress: func(stage string, done, total int) {
					if stage == "assemble" {
						parts = total
					}
				}}
			opt.DryRun = true
			dry, err := jobs.Run(ctx, st, opt)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.MarshalIndent(struct {
				*invoice.Batch
				Counts rating.Counts
			}{dry.Preview, dry.Usage}, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			preview = append(preview, string(b))
			opt.DryRun = false
			sum, err := jobs.Run(ctx, st, opt)
			if err != nil {
				t.Fatalf("run as of %s in parts of %d: %v", asOf, part, err)
			}
			if sum.Drafted != len(dry.Preview.Invoices) || len(sum.Issued) != sum.Drafted {
				t.Errorf("as of %s in parts of %d: %d drafted, %d issued, %d previewed", asOf, part, sum.Drafted, len(sum.Issued), len(dry.Preview.Invoices))
			}
			// The report's subscription changes, gathered part by part, are those of the
			// whole dataset (kontor report renders the archived report again from it).
			archived, err := os.ReadFile(filepath.Join(dir, sum.Report))
			if err != nil {
				t.Fatal(err)
			}
			again, err := jobs.RunReport(ctx, st, sum.RunID)
			if err != nil || !bytes.Equal(again, archived) {
				t.Errorf("as of %s in parts of %d: the run's report differs from the one rendered from the whole dataset (%v)", asOf, part, err)
			}
		}
		t.Logf("parts of %d subscriptions: %d parts", part, parts)
		// The demo's 39 subscriptions belong to 33 buyers, a part holds whole buyers.
		if want := map[int]int{1: 33, 7: 6, 0: 1}[part]; parts != want {
			t.Errorf("parts of %d: %d parts, want %d", part, parts, want)
		}
		var more string
		if err := st.Pool().QueryRow(ctx, `select concat_ws(E'\n',
			(select string_agg(buyer_kind || ' ' || buyer_id || ': ' || reason, E'\n' order by run_id, buyer_kind, buyer_id, reason) from skipped),
			(select string_agg(concat_ws(' ', run_id, subscription_id, usage_type, period_start, period_end, events, units, overage, blocked, late), E'\n'
				order by run_id, subscription_id, usage_type, period_start) from usage_rated))`).Scan(&more); err != nil {
			t.Fatal(err)
		}
		return storetest.Fingerprint(t, st, dir) + more, strings.Join(preview, "\n")
	}
	want, wantPreview := state(t, 0)
	for _, part := range []int{1, 7} {
		t.Run(fmt.Sprint(part), func(t *testing.T) {
			got, gotPreview := state(t, part)
			if got != want {
				t.Errorf("state after runs in parts of %d differs from one part:\n%s", part, storetest.FirstDifference(want, got))
			}
			if gotPreview != wantPreview {
				t.Errorf("dry run in parts of %d differs from one part:\n%s", part, storetest.FirstDifference(wantPreview, gotPreview))
			}
		})
	}
}

// TestPartFailingToStoreStoresNothing: when storing a part fails while the next part is
// rated and the one after read, the run fails naming the fault and stores nothing of the
// parts before; run again, it bills what a run without the fault bills.
func TestPartFailingToStoreStoresNothing(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, fault bool) string {
		st := demoStore(t)
		dir := t.TempDir()
		arc, err := archive.NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		opt := jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc, Part: 1}
		if fault {
			// The third statement adding invoices (the third part's) fails.
			if _, err := st.Pool().Exec(ctx, `create sequence fault_count;
				create function fault() returns trigger language plpgsql as $$
				begin
					if nextval('fault_count') = 3 then raise exception 'injected fault'; end if;
					return null;
				end $$;
				create trigger fault after insert on invoices for each statement execute function fault()`); err != nil {
				t.Fatal(err)
			}
			before := storetest.Fingerprint(t, st, dir)
			if _, err := jobs.Run(ctx, st, opt); err == nil || !strings.Contains(err.Error(), "injected fault") {
				t.Fatalf("run with a part failing to store: %v, want the injected fault", err)
			}
			if got := storetest.Fingerprint(t, st, dir); got != before {
				t.Fatalf("the failed run stored something:\n%s", storetest.FirstDifference(before, got))
			}
			if _, err := st.Pool().Exec(ctx, `drop trigger fault on invoices`); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := jobs.Run(ctx, st, opt)
		if err != nil || len(sum.Issued) == 0 {
			t.Fatalf("run: %v, %d issued", err, len(sum.Issued))
		}
		return storetest.Fingerprint(t, st, dir)
	}
	want := run(t, false)
	if got := run(t, true); got != want {
		t.Errorf("after a failed run, the next differs from a run without the fault:\n%s", storetest.FirstDifference(want, got))
	}
}

// TestSeriesPerYear: the demo's series hold {YYYY}: numbers restart at 1 with the issue
// date's year, each year's series gapless; a series without the placeholder ("RE-2026-",
// as the scenarios have it) keeps counting across years.
func TestSeriesPerYear(t *testing.T) {
	for _, tt := range []struct {
		series string
		prefix map[string]string // by the run's year, the prefix of its numbers
	}{
		{"RE-{YYYY}-", map[string]string{"2026": "RE-2026-", "2027": "RE-2027-"}},
		{"RE-2026-", map[string]string{"2026": "RE-2026-", "2027": "RE-2026-"}},
	} {
		t.Run(tt.series, func(t *testing.T) {
			_, st := storetest.New(t)
			ds := load(t, "../fixtures/demo")
			ds.Seller.InvoiceSeries = tt.series
			if _, err := st.Import(context.Background(), ds); err != nil {
				t.Fatal(err)
			}
			arc := t.TempDir()
			next := map[string]int{} // by prefix, the next number expected
			for _, asOf := range []string{"2026-11-01", "2026-12-01", "2027-01-01"} {
				sum := runOnce(t, st, arc, asOf)
				if len(sum.Issued) == 0 {
					t.Fatalf("the run as of %s issued nothing", asOf)
				}
				prefix := tt.prefix[asOf[:4]]
				for _, is := range sum.Issued {
					next[prefix]++
					if want := fmt.Sprintf("%s%06d", prefix, next[prefix]); is.Number != want {
						t.Fatalf("as of %s: %s issued, want %s", asOf, is.Number, want)
					}
				}
			}
			if tt.series == "RE-{YYYY}-" && next["RE-2027-"] == 0 {
				t.Error("nothing numbered in 2027's series")
			}
		})
	}
}

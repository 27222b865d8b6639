package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/openitems"
	"github.com/kontor-billing/kontor/report"
	"github.com/kontor-billing/kontor/store"
)

// ReportStore is what the run report reads.
type ReportStore interface {
	// Run reads run id's record.
	Run(ctx context.Context, id int64) (store.RunRecord, error)
	// PreviousRun reads the record of the run finished before run id, if any.
	PreviousRun(ctx context.Context, id int64) (store.RunRecord, bool, error)
	// ChargeTotals sums the charges on the documents numbers by plan, currency and kind.
	ChargeTotals(ctx context.Context, numbers []string) ([]report.Charges, error)
	// UsageRated sums the usage the runs runIDs rated, by usage type.
	UsageRated(ctx context.Context, runIDs []int64) ([]report.Usage, error)
	// RunsOf lists the runs that assembled the documents numbers.
	RunsOf(ctx context.Context, numbers []string) ([]int64, error)
	// Dataset reads the whole dataset.
	Dataset(ctx context.Context) (*dataset.Dataset, error)
}

// openItemsStore is what the report stage reads of the open items.
type openItemsStore interface {
	// Receivables lists the invoices with something open as of a date.
	Receivables(ctx context.Context, asOf calendar.Date, loc *time.Location) ([]openitems.Item, error)
}

// ReportKey is where a run's report is archived.
func ReportKey(runID int64) string { return fmt.Sprintf("reports/run-%06d.html", runID) }

// RunReport renders the HTML report of a finished run from what it stored: the same bytes
// the run archived, as long as the dataset's subscriptions did not change since.
func RunReport(ctx context.Context, st ReportStore, id int64) ([]byte, error) {
	rec, err := st.Run(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("report of run %d: %w", id, err)
	}
	if rec.Status != "done" || rec.Summary == nil {
		return nil, fmt.Errorf("run %d has not finished (status %s): its report is written when it does", id, rec.Status)
	}
	var sum Summary
	if err := json.Unmarshal(rec.Summary, &sum); err != nil {
		return nil, fmt.Errorf("run %d: stored summary: %w", id, err)
	}
	ds, err := st.Dataset(ctx)
	if err != nil {
		return nil, fmt.Errorf("report of run %d: %w", id, err)
	}
	return runReport(ctx, st, report.RunInput{Dataset: ds}, rec, sum)
}

// runReport renders the report of run rec whose summary is sum, with in's dataset and
// subscription changes (nil: from the dataset).
func runReport(ctx context.Context, st ReportStore, in report.RunInput, rec store.RunRecord, sum Summary) ([]byte, error) {
	facts, err := factsOf(ctx, st, rec, sum)
	if err != nil {
		return nil, err
	}
	in.Run = facts
	prev, ok, err := st.PreviousRun(ctx, rec.ID)
	if err != nil {
		return nil, fmt.Errorf("report of run %d: the run before: %w", rec.ID, err)
	}
	if ok {
		var psum Summary
		if err := json.Unmarshal(prev.Summary, &psum); err != nil {
			return nil, fmt.Errorf("run %d: stored summary: %w", prev.ID, err)
		}
		pf, err := factsOf(ctx, st, prev, psum)
		if err != nil {
			return nil, err
		}
		in.Previous = &pf
	}
	html, err := report.RunHTML(in)
	if err != nil {
		return nil, fmt.Errorf("render the report of run %d: %w", rec.ID, err)
	}
	return html, nil
}

// factsOf gathers what a run issued and rated: the documents in its summary, their
// charges, and the usage rated by the runs that assembled them (a run that finishes an
// interrupted one issues what that one assembled).
func factsOf(ctx context.Context, st ReportStore, rec store.RunRecord, sum Summary) (report.RunFacts, error) {
	f := report.RunFacts{ID: rec.ID, AsOf: rec.AsOf, Started: rec.Started, Seconds: sum.Seconds,
		Totals: sum.Totals, Counts: sum.Usage, Skipped: sum.Skipped}
	numbers := make([]string, 0, len(sum.Issued))
	for _, d := range sum.Issued {
		numbers = append(numbers, d.Number)
		f.Documents = append(f.Documents, report.Document{Number: d.Number, Type: d.Type, Buyer: d.Buyer, BuyerName: d.BuyerName,
			Currency: d.Currency, Net: d.Net, VAT: d.VAT, Gross: d.Gross})
	}
	for _, l := range sum.Licenses {
		f.Licenses = append(f.Licenses, report.LicenseChange{Customer: l.Customer, State: l.State, Invoice: l.Invoice})
	}
	for _, c := range sum.Charges {
		f.StripeCharges = append(f.StripeCharges, report.Charge{Invoice: c.Invoice, Customer: c.Customer, Method: string(c.Method), Status: c.Status, Failure: c.Failure})
	}
	for _, c := range sum.CannotCharge {
		f.CannotCharge = append(f.CannotCharge, report.Charge{Invoice: c.Invoice, Customer: c.Customer, Method: string(c.Method)})
	}
	f.ChargingOff, f.Ageing = sum.ChargingOff, sum.Ageing
	var err error
	if f.Charges, err = st.ChargeTotals(ctx, numbers); err != nil {
		return f, fmt.Errorf("run %d: charge totals: %w", rec.ID, err)
	}
	runs, err := st.RunsOf(ctx, numbers)
	if err != nil {
		return f, fmt.Errorf("run %d: the runs that assembled its documents: %w", rec.ID, err)
	}
	if !slices.Contains(runs, rec.ID) {
		runs = append(runs, rec.ID)
	}
	if f.Usage, err = st.UsageRated(ctx, runs); err != nil {
		return f, fmt.Errorf("run %d: usage rated: %w", rec.ID, err)
	}
	return f, nil
}

// reportStage archives the run's HTML report (ReportKey) with the summary so far: what
// the run issued and rated, compared with the run before it, and the open items' ageing.
type reportStage struct {
	st   ReportStore
	open openItemsStore
}

func (reportStage) name() string { return "report" }

func (s reportStage) run(ctx context.Context, r *runState) error {
	items, err := s.open.Receivables(ctx, r.opt.AsOf, r.ds.Seller.Location)
	if err != nil {
		return fmt.Errorf("open items as of %s: %w", r.opt.AsOf, err)
	}
	r.sum.Ageing = openitems.Ageing(items)
	r.sum.Seconds = r.seconds()
	r.sum.Report = ReportKey(r.runID)
	rec, err := s.st.Run(ctx, r.runID)
	if err != nil {
		return fmt.Errorf("read run %d: %w", r.runID, err)
	}
	html, err := runReport(ctx, s.st, report.RunInput{Dataset: r.ds, Changes: r.changes}, rec, r.sum)
	if err != nil {
		return err
	}
	if err := r.opt.Archive.Put(ctx, r.sum.Report, html); err != nil {
		return fmt.Errorf("archive run report %d: %w", r.runID, err)
	}
	r.step("reported")
	r.timed("report")
	return nil
}

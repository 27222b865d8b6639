package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/report"
	"github.com/kontor-billing/kontor/store"
)

// assembleStore is what the assemble stage reads and writes.
type assembleStore interface {
	// StartRun records the start of a run and returns its ID.
	StartRun(ctx context.Context, asOf calendar.Date, by string) (int64, error)
	// PreviousRun returns the run finished before run id, if any.
	PreviousRun(ctx context.Context, id int64) (store.RunRecord, bool, error)
	// DatasetPart loads the records of the subscriptions subs.
	DatasetPart(ctx context.Context, o *dataset.Outline, subs []string) (*dataset.Dataset, error)
	// Ledger returns what earlier runs billed for the subscriptions subs.
	Ledger(ctx context.Context, subs []string) (store.Ledger, error)
	// BeginAssembly begins storing the assembly of run runID, which read window's usage.
	BeginAssembly(ctx context.Context, runID int64, window store.Window) (assembly, error)
}

// assembly stores a run's drafts part by part, all parts in one transaction.
type assembly interface {
	// Ledger is assembleStore.Ledger as the assembly's transaction sees it.
	Ledger(ctx context.Context, subs []string) (store.Ledger, error)
	// Save stores a part.
	Save(ctx context.Context, a store.Assembly) error
	// Commit checks that every event read was settled or held, and commits.
	Commit(ctx context.Context) error
	// Rollback undoes what was stored unless it was committed.
	Rollback(ctx context.Context)
}

// assembleStage rates the subscriptions part by part and stores the drafts, their
// charges, the ledger after them, the usage they settle and hold and the buyers skipped,
// all parts in one transaction. A dry run rates the same parts and keeps the drafts in
// the summary's preview instead.
type assembleStage struct{ st assembleStore }

func (assembleStage) name() string { return "assemble" }

func (s assembleStage) run(ctx context.Context, r *runState) error {
	pr := partRunner{r: r, ledgerOf: s.st.Ledger, load: func(ctx context.Context, subs []string) (*dataset.Dataset, error) {
		return s.st.DatasetPart(ctx, r.outline, subs)
	}}
	if r.opt.DryRun {
		return s.preview(ctx, r, pr)
	}
	if r.stopped() {
		return ErrStopped
	}
	asm, err := s.begin(ctx, r)
	if err != nil {
		return err
	}
	defer asm.Rollback(ctx)
	pr.asm, pr.ledgerOf = asm, asm.Ledger
	rated, stored, err := pr.run(ctx, nil)
	if err != nil {
		return err
	}
	// The reading's snapshot ends here, not with the run: deliveries take minutes.
	r.usage.Close(ctx)
	r.took("rate", rated)
	t := r.now()
	if err := asm.Commit(ctx); err != nil {
		return fmt.Errorf("commit the assembly of run %d: %w", r.runID, err)
	}
	r.log.Info("run assembled", "run", r.runID, "drafts", r.sum.Drafted, "skipped", len(r.sum.Skipped))
	r.step("saved")
	r.took("assemble", stored+r.now().Sub(t))
	r.timed("")
	return nil
}

// begin records the run's start, begins its assembly and sets the window of the
// subscription changes its report lists.
func (s assembleStage) begin(ctx context.Context, r *runState) (assembly, error) {
	id, err := s.st.StartRun(ctx, r.opt.AsOf, r.opt.StartedBy)
	if err != nil {
		return nil, fmt.Errorf("record the run's start: %w", err)
	}
	r.runID, r.sum.RunID = id, id
	r.log.Info("run started", "run", id, "as_of", r.opt.AsOf.String(), "subscriptions", len(r.outline.Subscriptions), "parts", len(r.parts))
	asm, err := s.st.BeginAssembly(ctx, id, r.usage.Window())
	if err != nil {
		return nil, fmt.Errorf("begin the assembly of run %d: %w", id, err)
	}
	prev, ok, err := s.st.PreviousRun(ctx, id)
	if err != nil {
		asm.Rollback(ctx)
		return nil, fmt.Errorf("read the run before run %d: %w", id, err)
	}
	var prevAsOf calendar.Date
	if ok {
		prevAsOf = prev.AsOf
	}
	r.changes, r.window = &report.Changes{}, report.ChangesWindow(r.opt.AsOf, prevAsOf)
	return asm, nil
}

// preview rates the parts of a dry run and keeps the drafts in the summary.
func (s assembleStage) preview(ctx context.Context, r *runState, pr partRunner) error {
	preview := &invoice.Batch{AsOf: r.opt.AsOf, Invoices: []*invoice.Invoice{}}
	rated, _, err := pr.run(ctx, preview)
	if err != nil {
		return err
	}
	r.took("rate", rated)
	preview.Skipped = r.sum.Skipped
	r.sum.Preview = preview
	r.sum.Totals = preview.TotalsByCurrency()
	r.sum.Seconds = r.seconds()
	return nil
}

// partRunner rates, assembles and stores a run's parts in turn. The next part's records
// and usage are read while a part is rated (readAhead), and a part is stored while the
// next is rated: storing keeps the assembly's connection busy, so the next part's ledger
// is read from it before the part is handed over (parts share no subscription, so
// storing one does not change another's ledger). A dry run stores nothing (asm is nil).
type partRunner struct {
	r        *runState
	load     func(ctx context.Context, subs []string) (*dataset.Dataset, error)
	ledgerOf func(ctx context.Context, subs []string) (store.Ledger, error)
	asm      assembly
	saving   chan error    // the part being stored, if any
	stored   time.Duration // the time spent waiting for parts to be stored
}

// run goes through the parts, adding to the summary (and to preview in a dry run). It
// returns the time spent rating (reading included) and waiting for parts to be stored,
// so that the stages' lines add up to the run's time; the caller commits the assembly.
func (p *partRunner) run(ctx context.Context, preview *invoice.Batch) (rated, stored time.Duration, err error) {
	ids := p.r.parts
	reads, stopReading := readAhead(ctx, p.r.usage, func(ctx context.Context, i int) (*dataset.Dataset, error) {
		return p.load(ctx, ids[i])
	})
	defer stopReading()
	// A part still being stored when run fails: its error is run's; the caller rolls back.
	defer func() { _ = p.waitSaved() }()
	var ledger store.Ledger
	if len(ids) > 0 {
		if ledger, err = p.ledgerOf(ctx, ids[0]); err != nil {
			return rated, p.stored, fmt.Errorf("read the ledger of part 1: %w", err)
		}
	}
	for i := range ids {
		t := p.r.now()
		next, ok := <-reads
		if !ok {
			return rated, p.stored, fmt.Errorf("part %d of %d not read", i+1, len(ids))
		}
		if next.err != nil {
			return rated, p.stored, fmt.Errorf("read part %d of %d: %w", i+1, len(ids), next.err)
		}
		a, drafts := p.rate(next, ledger, i)
		rated += p.r.now().Sub(t)
		if err := p.waitSaved(); err != nil {
			return rated, p.stored, err
		}
		if i+1 < len(ids) {
			if ledger, err = p.ledgerOf(ctx, ids[i+1]); err != nil {
				return rated, p.stored, fmt.Errorf("read the ledger of part %d: %w", i+2, err)
			}
		}
		if preview != nil {
			preview.Invoices = append(preview.Invoices, drafts...)
			continue
		}
		p.save(ctx, a, i+1)
	}
	return rated, p.stored, p.waitSaved()
}

// rate rates and assembles part i, adds it to the summary and returns what is stored
// of it (nothing in a dry run) and its drafts.
func (p *partRunner) rate(part partRead, ledger store.Ledger, i int) (store.Assembly, []*invoice.Invoice) {
	r, ds := p.r, part.ds
	res, outcomes := rating.RunFrom(ds, ds.Subscriptions, r.opt.AsOf, part.usage.Events, ledger.Prior)
	batch := invoice.Assemble(ds, res, invoice.Options{IssueDate: r.opt.AsOf, DraftsBefore: r.sum.Drafted})
	if r.changes != nil {
		r.changes.Add(ds, r.window)
	}
	r.sum.Usage.Add(res.Counts)
	r.sum.Skipped = append(r.sum.Skipped, batch.Skipped...)
	r.sum.Drafted += len(batch.Invoices)
	if r.opt.DryRun {
		return store.Assembly{}, batch.Invoices
	}
	if i == 0 {
		r.step("assembled")
	}
	keep := kept(ds, outcomes, batch.Skipped)
	return store.Assembly{
		Invoices: batch.Invoices, Charges: res.Charges, Skipped: batch.Skipped,
		Outcomes: keep, Ledger: ledger, Usage: usageOf(keep, res.Usage), Read: part.usage.Read,
	}, batch.Invoices
}

// save stores part n (from 1) while the caller rates the next.
func (p *partRunner) save(ctx context.Context, a store.Assembly, n int) {
	p.saving = make(chan error, 1)
	go func() {
		err := p.asm.Save(ctx, a)
		if err == nil {
			p.r.step(fmt.Sprintf("stored-part-%d", n))
			p.r.opt.progress("assemble", n, len(p.r.parts))
		} else {
			err = fmt.Errorf("store part %d of %d: %w", n, len(p.r.parts), err)
		}
		p.saving <- err
	}()
}

// waitSaved waits for the part being stored, if any, and returns its error.
func (p *partRunner) waitSaved() error {
	if p.saving == nil {
		return nil
	}
	t := p.r.now()
	err := <-p.saving
	p.saving = nil
	p.stored += p.r.now().Sub(t)
	return err
}

// usageOf returns the usage summaries of the kept subscriptions.
func usageOf(keep []rating.Outcome, usage []rating.UsageSummary) []rating.UsageSummary {
	subs := map[string]bool{}
	for _, o := range keep {
		subs[o.SubscriptionID] = true
	}
	var out []rating.UsageSummary
	for _, u := range usage {
		if subs[u.SubscriptionID] {
			out = append(out, u)
		}
	}
	return out
}

// kept drops the outcomes of subscriptions whose charges were withheld (their buyer was
// skipped): their ledger must not advance, so the next run bills them again.
func kept(ds *dataset.Dataset, outcomes []rating.Outcome, skipped []invoice.Skipped) []rating.Outcome {
	var out []rating.Outcome
	for _, o := range outcomes {
		s := ds.SubscriptionByID[o.SubscriptionID]
		kind, id := invoice.BuyerOf(s)
		held := false
		for _, sk := range skipped {
			if sk.BuyerKind == kind && sk.BuyerID == id && (sk.CustomerID == "" || sk.CustomerID == s.CustomerID) {
				held = true
			}
		}
		if !held {
			out = append(out, o)
		}
	}
	return out
}

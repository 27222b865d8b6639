package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/licensing"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/report"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/shopspring/decimal"
)

// Store is what a run needs of the system of record.
type Store interface {
	Lock(ctx context.Context, key int64) (func(), error)
	StartRun(ctx context.Context, asOf calendar.Date) (int64, error)
	FinishRun(ctx context.Context, id int64, summary any) error
	DatasetOutline(ctx context.Context) (*store.Outline, error)
	DatasetPart(ctx context.Context, o *store.Outline, subs []string) (*dataset.Dataset, error)
	Ledger(ctx context.Context, subs []string) (store.Ledger, error)
	ReadUsage(ctx context.Context, parts [][]string) (*store.UsageReader, error)
	BeginAssembly(ctx context.Context, runID int64, window store.Window) (*store.Assembler, error)
	InvoiceRefs(ctx context.Context, statuses ...string) ([]store.InvoiceRef, error)
	Finalize(ctx context.Context, ids []int64, series string) ([]store.StoredInvoice, error)
	DeliveryStore
	PaymentAttempts(ctx context.Context, loc *time.Location) (map[string][]licensing.Attempt, error)
	SaveLicenses(ctx context.Context, runID int64, asOf calendar.Date, states map[string]licensing.Status) ([]store.LicenseChange, error)
	ReportStore
}

// Archive is where issued invoices are kept, write-once.
type Archive interface {
	Put(ctx context.Context, key string, data []byte) error
}

// DefaultFinalizeBatch is the number of invoices finalized per transaction by default.
const DefaultFinalizeBatch = 250

// DefaultPart is how many subscriptions a run rates, assembles and stores together by
// default (RunOptions.Part).
const DefaultPart = 5000

// RunOptions configure a run.
type RunOptions struct {
	AsOf     calendar.Date
	DryRun   bool
	Renderer *zugferd.Renderer
	Archive  Archive
	Logger   *slog.Logger
	// Crash, when set, is called at every named step of the run; tests use it to kill the
	// process there and prove that the next run finishes the work.
	Crash func(step string)
	// Now reads the clock for the summary's duration (default time.Now).
	Now func() time.Time
	// Workers sets how many blocks of invoices are delivered at once: 4 per worker
	// (default GOMAXPROCS workers).
	Workers int
	// Block is how many invoices a block holds (default DefaultQueueBlock): rendered,
	// recorded, archived and recorded archived together.
	Block int
	// FinalizeBatch is how many invoices one transaction numbers and finalizes (default
	// DefaultFinalizeBatch). The numbers of a batch are a contiguous block.
	FinalizeBatch int
	// Part is about how many subscriptions (whole buyers) the run rates, assembles and
	// stores together (default DefaultPart): the run holds one part's usage events,
	// ledgers and drafts in memory at a time, whatever the number of customers. The parts
	// are stored in one transaction; the result does not depend on the size.
	Part int
	// Progress, when set, is told how many parts (stage assemble) or documents (stage
	// finalize, render or archive) a stage has completed, done of total, whenever that
	// grows, by one or by a batch. It is called from one goroutine at a time.
	Progress func(stage string, done, total int)
	// Queue, when set, hands rendering and archiving to worker processes (kontor worker)
	// through the job queue, and the run waits for them.
	Queue *Queue
	// StageDone, when set, is told how long each stage took: load (the dataset, and
	// the unsettled usage sorted into parts), rate (reading each part's usage and ledger,
	// rating and assembling the drafts in memory), assemble (storing them, the ledger and
	// the settled usage), finalize, deliver (render and archive, by the run itself or
	// through the queue), licenses, report. A dry run reports load and rate.
	StageDone func(stage string, d time.Duration)
}

// finalizeBatch is opt.FinalizeBatch, or its default.
func (opt RunOptions) finalizeBatch() int {
	return cmp.Or(max(opt.FinalizeBatch, 0), DefaultFinalizeBatch)
}

// timer reports stage durations to opt.StageDone: each call reports the time since the
// last call; a call with no stage starts timing anew.
func (opt RunOptions) timer(now func() time.Time) func(stage string) {
	last := now()
	return func(stage string) {
		t := now()
		if opt.StageDone != nil && stage != "" {
			opt.StageDone(stage, t.Sub(last))
		}
		last = t
	}
}

func (opt RunOptions) progress(stage string, done, total int) {
	if opt.Progress != nil {
		opt.Progress(stage, done, total)
	}
}

// Issued is an invoice a run finalized.
type Issued struct {
	Number   string          `json:"number"`
	Type     string          `json:"type_code"`
	Buyer    string          `json:"buyer"`
	Currency string          `json:"currency"`
	Net      decimal.Decimal `json:"net"`
	VAT      decimal.Decimal `json:"vat"`
	Gross    decimal.Decimal `json:"gross"`
}

// Summary is what a run did; it is printed and stored with the run.
type Summary struct {
	RunID    int64                   `json:"run_id,omitempty"`
	AsOf     calendar.Date           `json:"as_of"`
	DryRun   bool                    `json:"dry_run,omitempty"`
	Drafted  int                     `json:"drafted"`
	Issued   []Issued                `json:"issued"`
	Totals   []invoice.CurrencyTotal `json:"totals"`
	Skipped  []invoice.Skipped       `json:"skipped"`
	Rendered int                     `json:"rendered"`
	Archived int                     `json:"archived"`
	Usage    rating.Counts           `json:"usage"`
	Licenses []LicenseChange         `json:"licenses,omitempty"`
	Seconds  float64                 `json:"seconds"`
	// Report is the archive key of the run's HTML report.
	Report string `json:"report,omitempty"`
	// Preview holds the drafts of a dry run.
	Preview *invoice.Batch `json:"-"`
}

// ErrStopped means the run was asked to stop (its context was cancelled) and stopped
// between two invoices; the next run finishes the rest.
var ErrStopped = errors.New("run stopped before it finished; the next run finishes it")

// partRead is one part as readAhead hands it over: its records and its usage.
type partRead struct {
	ds    *dataset.Dataset
	usage store.Unsettled
	err   error
}

// readAhead reads the parts one part ahead of the caller: while the caller rates and
// stores a part, the next one's records are loaded (load, given the part's index) and its
// usage read (on the reader's own connection), so that the run waits for rows less. It
// holds at most the part it is reading besides the one it hands over. stop ends the
// reading and returns once the reader is no longer used; it may be called more than once.
func readAhead(ctx context.Context, usage *store.UsageReader, load func(ctx context.Context, part int) (*dataset.Dataset, error)) (reads <-chan partRead, stop func()) {
	out := make(chan partRead)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(out)
		for i := range usage.Parts() {
			ds, err := load(ctx, i)
			var u store.Unsettled
			if err == nil {
				u, err = usage.Next(ctx)
			}
			select {
			case out <- partRead{ds, u, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

// partRunner rates, assembles and stores a run's parts in turn. The next part's records
// and usage are read while a part is rated (readAhead), and a part is stored while the
// next is rated: storing keeps the assembly's connection busy, so the next part's ledger
// is read from it before the part is handed over (parts share no subscription, so
// storing one does not change another's ledger). A dry run stores nothing (asm is nil).
type partRunner struct {
	ids      [][]string // the parts' subscription IDs
	load     func(ctx context.Context, subs []string) (*dataset.Dataset, error)
	usage    *store.UsageReader
	ledgerOf func(ctx context.Context, subs []string) (store.Ledger, error)
	asm      *store.Assembler
	opt      RunOptions
	now      func() time.Time
	crash    func(string)
	// changes, unless nil, gathers the subscription changes in window for the report.
	changes *report.Changes
	window  calendar.Period
}

// run goes through the parts, adding to sum (and to preview in a dry run). It returns the
// time spent rating (reading included) and waiting for parts to be stored, so that the
// stages' lines add up to the run's time; the caller commits the assembly.
func (r partRunner) run(ctx context.Context, sum *Summary, preview *invoice.Batch) (rated, stored time.Duration, err error) {
	reads, stopReading := readAhead(ctx, r.usage, func(ctx context.Context, i int) (*dataset.Dataset, error) {
		return r.load(ctx, r.ids[i])
	})
	defer stopReading()
	// A part is stored while the next is rated. Storing keeps the assembly's connection
	// busy, so the next part's ledger is read from it before the part is handed over.
	var saving chan error // the part being stored, if any
	waitSaved := func() error {
		if saving == nil {
			return nil
		}
		t := r.now()
		err := <-saving
		saving = nil
		stored += r.now().Sub(t)
		return err
	}
	defer waitSaved() // a part still being stored when run fails: the caller rolls back
	var ledger store.Ledger
	if len(r.ids) > 0 {
		if ledger, err = r.ledgerOf(ctx, r.ids[0]); err != nil {
			return rated, stored, err
		}
	}
	for i := range r.ids {
		t := r.now()
		next, ok := <-reads
		if !ok {
			return rated, stored, fmt.Errorf("run: part %d of %d not read", i+1, len(r.ids))
		}
		ds, read, err := next.ds, next.usage, next.err
		if err != nil {
			return rated, stored, err
		}
		res, outcomes := rating.RunFrom(ds, ds.Subscriptions, r.opt.AsOf, read.Events, ledger.Prior)
		batch := invoice.Assemble(ds, res, invoice.Options{IssueDate: r.opt.AsOf, DraftsBefore: sum.Drafted})
		if r.changes != nil {
			r.changes.Add(ds, r.window)
		}
		sum.Usage.Add(res.Counts)
		sum.Skipped = append(sum.Skipped, batch.Skipped...)
		sum.Drafted += len(batch.Invoices)
		rated += r.now().Sub(t)
		var a store.Assembly
		if !r.opt.DryRun {
			if i == 0 {
				r.crash("assembled")
			}
			keep := kept(ds, outcomes, batch.Skipped)
			a = store.Assembly{
				Invoices: batch.Invoices, Charges: res.Charges, Skipped: batch.Skipped,
				Outcomes: keep, Ledger: ledger, Usage: usageOf(keep, res.Usage), Read: read.Read,
			}
		}
		if err := waitSaved(); err != nil {
			return rated, stored, err
		}
		if i+1 < len(r.ids) {
			if ledger, err = r.ledgerOf(ctx, r.ids[i+1]); err != nil {
				return rated, stored, err
			}
		}
		if r.opt.DryRun {
			preview.Invoices = append(preview.Invoices, batch.Invoices...)
			continue
		}
		saving = make(chan error, 1)
		go func(part int) {
			err := r.asm.Save(ctx, a)
			if err == nil {
				r.crash(fmt.Sprintf("stored-part-%d", part))
				r.opt.progress("assemble", part, len(r.ids))
			}
			saving <- err
		}(i + 1)
	}
	if err := waitSaved(); err != nil {
		return rated, stored, err
	}
	return rated, stored, nil
}

// Run bills everything due as of opt.AsOf and not billed yet, as persisted stages:
// assemble the drafts (charges, ledger and settled usage in one transaction, rated and
// stored part by part: RunOptions.Part), finalize each with the next gapless number,
// render XML and PDF, archive them, done. Each stage works on everything pending, so a
// run also finishes what an interrupted run began. Runs hold
// an advisory lock: concurrent runs wait for each other and the later ones find nothing
// new to bill. When ctx is cancelled (SIGTERM) the run finishes the invoice in hand and
// returns ErrStopped.
func Run(ctx context.Context, st Store, opt RunOptions) (Summary, error) {
	stop := ctx.Done()
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// Work on the invoice in hand is not cancelled: it completes, then the run stops.
	work := context.WithoutCancel(ctx)
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	crash := opt.Crash
	if crash == nil {
		crash = func(string) {}
	}
	start := now()
	stage := opt.timer(now)
	sum := Summary{AsOf: opt.AsOf, DryRun: opt.DryRun, Issued: []Issued{}, Skipped: []invoice.Skipped{}}

	unlock, err := st.Lock(ctx, store.RunLock)
	if err != nil {
		return sum, err
	}
	defer unlock()
	crash("locked")
	ctx = work

	// The subscriptions in parts, loaded, rated, assembled and stored in turn
	// (partRunner), so that the run holds a few parts' records, usage, ledgers and drafts
	// at a time, not all: of the whole dataset only its outline.
	outline, err := st.DatasetOutline(ctx)
	if err != nil {
		return sum, err
	}
	ds := outline.Base // the seller, catalog and partners
	parts := invoice.Parts(outline.Subscriptions, func(s store.SubscriptionRef) (string, string) {
		return invoice.Buyer(s.Channel, s.CustomerID, s.PartnerID)
	}, cmp.Or(max(opt.Part, 0), DefaultPart))
	ids := make([][]string, len(parts))
	for i, p := range parts {
		ids[i] = make([]string, len(p))
		for j, s := range p {
			ids[i][j] = s.ID
		}
	}
	usage, err := st.ReadUsage(ctx, ids)
	if err != nil {
		return sum, err
	}
	defer usage.Close(ctx)
	crash("loaded")
	stage("load")
	var runID int64
	var asm *store.Assembler
	ledgerOf := st.Ledger
	if !opt.DryRun {
		if stopped() {
			return sum, ErrStopped
		}
		if runID, err = st.StartRun(ctx, opt.AsOf); err != nil {
			return sum, err
		}
		sum.RunID = runID
		log.Info("run started", "run", runID, "as_of", opt.AsOf.String(), "subscriptions", len(outline.Subscriptions), "parts", len(parts))
		if asm, err = st.BeginAssembly(ctx, runID, usage.Window()); err != nil {
			return sum, err
		}
		defer asm.Rollback(ctx)
		ledgerOf = asm.Ledger
	}
	preview := invoice.Batch{AsOf: opt.AsOf, Invoices: []*invoice.Invoice{}, Skipped: []invoice.Skipped{}}
	runner := partRunner{ids: ids, usage: usage, ledgerOf: ledgerOf, asm: asm, opt: opt, now: now, crash: crash,
		load: func(ctx context.Context, subs []string) (*dataset.Dataset, error) {
			return st.DatasetPart(ctx, outline, subs)
		}}
	if !opt.DryRun {
		// The report's subscription changes, gathered part by part.
		prev, ok, err := st.PreviousRun(ctx, runID)
		if err != nil {
			return sum, err
		}
		var prevAsOf calendar.Date
		if ok {
			prevAsOf = prev.AsOf
		}
		runner.changes, runner.window = &report.Changes{}, report.ChangesWindow(opt.AsOf, prevAsOf)
	}
	rated, stored, err := runner.run(ctx, &sum, &preview)
	if err != nil {
		return sum, err
	}
	// The reading's snapshot ends here, not with the run: deliveries take minutes.
	usage.Close(ctx)
	preview.Skipped = sum.Skipped
	if opt.StageDone != nil {
		opt.StageDone("rate", rated)
	}
	if opt.DryRun {
		sum.Preview = &preview
		sum.Totals = preview.TotalsByCurrency()
		sum.Seconds = now().Sub(start).Seconds()
		return sum, nil
	}
	t := now()
	if err := asm.Commit(ctx); err != nil {
		return sum, err
	}
	log.Info("run assembled", "run", runID, "drafts", sum.Drafted, "skipped", len(sum.Skipped))
	crash("saved")
	if opt.StageDone != nil {
		opt.StageDone("assemble", stored+now().Sub(t))
	}
	stage("")

	if err := (pipeline{ctx, st, ds, opt, log, crash, stopped, runID, stage}).complete(&sum); err != nil {
		return sum, err
	}

	// Licenses: a card payment that failed deactivates the license after the grace period
	// (BILLING-RULES 4).
	attempts, err := st.PaymentAttempts(ctx, ds.Seller.Location)
	if err != nil {
		return sum, err
	}
	states := map[string]licensing.Status{}
	for cust, as := range attempts {
		states[cust] = licensing.Evaluate(as, opt.AsOf)
	}
	changes, err := st.SaveLicenses(ctx, runID, opt.AsOf, states)
	if err != nil {
		return sum, err
	}
	for _, c := range changes {
		log.Warn("license state changed", "customer", c.Customer, "from", string(c.From), "to", string(c.To), "invoice", c.Status.Invoice)
		sum.Licenses = append(sum.Licenses, LicenseChange{Customer: c.Customer, State: string(c.To), Invoice: c.Status.Invoice})
	}
	crash("licensed")
	stage("licenses")

	sum.Seconds = now().Sub(start).Seconds()
	sum.Report = ReportKey(runID)
	if _, err := writeReport(ctx, st, opt.Archive, report.RunInput{Dataset: ds, Changes: runner.changes}, runID, sum); err != nil {
		return sum, err
	}
	crash("reported")
	stage("report")
	if err := st.FinishRun(ctx, runID, sum); err != nil {
		return sum, err
	}
	crash("done")
	log.Info("run done", "run", runID, "issued", len(sum.Issued), "archived", sum.Archived, "skipped", len(sum.Skipped), "seconds", sum.Seconds)
	return sum, nil
}

// pipeline holds what the stages after assembly need.
type pipeline struct {
	ctx     context.Context
	st      Store
	ds      *dataset.Dataset
	opt     RunOptions
	log     *slog.Logger
	crash   func(string)
	stopped func() bool
	runID   int64
	stage   func(string)
}

// complete finalizes every draft (invoices and credit notes, each from its series),
// renders every finalized document and archives every rendered one: the stages after
// assembly, shared by runs and credit notes. Each works on everything pending. Blocks of
// finalized invoices are delivered (by this process, or by workers through the job queue)
// while the next are numbered.
func (p pipeline) complete(sum *Summary) error {
	ctx, st, ds, opt, log, crash, stopped, runID := p.ctx, p.st, p.ds, p.opt, p.log, p.crash, p.stopped, p.runID
	drafts, err := st.InvoiceRefs(ctx, "draft")
	if err != nil {
		return err
	}
	// Invoices an interrupted run finalized or rendered and did not archive are delivered
	// too, first.
	pending, err := st.InvoiceRefs(ctx, "finalized", "rendered")
	if err != nil {
		return err
	}
	toRender := len(drafts)
	for _, r := range pending {
		if r.Status == "finalized" {
			toRender++
		}
	}
	var mu sync.Mutex // progress is reported from the delivering goroutines too
	progress := func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		opt.progress(stage, done, total)
	}
	// Blocks of finalized invoices are delivered while the next are numbered: by this
	// process, or by workers through the job queue.
	var dl *deliveries
	var jobs *queued
	size := opt.finalizeBatch()
	if opt.Queue == nil {
		dl = p.deliver(sum, &mu, toRender, len(pending)+len(drafts))
	} else {
		jobs = opt.Queue.start(log)
	}
	// Read a batch at a time: after a crash they may be a whole run's.
	for from := 0; from < len(pending); from += size {
		ids := make([]int64, 0, size)
		for _, r := range pending[from:min(from+size, len(pending))] {
			ids = append(ids, r.ID)
		}
		invs, err := st.InvoicesByID(ctx, ids)
		if err != nil {
			return dl.finish(err)
		}
		if dl != nil {
			dl.add(invs)
		} else if err := jobs.add(ctx, invs); err != nil {
			return err
		}
	}
	totals := invoice.CurrencyTotals{}
	defer func() { sum.Totals = totals.List() }()
	seriesOf := func(d store.InvoiceRef) string {
		if d.TypeCode == invoice.CreditNote {
			return ds.Seller.CreditNoteSeries
		}
		return ds.Seller.InvoiceSeries
	}
	for start := 0; start < len(drafts); {
		if stopped() || dl.failed() {
			return dl.finish(ErrStopped)
		}
		// A batch: up to size consecutive drafts of one number series.
		series := seriesOf(drafts[start])
		end := start + 1
		for end < len(drafts) && end-start < size && seriesOf(drafts[end]) == series {
			end++
		}
		batch := drafts[start:end]
		ids := make([]int64, len(batch))
		for j, d := range batch {
			ids[j] = d.ID
		}
		crash(fmt.Sprintf("finalize-%d", start+1))
		invs, err := st.Finalize(ctx, ids, series)
		if err != nil {
			return dl.finish(err)
		}
		for _, si := range invs {
			inv := si.Invoice
			totals.Add(inv)
			t := inv.Totals
			sum.Issued = append(sum.Issued, Issued{Number: inv.Number, Type: inv.TypeCode, Buyer: inv.BuyerKind + " " + inv.BuyerID,
				Currency: inv.Currency, Net: t.TaxBasis, VAT: t.TaxTotal, Gross: t.GrandTotal})
			log.Debug("invoice finalized", "run", runID, "number", inv.Number, "buyer", inv.BuyerID, "gross", t.GrandTotal.StringFixed(2), "currency", inv.Currency)
		}
		log.Info("invoices finalized", "run", runID, "series", series, "first", invs[0].Invoice.Number, "last", invs[len(invs)-1].Invoice.Number, "count", len(invs))
		crash(fmt.Sprintf("finalized-%d", end))
		progress("finalize", end, len(drafts))
		if dl != nil {
			dl.add(invs)
		} else if err := jobs.add(ctx, invs); err != nil {
			return err
		}
		start = end
	}
	p.stage("finalize")
	if jobs != nil {
		// Worker processes render and archive; the run waits for them.
		sum.Rendered, sum.Archived, err = jobs.wait(ctx, stopped, progress)
		p.stage("deliver")
		return err
	}
	err = dl.finish(nil)
	p.stage("deliver")
	return err
}

// deliveries delivers blocks of invoices while more are added: each block is rendered,
// its files' hashes recorded in one transaction, archived (a local archive syncs once per
// block) and recorded as archived in one transaction, several blocks at once, so that the
// cores stay busy while other blocks wait on the database and the disk, and numbering
// goes on meanwhile. Rendering is deterministic: an invoice rendered but not archived when
// a run stops is rendered again, to the same bytes.
type deliveries struct {
	d       Delivery
	ctx     context.Context
	stopped func() bool
	size    int
	next    []store.StoredInvoice // the block being filled
	count   int                   // invoices handed to blocks
	blocks  chan deliveryBlock
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error // the first block's error, or ErrStopped
}

type deliveryBlock struct {
	invs  []store.StoredInvoice
	first int // the position of its first invoice, from 1
}

// deliver starts delivering, with 4 blocks at once per worker (opt.Workers, default a
// worker per core); toRender and toArchive are the totals for progress, which is reported
// under mu, as the numbering reports its own.
func (p pipeline) deliver(sum *Summary, mu *sync.Mutex, toRender, toArchive int) *deliveries {
	workers := p.opt.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := cmp.Or(max(p.opt.Block, 0), DefaultQueueBlock)
	// Two finalized batches and a block per delivering goroutine wait at most: numbering
	// keeps ahead of deliveries (one batch is numbered while the last is handed over),
	// but waits for them beyond that, so that a run of 100,000 invoices does not hold
	// them all in memory.
	dl := &deliveries{ctx: p.ctx, stopped: p.stopped, size: size, blocks: make(chan deliveryBlock, 2*(p.opt.finalizeBatch()/size+1)+4*workers)}
	dl.d = Delivery{Store: p.st, Renderer: p.opt.Renderer, Archive: p.opt.Archive, Logger: p.log, Crash: p.crash,
		Done: func(stage string, n int) {
			mu.Lock()
			defer mu.Unlock()
			if stage == "render" {
				sum.Rendered += n
				p.opt.progress(stage, sum.Rendered, toRender)
			} else {
				sum.Archived += n
				p.opt.progress(stage, sum.Archived, toArchive)
			}
		}}
	for range 4 * workers {
		dl.wg.Add(1)
		go func() {
			defer dl.wg.Done()
			for b := range dl.blocks {
				if dl.failed() {
					continue // drained: the run returns the first error
				}
				if dl.stopped() {
					dl.fail(ErrStopped)
					continue
				}
				if err := dl.d.deliver(dl.ctx, b.invs, b.first); err != nil {
					dl.fail(err)
				}
			}
		}()
	}
	return dl
}

// add hands invoices over for delivery, in blocks of the block size.
func (dl *deliveries) add(invs []store.StoredInvoice) {
	for _, si := range invs {
		dl.next = append(dl.next, si)
		if len(dl.next) == dl.size {
			dl.send()
		}
	}
}

func (dl *deliveries) send() {
	if len(dl.next) == 0 {
		return
	}
	dl.blocks <- deliveryBlock{invs: dl.next, first: dl.count + 1}
	dl.count += len(dl.next)
	dl.next = nil
}

func (dl *deliveries) fail(err error) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if dl.err == nil || (dl.err == ErrStopped && err != ErrStopped) {
		dl.err = err
	}
}

// failed reports whether a block failed (false on a nil deliveries: there are none).
func (dl *deliveries) failed() bool {
	if dl == nil {
		return false
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.err != nil && dl.err != ErrStopped
}

// finish delivers the last block (unless err says why the caller stopped adding: ErrStopped
// or its failure), waits for every block and returns the caller's failure, else the
// first block's error, else err.
func (dl *deliveries) finish(err error) error {
	if dl == nil {
		return err
	}
	if err == nil {
		dl.send()
	}
	close(dl.blocks)
	dl.wg.Wait()
	if err != nil && err != ErrStopped {
		return err // the caller's own failure
	}
	if dl.err != nil {
		return dl.err // a block's, or ErrStopped
	}
	return err
}

// LicenseChange is a license state a run changed.
type LicenseChange struct {
	Customer string `json:"customer"`
	State    string `json:"state"`
	Invoice  string `json:"invoice,omitempty"`
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

// Manifest is the small JSON document archived beside each invoice's PDF and XML.
type Manifest struct {
	Number    string         `json:"number"`
	TypeCode  string         `json:"type_code"`
	IssueDate calendar.Date  `json:"issue_date"`
	Buyer     string         `json:"buyer"`
	BuyerName string         `json:"buyer_name"`
	Currency  string         `json:"currency"`
	Net       string         `json:"net"`
	VAT       string         `json:"vat"`
	Gross     string         `json:"gross"`
	SHA256    ManifestHashes `json:"sha256"`
	Preceding string         `json:"preceding_invoice,omitempty"`
	Lines     int            `json:"lines"`
	Due       string         `json:"due_payable"`
}

// ManifestHashes are the SHA-256 of the archived files.
type ManifestHashes struct {
	PDF string `json:"pdf"`
	XML string `json:"xml"`
}

// Render renders a finalized invoice: its XML, PDF/A-3 and archive manifest. It is
// deterministic, so rendering again gives the same bytes.
func Render(r *zugferd.Renderer, inv *invoice.Invoice) ([]store.Document, error) {
	x, err := zugferd.XML(inv)
	if err != nil {
		return nil, err
	}
	pdf, err := r.PDF(inv, x)
	if err != nil {
		return nil, err
	}
	xd, pd := store.NewDocument("xml", x), store.NewDocument("pdf", pdf)
	t := inv.Totals
	m, err := json.MarshalIndent(Manifest{
		Number: inv.Number, TypeCode: inv.TypeCode, IssueDate: inv.IssueDate, Buyer: inv.BuyerKind + " " + inv.BuyerID,
		BuyerName: inv.Buyer.Name, Currency: inv.Currency, Net: t.TaxBasis.StringFixed(2), VAT: t.TaxTotal.StringFixed(2),
		Gross: t.GrandTotal.StringFixed(2), SHA256: ManifestHashes{PDF: pd.SHA256, XML: xd.SHA256},
		Preceding: inv.Preceding, Lines: len(inv.Lines), Due: t.DuePayable.StringFixed(2),
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return []store.Document{pd, xd, store.NewDocument("json", append(m, '\n'))}, nil
}

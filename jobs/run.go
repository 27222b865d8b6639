package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/openitems"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/shopspring/decimal"
)

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
	AsOf   calendar.Date
	DryRun bool
	// StartedBy is the console user who started the run; "" for the command line.
	StartedBy string
	Renderer  *zugferd.Renderer
	Archive   Archive
	Logger    *slog.Logger
	// Charger charges the invoices of stored payment methods (charging.Stripe); nil when no
	// Stripe key is configured: the run then leaves them open and says so.
	Charger Charger
	// Crash is a test hook, inert unless a test sets it: it is called at every named
	// step of the run (locked, loaded, stored-part-N, finalized-N, archived-N, …), so
	// that a test can stop, fail or kill the run there and prove that the next run
	// finishes the work. The kontor binary sets it only when built with the kontor_faults
	// tag (the crash tests' build).
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
	// through the queue), charge, licenses, report. A dry run reports load and rate.
	StageDone func(stage string, d time.Duration)
}

// finalizeBatch is opt.FinalizeBatch, or its default.
func (opt RunOptions) finalizeBatch() int {
	return cmp.Or(max(opt.FinalizeBatch, 0), DefaultFinalizeBatch)
}

// part is opt.Part, or its default.
func (opt RunOptions) part() int {
	return cmp.Or(max(opt.Part, 0), DefaultPart)
}

func (opt RunOptions) progress(stage string, done, total int) {
	if opt.Progress != nil {
		opt.Progress(stage, done, total)
	}
}

// Issued is an invoice a run finalized.
type Issued struct {
	Number string               `json:"number"`
	Type   invoice.DocumentType `json:"type_code"`
	Buyer  string               `json:"buyer"`
	// BuyerName is the buyer's name as invoiced.
	BuyerName string          `json:"buyer_name,omitempty"`
	Currency  string          `json:"currency"`
	Net       decimal.Decimal `json:"net"`
	VAT       decimal.Decimal `json:"vat"`
	Gross     decimal.Decimal `json:"gross"`
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
	// Charges are the charges the run made; CannotCharge the invoices of stored methods
	// whose customer has no Stripe IDs; ChargingOff how many invoices were not charged
	// because no Stripe key is configured.
	Charges      []ChargeOutcome `json:"charges,omitempty"`
	CannotCharge []CannotCharge  `json:"cannot_charge,omitempty"`
	ChargingOff  int             `json:"charging_off,omitempty"`
	// Refunds are the refunds through Stripe of credit notes of invoices paid there;
	// RefundsOff how many were left because no Stripe key is configured.
	Refunds    []RefundOutcome `json:"refunds,omitempty"`
	RefundsOff int             `json:"refunds_off,omitempty"`
	// Emails is how many invoice emails the run queued in the outbox.
	Emails int `json:"emails,omitempty"`
	// Ageing is what is open after the run, by age band and currency.
	Ageing  []openitems.Bucket `json:"ageing,omitempty"`
	Seconds float64            `json:"seconds"`
	// Report is the archive key of the run's HTML report.
	Report string `json:"report,omitempty"`
	// Preview holds the drafts of a dry run.
	Preview *invoice.Batch `json:"-"`
}

// ErrStopped means the run was asked to stop (its context was cancelled) and stopped
// between two invoices; the next run finishes the rest.
var ErrStopped = errors.New("run stopped before it finished; the next run finishes it")

// Run bills everything due as of opt.AsOf and not billed yet, as the stages listed in
// runStages: load the outline and the unsettled usage, assemble the drafts (rated and
// stored part by part, all in one transaction), finalize each with the next gapless
// number while blocks of them are rendered and archived, evaluate licenses, archive the
// report, record the run done. Each stage works on everything pending, so a run also
// finishes what an interrupted run began. Runs hold an advisory lock: concurrent runs
// wait for each other and the later ones find nothing new to bill. When ctx is cancelled
// (SIGTERM) the run finishes the invoice in hand and returns ErrStopped.
func Run(ctx context.Context, st *store.Store, opt RunOptions) (Summary, error) {
	r := newRunState(ctx, opt)
	unlock, err := st.Lock(ctx, store.RunLock)
	if err != nil {
		return r.sum, fmt.Errorf("run as of %s: %w", opt.AsOf, err)
	}
	defer unlock()
	r.step("locked")
	defer r.close()
	// Work on the invoice in hand is not cancelled: it completes, then the run stops.
	work := context.WithoutCancel(ctx)
	for _, s := range runStages(storeAdapter{st}, opt.DryRun) {
		if err := s.run(work, r); err != nil {
			return r.sum, fmt.Errorf("run as of %s, stage %s: %w", opt.AsOf, s.name(), err)
		}
	}
	return r.sum, nil
}

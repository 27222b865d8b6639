package jobs

import (
	"context"

	"log/slog"
	"time"

	"github.com/kontor-billing/kontor/calendar"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/report"
)

// A stage is one step of a run. The stages run in the order runStages lists them, each
// on what the stages before it left in the run's state; each consumes the store through
// one narrow interface of its own, defined beside it. A stage works on everything
// pending, not only on what this run began, so that a run finishes what an interrupted
// run left (the crash-resume contract: the run's named steps are where the crash tests
// kill it).
type stage interface {
	// name names the stage in errors and logs.
	name() string
	// run does the stage's work; ctx is not cancelled by a stop request (r.stopped says
	// whether one came).
	run(ctx context.Context, r *runState) error
}

// runStages lists the stages of a run in order. A new stage is a type in a file of its
// own and a line here; docs/architecture.md says what each reads and writes.
func runStages(st storeAdapter, dryRun bool) []stage {
	if dryRun {
		// A dry run rates and assembles in memory, lists the license changes, and stores
		// nothing.
		return []stage{loadStage{st}, assembleStage{st}, licenseStage{st}}
	}
	return []stage{
		loadStage{st},                            // the outline, parts and unsettled usage
		assembleStage{st},                        // drafts, charges, ledger, settled usage
		finalizeStage{finalize: st, deliver: st}, // numbers, then PDF and XML archived
		chargeStage{st},                          // stored payment methods charged once
		mailStage{st},                            // invoice emails queued, when the seller sends them
		licenseStage{st},                         // failed payments → license states
		reportStage{st: st, open: st},            // the run's HTML report, archived
		finishStage{st},                          // the run recorded done with its summary
	}
}

// runState is what the stages of one run share: the options, the summary they fill in,
// and what an earlier stage hands to a later one.
type runState struct {
	opt     RunOptions
	log     *slog.Logger
	step    func(step string) // opt.Crash, or nothing
	stopped func() bool       // whether the run was asked to stop
	now     func() time.Time
	start   time.Time
	lap     time.Time // when the stage being timed began
	sum     Summary

	// Set by the load stage.
	outline *dataset.Outline
	ds      *dataset.Dataset // the seller, catalog and partners (outline.Base)
	parts   [][]string       // the parts' subscription IDs
	usage   usageParts       // the parts' unsettled usage, read part by part
	// Set by the assemble stage.
	runID   int64
	changes *report.Changes // the subscription changes in window, for the report
	window  calendar.Period
	closers []func(ctx context.Context)
}

func newRunState(ctx context.Context, opt RunOptions) *runState {
	stop := ctx.Done()
	r := &runState{opt: opt, log: opt.Logger, step: opt.Crash, now: opt.Now,
		stopped: func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.step == nil {
		r.step = func(string) {}
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.start = r.now()
	r.lap = r.start
	r.sum = Summary{AsOf: opt.AsOf, DryRun: opt.DryRun, Issued: []Issued{}, Skipped: []invoice.Skipped{}}
	return r
}

// timed reports to opt.StageDone the time since the last call (or since the run began)
// under stage; an empty stage only starts timing anew.
func (r *runState) timed(stage string) {
	t := r.now()
	r.took(stage, t.Sub(r.lap))
	r.lap = t
}

// took reports a stage's duration to opt.StageDone.
func (r *runState) took(stage string, d time.Duration) {
	if r.opt.StageDone != nil && stage != "" {
		r.opt.StageDone(stage, d)
	}
}

// onClose registers what the run releases when it ends, however it ends.
func (r *runState) onClose(f func(ctx context.Context)) { r.closers = append(r.closers, f) }

func (r *runState) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i](context.Background())
	}
}

// seconds is how long the run has taken so far.
func (r *runState) seconds() float64 { return r.now().Sub(r.start).Seconds() }

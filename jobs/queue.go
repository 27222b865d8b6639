package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// The render and archive stages can be shared by several processes (kontor worker, on any
// machines with one database) through river, a job queue kept in PostgreSQL. The run
// still assembles and finalizes alone, under its lock: numbering is serial by nature.
// It then enqueues one delivery job per block of finalized invoices and waits until every
// one of them is archived. The invoice status stays the record of the work done
// (finalized → rendered → archived, each a conditional update), so a job that is worked
// twice (a retry, a job rescued from a killed worker, a rerun that enqueued the same
// invoices again) renders the same bytes and archives them to the write-once archive
// again: exactly once still holds.

// QueueName is the river queue kontor's delivery jobs go to.
const QueueName = "kontor"

// DefaultQueueBlock is how many invoices one delivery job carries by default.
const DefaultQueueBlock = 25

// DeliverArgs is a delivery job: render and archive these invoices.
type DeliverArgs struct {
	// Invoices are invoice IDs.
	Invoices []int64 `json:"invoices"`
	// First is the position of the first of them (from 1) among the invoices the run
	// handed out; crash steps (render-N, archived-N …) are named by position.
	First int `json:"first"`
}

// Kind is the river job kind.
func (DeliverArgs) Kind() string { return "kontor_deliver" }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	d Delivery
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	invs, err := w.d.Store.InvoicesByID(ctx, job.Args.Invoices)
	if err != nil {
		return fmt.Errorf("delivery job %d: read its invoices: %w", job.ID, err)
	}
	start := time.Now()
	// A job in hand is finished even when the worker is asked to stop: a block takes a
	// fraction of a second, and what is done is recorded block by block.
	if err := w.d.deliver(context.WithoutCancel(ctx), invs, job.Args.First); err != nil {
		return fmt.Errorf("delivery job %d: %w", job.ID, err)
	}
	if w.d.Logger != nil {
		w.d.Logger.Info("delivered", "job", job.ID, "attempt", job.Attempt, "invoices", len(invs), "first", job.Args.First, "seconds", time.Since(start).Seconds())
	}
	return nil
}

// WorkerOptions configure a worker.
type WorkerOptions struct {
	// ID names the worker in river's tables and the logs (default: river's).
	ID string
	// Concurrency is how many jobs the worker works at once (default 2×GOMAXPROCS: a
	// job alternates between rendering and waiting on the database and the archive).
	Concurrency int
	// JobTimeout cancels a job that runs longer (default 10 minutes).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before river's rescuer (in whichever
	// worker is the leader) makes it available again: the job of a worker that was killed
	// (default 15 minutes; a rerun of kontor run hands its invoices out again at once).
	RescueAfter time.Duration
	// Poll is how often a worker looks for jobs when it was not notified (default 1 s).
	Poll time.Duration
}

// NewWorker returns a river client that works kontor's delivery jobs; Start it, and Stop
// it to finish the jobs in hand and leave.
func NewWorker(pool *pgxpool.Pool, d Delivery, opt WorkerOptions) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{d: d}); err != nil {
		return nil, fmt.Errorf("job queue worker: %w", err)
	}
	n := opt.Concurrency
	if n < 1 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	timeout := opt.JobTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	rescue := opt.RescueAfter
	if rescue <= timeout {
		rescue = timeout + 5*time.Minute
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID:                   opt.ID,
		Queues:               map[string]river.QueueConfig{QueueName: {MaxWorkers: n}},
		Workers:              workers,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		FetchPollInterval:    opt.Poll,
		FetchCooldown:        min(cmp.Or(opt.Poll, time.Second), river.FetchCooldownDefault),
		MaxAttempts:          DeliverMaxAttempts,
		Logger:               quiet(logger),
	})
	if err != nil {
		return nil, fmt.Errorf("job queue worker: %w", err)
	}
	return c, nil
}

// DeliverMaxAttempts is how often a delivery job is tried before river discards it (the
// run then fails naming the job's errors; the next run hands the invoices out again).
const DeliverMaxAttempts = 5

// quiet passes river's own log records at warning level and above.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(as), f.min}
}

func (f levelFilter) WithGroup(g string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(g), f.min}
}

// Queue hands a run's render and archive stages to worker processes.
type Queue struct {
	client *river.Client[pgx.Tx]
	counts func(ctx context.Context, ids []int64) (map[invoice.Status]int, error)
	// Block is how many invoices one job carries (default DefaultQueueBlock).
	Block int
	// Poll is how often the run checks on its invoices while it waits (default 250 ms).
	Poll time.Duration
	// MaxAttempts is how often a job is tried before river discards it (default
	// DeliverMaxAttempts).
	MaxAttempts int
}

// StatusCounter counts invoices by status.
type StatusCounter interface {
	StatusCounts(ctx context.Context, ids []int64) (map[invoice.Status]int, error)
}

// NewQueue returns a queue that enqueues into the database of pool; st counts the
// invoices' progress.
func NewQueue(pool *pgxpool.Pool, st StatusCounter) (*Queue, error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: c, counts: st.StatusCounts}, nil
}

// queued is one run's delivery through the queue: the invoices handed out so far and
// their jobs.
type queued struct {
	q        *Queue
	r        *runState
	mu       *sync.Mutex // held while progress is reported
	ids      []int64
	seen     map[int64]bool
	toRender int // of ids, those finalized when handed out
	jobIDs   []int64
	next     int // ids[next:] are not in a job yet
}

// start begins handing a run's invoices out to workers.
func (q *Queue) start(r *runState, mu *sync.Mutex) *queued {
	return &queued{q: q, r: r, mu: mu, seen: map[int64]bool{}}
}

// failed is false: a job that fails is retried, and wait reports what river gave up on.
func (d *queued) failed() bool { return false }

// finish waits for the workers (unless err says why the caller stopped handing out: the
// jobs stay queued and the workers finish them) and counts what they rendered and
// archived into the run's summary.
func (d *queued) finish(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	progress := func(stage string, done, total int) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.r.opt.progress(stage, done, total)
	}
	d.r.sum.Rendered, d.r.sum.Archived, err = d.wait(ctx, d.r.stopped, progress)
	return err
}

// add hands invoices out in jobs of q.Block invoices (one insert for the jobs of a call;
// a partial block waits for the next call or for wait). An invoice may be listed twice,
// finalized and then rendered, when workers were delivering it while the lists were
// read: it is handed out once.
func (d *queued) add(ctx context.Context, invs []invoice.Stored) error {
	for _, si := range invs {
		if d.seen[si.ID] {
			continue
		}
		d.seen[si.ID] = true
		d.ids = append(d.ids, si.ID)
		if si.Status == invoice.Finalized {
			d.toRender++
		}
	}
	return d.enqueue(ctx, false)
}

// enqueue inserts a job per full block of the invoices not in a job yet, and one for the
// rest when all is set.
func (d *queued) enqueue(ctx context.Context, all bool) error {
	block := cmp.Or(max(d.q.Block, 0), DefaultQueueBlock)
	var params []river.InsertManyParams
	for len(d.ids)-d.next >= block || (all && d.next < len(d.ids)) {
		end := min(d.next+block, len(d.ids))
		params = append(params, river.InsertManyParams{
			Args:       DeliverArgs{Invoices: d.ids[d.next:end], First: d.next + 1},
			InsertOpts: &river.InsertOpts{Queue: QueueName, MaxAttempts: cmp.Or(d.q.MaxAttempts, DeliverMaxAttempts)},
		})
		d.next = end
	}
	if len(params) == 0 {
		return nil
	}
	res, err := d.q.client.InsertMany(ctx, params)
	if err != nil {
		return fmt.Errorf("enqueue %d delivery jobs: %w", len(params), err)
	}
	for _, r := range res {
		d.jobIDs = append(d.jobIDs, r.Job.ID)
	}
	return nil
}

// wait enqueues the last block and waits until every invoice handed out is archived,
// reporting progress; it returns how many were rendered and archived. When stopped says
// so it returns ErrStopped: the jobs stay queued and the workers finish them.
func (d *queued) wait(ctx context.Context, stopped func() bool, progress func(stage string, done, total int)) (rendered, archived int, err error) {
	if err := d.enqueue(ctx, true); err != nil {
		return 0, 0, err
	}
	if len(d.ids) == 0 {
		return 0, 0, nil
	}
	d.r.log.Info("delivery enqueued", "invoices", len(d.ids), "jobs", len(d.jobIDs), "block", cmp.Or(max(d.q.Block, 0), DefaultQueueBlock))
	poll := d.q.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	alreadyRendered := len(d.ids) - d.toRender
	for {
		counts, err := d.q.counts(ctx, d.ids)
		if err != nil {
			return rendered, archived, fmt.Errorf("count the delivered invoices: %w", err)
		}
		archived = counts[invoice.Archived]
		rendered = counts[invoice.Rendered] + archived - alreadyRendered
		progress("render", rendered, d.toRender)
		progress("archive", archived, len(d.ids))
		if archived == len(d.ids) {
			return max(rendered, 0), archived, nil
		}
		if stopped() {
			return max(rendered, 0), archived, ErrStopped
		}
		if err := d.q.failed(ctx, d.jobIDs); err != nil {
			return max(rendered, 0), archived, err
		}
		time.Sleep(poll)
	}
}

// failed returns an error when every job has ended (completed, discarded or cancelled)
// while some invoices are not archived: the errors of the jobs river gave up on.
func (q *Queue) failed(ctx context.Context, jobIDs []int64) error {
	var errs []string
	ended := 0
	for start := 0; start < len(jobIDs); start += 1000 {
		ids := jobIDs[start:min(start+1000, len(jobIDs))]
		res, err := q.client.JobList(ctx, river.NewJobListParams().IDs(ids...).First(len(ids)))
		if err != nil {
			return fmt.Errorf("look up delivery jobs: %w", err)
		}
		for _, j := range res.Jobs {
			switch j.State {
			case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
				ended++
			default: // still to be worked, or being worked
			}
			if j.State == rivertype.JobStateDiscarded || j.State == rivertype.JobStateCancelled {
				last := "no error recorded"
				if n := len(j.Errors); n > 0 {
					last = j.Errors[n-1].Error
				}
				errs = append(errs, fmt.Sprintf("job %d (%s after %d attempts): %s", j.ID, j.State, j.Attempt, last))
			}
		}
	}
	if ended < len(jobIDs) {
		return nil
	}
	if len(errs) == 0 {
		// Every job completed, yet an invoice is not archived: the counts are read again.
		return nil
	}
	return errors.New("delivery failed, the next run hands the invoices out again: " + strings.Join(errs, "; "))
}

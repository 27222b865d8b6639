package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
)

// demoStore is a fresh database with the demo dataset imported.
func demoStore(t *testing.T) *store.Store {
	t.Helper()
	_, st := storetest.New(t)
	if _, err := st.Import(context.Background(), load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	return st
}

// startWorkers starts n in-process workers on st that archive into arc; they stop when
// the test ends. delivered counts the invoices each archived.
func startWorkers(t *testing.T, st *store.Store, arc jobs.Archive, n int) []*atomic.Int64 {
	t.Helper()
	counts := make([]*atomic.Int64, n)
	for i := range n {
		counts[i] = &atomic.Int64{}
		c, err := jobs.NewWorker(st.Pool(), jobs.Delivery{Store: st, Renderer: renderer(t), Archive: arc,
			Done: func(stage string, n int) {
				if stage == "archive" {
					counts[i].Add(int64(n))
				}
			}}, jobs.WorkerOptions{Concurrency: 1, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.Stop(ctx); err != nil {
				t.Errorf("stop worker %d: %v", i, err)
			}
		})
	}
	return counts
}

func queue(t *testing.T, st *store.Store, block int) *jobs.Queue {
	t.Helper()
	q, err := jobs.NewQueue(st.Pool(), st)
	if err != nil {
		t.Fatal(err)
	}
	q.Block, q.Poll = block, 20*time.Millisecond
	return q
}

// TestTwoWorkersShareARun runs the demo through the job queue with two workers: the state
// (numbers, documents, archive) equals that of a run that renders and archives itself,
// both workers took part, and a second run issues nothing.
func TestTwoWorkersShareARun(t *testing.T) {
	ref := demoStore(t)
	refArc := t.TempDir()
	runOnce(t, ref, refArc, "2026-11-01")
	want := storetest.Fingerprint(t, ref, refArc)

	st := demoStore(t)
	dir := t.TempDir()
	arc, err := archive.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts := startWorkers(t, st, arc, 2)
	var rendered, archived int
	opt := jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc, Queue: queue(t, st, 2),
		Progress: func(stage string, done, total int) {
			if want := map[bool]int{true: 1, false: 25}[stage == "assemble"]; total != want { // the demo is one part
				t.Errorf("%s progress: %d of %d, want of %d", stage, done, total, want)
			}
			switch stage {
			case "render":
				rendered = max(rendered, done)
			case "archive":
				archived = max(archived, done)
			}
		}}
	sum, err := jobs.Run(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Issued) != 25 || sum.Rendered != 25 || sum.Archived != 25 || rendered != 25 || archived != 25 {
		t.Errorf("issued %d, rendered %d (progress %d), archived %d (progress %d); want 25 each", len(sum.Issued), sum.Rendered, rendered, sum.Archived, archived)
	}
	a, b := counts[0].Load(), counts[1].Load()
	if a+b != 25 {
		t.Errorf("the workers archived %d + %d invoices, want 25 together", a, b)
	}
	if a == 0 || b == 0 {
		t.Errorf("one worker did all the work (%d and %d): 13 jobs of 2 invoices, one at a time each", a, b)
	}
	if got := storetest.Fingerprint(t, st, dir); got != want {
		t.Errorf("a run through two workers differs from one that delivers itself:\n%s\n----\n%s", want, got)
	}
	again, err := jobs.Run(context.Background(), st, opt)
	if err != nil || len(again.Issued) != 0 || again.Archived != 0 {
		t.Errorf("second run issued %d and archived %d: %v", len(again.Issued), again.Archived, err)
	}
}

// failingArchive refuses every write.
type failingArchive struct{}

func (failingArchive) Put(ctx context.Context, key string, data []byte) error {
	return errors.New("archive unreachable")
}

// TestQueuedRunFailsWhenTheJobsFail: when river gives up on the jobs (here after one
// attempt) the run fails naming the jobs' error, the invoices stay rendered with their
// numbers, and a later run with a working archive archives them without issuing again.
func TestQueuedRunFailsWhenTheJobsFail(t *testing.T) {
	st := demoStore(t)
	startWorkers(t, st, failingArchive{}, 1)
	q := queue(t, st, 10)
	q.MaxAttempts = 1
	sum, err := jobs.Run(context.Background(), st, jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: failingArchive{}, Queue: q})
	if err == nil || !strings.Contains(err.Error(), "archive unreachable") || !strings.Contains(err.Error(), "discarded after 1 attempts") {
		t.Fatalf("run through failing jobs: %v", err)
	}
	if len(sum.Issued) != 25 {
		t.Errorf("%d issued before the delivery failed, want 25", len(sum.Issued))
	}
	dir := t.TempDir()
	again := runOnce(t, st, dir, "2026-11-01")
	if len(again.Issued) != 0 || again.Archived != 25 {
		t.Errorf("the run after the failure issued %d and archived %d, want 0 and 25", len(again.Issued), again.Archived)
	}
	storetest.Fingerprint(t, st, dir) // no gap
}

// TestQueuedRunStopsAndTheWorkersFinish: a queued run that is stopped while it waits
// returns ErrStopped; the jobs stay queued and a worker started later archives them all.
func TestQueuedRunStopsAndTheWorkersFinish(t *testing.T) {
	st := demoStore(t)
	dir := t.TempDir()
	arc, err := archive.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opt := jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc, Queue: queue(t, st, 5),
		Progress: func(stage string, done, total int) {
			if stage == "render" {
				cancel() // no worker runs yet: the run waits, and is stopped
			}
		}}
	sum, err := jobs.Run(ctx, st, opt)
	if !errors.Is(err, jobs.ErrStopped) || len(sum.Issued) != 25 || sum.Archived != 0 {
		t.Fatalf("stopped queued run: issued %d, archived %d, %v", len(sum.Issued), sum.Archived, err)
	}
	counts := startWorkers(t, st, arc, 1)
	deadline := time.Now().Add(30 * time.Second)
	for counts[0].Load() < 25 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := counts[0].Load(); n != 25 {
		t.Fatalf("the worker archived %d of the 25 queued invoices", n)
	}
	opt.Progress = nil
	again, err := jobs.Run(context.Background(), st, opt)
	if err != nil || len(again.Issued) != 0 || again.Archived != 0 {
		t.Errorf("the run after the workers finished issued %d and archived %d: %v", len(again.Issued), again.Archived, err)
	}
}

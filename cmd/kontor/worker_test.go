package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/store/storetest"
)

// workerProc is a kontor worker process.
type workerProc struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWorker starts kontor worker with env; it is stopped (SIGTERM) when the test ends if
// it still runs.
func startWorker(t *testing.T, env []string, id string) *workerProc {
	t.Helper()
	cmd := exec.Command(kontorBinary(t), "worker", "--id", id, "--concurrency", "1", "--poll", "200ms")
	cmd.Env = append(os.Environ(), env...)
	w := &workerProc{cmd: cmd, log: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr, cmd.Stdout = w.log, w.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(w.log.String(), `"msg":"worker started"`) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %s did not start:\n%s", id, w.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { w.stop(t) })
	return w
}

// stop sends SIGTERM and waits; a worker that already ended is left alone.
func (w *workerProc) stop(t *testing.T) error {
	t.Helper()
	if w.cmd.ProcessState != nil {
		return nil
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		w.done <- err // for a second stop
		return err
	case <-time.After(30 * time.Second):
		w.cmd.Process.Kill()
		t.Errorf("worker did not stop on SIGTERM:\n%s", w.log.String())
		return nil
	}
}

// delivered is how many invoices the worker's log says it delivered.
func (w *workerProc) delivered() int {
	n := 0
	for _, m := range regexp.MustCompile(`"msg":"delivered".*?"invoices":(\d+)`).FindAllStringSubmatch(w.log.String(), -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}

// queuedCrashSteps are the steps where TestCrashWithTwoWorkers kills a process: the run's
// own steps (it assembles and finalizes) and the workers' (they render and archive).
var queuedCrashSteps = []string{
	"saved", "finalized-12", "finalized-25",
	"render-1", "rendered-1", "render-8", "rendered-25",
	"put-1-json", "put-1-pdf", "archived-1", "put-12-pdf", "archived-12", "archived-25",
	"reported",
}

// TestCrashWithTwoWorkers kills, with SIGKILL, whichever process reaches a step: kontor run
// --queue or one of two kontor worker processes. When a worker dies the run is stopped
// (SIGTERM), since its job stays running until river rescues it. Then the run is started
// again with two fresh workers: the final state equals an uninterrupted run that delivered
// itself, with no gap, duplicate or lost invoice, and a third run issues nothing.
func TestCrashWithTwoWorkers(t *testing.T) {
	want := reference(t)
	for _, step := range queuedCrashSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			env, st, arc := demoDB(t)
			crashing := append(append([]string{}, env...), crashEnv+"="+step)
			ws := []*workerProc{startWorker(t, crashing, "a"), startWorker(t, crashing, "b")}
			run := exec.Command(kontorBinary(t), "run", "--as-of", "2026-11-01", "--queue", "--queue-block", "3", "--finalize-batch", "12")
			run.Env = append(os.Environ(), crashing...)
			out := &syncBuffer{}
			run.Stdout, run.Stderr = out, out
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			runDone := make(chan error, 1)
			go func() { runDone <- run.Wait() }()
			select {
			case err := <-runDone:
				if !killed(err) {
					t.Fatalf("the run was not killed at %s: %v\n%s", step, err, out.String())
				}
			case err := <-ws[0].done:
				ws[0].done <- err
				stopRun(t, run, runDone, out, step, err)
			case err := <-ws[1].done:
				ws[1].done <- err
				stopRun(t, run, runDone, out, step, err)
			case <-time.After(2 * time.Minute):
				run.Process.Kill()
				t.Fatalf("nothing was killed at %s:\n%s", step, out.String())
			}
			for _, w := range ws {
				w.stop(t)
			}
			startWorker(t, env, "c") // stopped by the test's cleanup
			startWorker(t, env, "d")
			if out, err := kontor(t, env, "run", "--as-of", "2026-11-01", "--queue", "--queue-block", "3"); err != nil {
				t.Fatalf("run after the crash: %v\n%s", err, out)
			}
			if got := storetest.Fingerprint(t, st, arc); got != want {
				t.Errorf("state after a crash at %s differs from an uninterrupted run:\n%s", step, storetest.FirstDifference(want, got))
			}
			out2, err := kontor(t, env, "run", "--as-of", "2026-11-01", "--queue")
			if err != nil || !regexp.MustCompile(`: 0 invoices issued, 0 rendered, 0 archived`).MatchString(out2) {
				t.Errorf("a third run issued something: %v\n%s", err, out2)
			}
		})
	}
}

// stopRun is called when a worker ended: it must have been killed at the step; the run,
// waiting for the worker's job, is stopped with SIGTERM and exits 3, unless the worker was
// killed after it archived the last invoice of its job and the run was done already.
func stopRun(t *testing.T, run *exec.Cmd, runDone chan error, out *syncBuffer, step string, workerErr error) {
	t.Helper()
	if !killed(workerErr) {
		t.Fatalf("a worker ended at %s without being killed: %v", step, workerErr)
	}
	run.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-runDone:
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 3) {
			t.Fatalf("the run stopped by SIGTERM: %v, want exit 3\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		run.Process.Kill()
		t.Fatalf("the run did not stop on SIGTERM:\n%s", out.String())
	}
}

// TestConcurrentQueuedRunsWithTwoWorkers starts 4 runs with --queue at once, served by two
// workers: together they issue the 25 invoices once, both workers deliver, and the state
// equals one run that delivered itself.
func TestConcurrentQueuedRunsWithTwoWorkers(t *testing.T) {
	want := reference(t)
	env, st, arc := demoDB(t)
	ws := []*workerProc{startWorker(t, env, "a"), startWorker(t, env, "b")}
	var wg sync.WaitGroup
	outs := make([]string, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = kontor(t, env, "run", "--as-of", "2026-11-01", "--queue", "--queue-block", "2")
		}()
	}
	wg.Wait()
	issued := 0
	re := regexp.MustCompile(`: (\d+) invoices? issued`)
	for i := range 4 {
		if errs[i] != nil {
			t.Fatalf("run %d: %v\n%s", i, errs[i], outs[i])
		}
		m := re.FindStringSubmatch(outs[i])
		if m == nil {
			t.Fatalf("run %d printed no summary:\n%s", i, outs[i])
		}
		n, _ := strconv.Atoi(m[1])
		issued += n
	}
	if issued != 25 {
		t.Errorf("4 concurrent runs issued %d invoices together, want 25", issued)
	}
	for _, w := range ws {
		if err := w.stop(t); err != nil {
			t.Errorf("worker: %v\n%s", err, w.log.String())
		}
	}
	a, b := ws[0].delivered(), ws[1].delivered()
	if a+b != 25 || a == 0 || b == 0 {
		t.Errorf("workers delivered %d and %d invoices; want 25 together, shared", a, b)
	}
	if got := storetest.Fingerprint(t, st, arc); got != want {
		t.Errorf("4 concurrent queued runs differ from one run:\n%s", storetest.FirstDifference(want, got))
	}
}

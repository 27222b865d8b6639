package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/archive/archivetest"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// faultsTag is the build tag that compiles the crash hook into kontor, and crashEnv the
// variable that hook reads (faults.go): the crash tests kill kontor at the named step.
const (
	faultsTag = "kontor_faults"
	crashEnv  = "KONTOR_CRASH_AT"
)

// TestReleaseBinaryHasNoFaultHook: kontor built without the faults tag carries no crash
// hook; with it, it does (so that the check can fail).
func TestReleaseBinaryHasNoFaultHook(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		tags []string
		want bool
	}{{nil, false}, {[]string{"-tags", faultsTag}, true}} {
		bin := filepath.Join(dir, fmt.Sprint("kontor-", c.want))
		args := append(append([]string{"build"}, c.tags...), "-o", bin, ".")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(b, []byte(crashEnv)); got != c.want {
			t.Errorf("go %v: binary mentions %s: %v, want %v", args, crashEnv, got, c.want)
		}
	}
}

// kontorBinary builds the kontor command once for the tests that run it as a process.
func kontorBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kontor-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kontor")
		// The tests kill runs at named steps: the binary is built with the fault hook.
		out, err := exec.Command("go", "build", "-tags", faultsTag, "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// kontor runs the binary; it returns its output and how it ended.
func kontor(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(kontorBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// demoDB is a fresh database with the demo dataset imported, and an empty archive.
func demoDB(t *testing.T) (env []string, st *store.Store, arc string) {
	t.Helper()
	url, st := storetest.New(t)
	arc = t.TempDir()
	env = []string{"DATABASE_URL=" + url, "KONTOR_ARCHIVE=file://" + arc}
	if out, err := kontor(t, env, "import", "--data", "../../fixtures/demo"); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	return env, st, arc
}

var (
	refOnce sync.Once
	refFP   string
)

// reference is the state after one uninterrupted run of the demo as of 2026-11-01.
func reference(t *testing.T) string {
	t.Helper()
	refOnce.Do(func() {
		env, st, arc := demoDB(t)
		if out, err := kontor(t, env, "run", "--as-of", "2026-11-01"); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
		refFP = storetest.Fingerprint(t, st, arc)
	})
	if refFP == "" {
		t.Fatal("no reference state")
	}
	return refFP
}

// crashSteps are the named steps of a run where the crash test kills it (see jobs.Run).
// The crashing run assembles in parts of about 10 subscriptions (--part 10: 4 parts of the
// demo's 39) and finalizes with --finalize-batch 12, in batches of drafts 1–12, 13–24
// and 25; the run after it uses the defaults (one part), and the reference run too.
var crashSteps = []string{
	"locked", "loaded", "assembled", "stored-part-1", "stored-part-3", "saved",
	"finalize-1", "finalized-12", "finalize-13", "finalized-24", "finalize-25", "finalized-25",
	"render-1", "rendered-1", "render-8", "rendered-25",
	"put-1-json", "put-1-pdf", "put-1-xml", "archived-1", "put-12-pdf", "archived-12", "archived-25", "licensed",
	"reported", "done",
}

// TestCrashAnywhereThenRunAgain kills kontor run with SIGKILL at each named step and runs it
// again: the final state (numbers, lines, totals, archived file hashes, ledger, usage)
// equals that of an uninterrupted run, with no gap, duplicate or lost usage.
func TestCrashAnywhereThenRunAgain(t *testing.T) {
	want := reference(t)
	if len(crashSteps) < 20 {
		t.Fatalf("only %d crash steps", len(crashSteps))
	}
	for _, step := range crashSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			env, st, arc := demoDB(t)
			out, err := kontor(t, append(env, crashEnv+"="+step), "run", "--as-of", "2026-11-01", "--finalize-batch", "12", "--part", "10")
			if !killed(err) {
				t.Fatalf("the run was not killed at %s: %v\n%s", step, err, out)
			}
			if out, err := kontor(t, env, "run", "--as-of", "2026-11-01"); err != nil {
				t.Fatalf("run after the crash: %v\n%s", err, out)
			}
			if got := storetest.Fingerprint(t, st, arc); got != want {
				t.Errorf("state after a crash at %s differs from an uninterrupted run:\n%s", step, storetest.FirstDifference(want, got))
			}
			out, err = kontor(t, env, "run", "--as-of", "2026-11-01")
			if err != nil || !regexp.MustCompile(`: 0 invoices issued`).MatchString(out) {
				t.Errorf("a third run issued something: %v\n%s", err, out)
			}
		})
	}
}

// TestConcurrentRunsEqualOne starts 4 runs for the same date at once.
func TestConcurrentRunsEqualOne(t *testing.T) {
	want := reference(t)
	env, st, arc := demoDB(t)
	var wg sync.WaitGroup
	outs := make([]string, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = kontor(t, env, "run", "--as-of", "2026-11-01")
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
	if got := storetest.Fingerprint(t, st, arc); got != want {
		t.Errorf("4 concurrent runs differ from one:\n%s", storetest.FirstDifference(want, got))
	}
}

// TestMakeDemoTwice runs make demo twice: the second issues nothing.
func TestMakeDemoTwice(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIPPING: make is not installed")
	}
	url, _ := storetest.New(t)
	arc := t.TempDir()
	run := func() string {
		cmd := exec.Command("make", "-C", "../..", "demo")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "KONTOR_ARCHIVE=file://"+arc)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make demo: %v\n%s", err, out)
		}
		return string(out)
	}
	if first := run(); !regexp.MustCompile(`: 25 invoices issued`).MatchString(first) {
		t.Fatalf("first make demo:\n%s", first)
	}
	if second := run(); !regexp.MustCompile(`: 0 invoices issued`).MatchString(second) {
		t.Errorf("second make demo issued invoices:\n%s", second)
	}
	files, _ := filepath.Glob(filepath.Join(arc, "invoices/2026/11/*.pdf"))
	if len(files) != 25 {
		t.Errorf("%d PDFs archived, want 25", len(files))
	}
}

// TestMakeDemoWithS3 runs make demo with KONTOR_ARCHIVE=s3://… against a real
// S3-compatible server, as the README shows.
func TestMakeDemoWithS3(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIPPING: make is not installed")
	}
	srv := archivetest.Start(t)
	srv.Bucket(t, "kontor-archive")
	url, _ := storetest.New(t)
	cmd := exec.Command("make", "-C", "../..", "demo")
	cmd.Env = append(append(os.Environ(), archivetest.Env()...), "DATABASE_URL="+url,
		"KONTOR_ARCHIVE=s3://kontor-archive/invoices-demo", "AWS_ENDPOINT_URL_S3="+srv.Endpoint)
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`: 25 invoices issued, 25 rendered, 25 archived`).Match(out) {
		t.Fatalf("make demo with S3: %v\n%s", err, out)
	}
	pdfs, _ := filepath.Glob(filepath.Join(srv.Dir, "kontor-archive/invoices-demo/invoices/2026/11/*.pdf"))
	if len(pdfs) != 25 {
		t.Errorf("%d PDFs in the bucket, want 25", len(pdfs))
	}
}

// TestScheduleReplicas runs two scheduler replicas ticking every second against one
// database, stops them with SIGTERM, and checks that every tick was executed by exactly one
// replica, that the logs are JSON and that the billing state is consistent.
func TestScheduleReplicas(t *testing.T) {
	env, st, _ := demoDB(t)
	type proc struct {
		cmd    *exec.Cmd
		stderr *strings.Builder
	}
	var ps []proc
	for i := range 2 {
		cmd := exec.Command(kontorBinary(t), "schedule", "--cron", "* * * * * *", "--replica", fmt.Sprintf("r%d", i))
		cmd.Env = append(os.Environ(), env...)
		var b strings.Builder
		cmd.Stderr = &b
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, proc{cmd, &b})
	}
	time.Sleep(4500 * time.Millisecond)
	for _, p := range ps {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range ps {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("replica %d: %v\n%s", i, err, p.stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("replica %d logged a line that is not JSON: %q", i, line)
			}
		}
		if !strings.Contains(p.stderr.String(), `"msg":"stopped"`) {
			t.Errorf("replica %d did not stop cleanly:\n%s", i, p.stderr.String())
		}
	}
	ctx := context.Background()
	var ticks, replicas int
	if err := st.Pool().QueryRow(ctx, `select count(*), count(distinct replica) from schedule_ticks`).Scan(&ticks, &replicas); err != nil {
		t.Fatal(err)
	}
	if ticks < 3 {
		t.Errorf("only %d ticks were executed in 4.5 s", ticks)
	}
	executed := strings.Count(ps[0].stderr.String(), `"msg":"tick",`) + strings.Count(ps[1].stderr.String(), `"msg":"tick",`)
	if executed != ticks {
		t.Errorf("%d ticks claimed, %d executed", ticks, executed)
	}
	// Whatever the SIGTERM interrupted, a run finishes it; numbers stay gapless.
	if out, err := kontor(t, env, "run"); err != nil {
		t.Fatalf("run after the schedule: %v\n%s", err, out)
	}
	var n, maxSeq int
	if err := st.Pool().QueryRow(ctx, `select count(*), coalesce(max(seq), 0) from invoices where status = 'archived'`).Scan(&n, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != maxSeq {
		t.Errorf("%d archived invoices, highest number %d", n, maxSeq)
	}
	storetest.Fingerprint(t, st, "")
}

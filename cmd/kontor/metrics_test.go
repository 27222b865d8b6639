package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scrape reads the samples of a Prometheus text exposition: "name{labels}" → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestScheduleMetricsChangeAsARunProceeds scrapes a scheduler's /metrics from before its
// first tick until its first run is done.
func TestScheduleMetricsChangeAsARunProceeds(t *testing.T) {
	env, st, _ := demoDB(t)
	addr := freePort(t)
	cmd := exec.Command(kontorBinary(t), "schedule", "--cron", "* * * * * *", "--metrics-addr", addr)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok\n" {
				t.Fatalf("healthz: %s %q", resp.Status, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics server: %v\n%s", err, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var seen []map[string]float64
	for {
		m := scrape(t, base+"/metrics")
		seen = append(seen, m)
		if m[`kontor_runs_total{result="done"}`] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run done in 30 s:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	first, last := seen[0], seen[len(seen)-1]
	if first[`kontor_runs_total{result="done"}`] != 0 || first[`kontor_documents_total{stage="finalize"}`] != 0 {
		t.Errorf("the first scrape already shows work: %v", first)
	}
	for _, stage := range []string{"finalize", "render", "archive"} {
		key := fmt.Sprintf(`kontor_documents_total{stage=%q}`, stage)
		if last[key] != 25 {
			t.Errorf("%s = %v after the demo run, want 25", key, last[key])
		}
		for i := 1; i < len(seen); i++ {
			if seen[i][key] < seen[i-1][key] {
				t.Errorf("%s went down: %v then %v", key, seen[i-1][key], seen[i][key])
			}
		}
	}
	for _, stage := range []string{"load", "rate", "assemble", "finalize", "deliver", "licenses", "report"} {
		if n := last[fmt.Sprintf(`kontor_stage_duration_seconds_count{stage=%q}`, stage)]; n < 1 {
			t.Errorf("stage %s: no duration observed", stage)
		}
	}
	if _, ok := last["kontor_archive_retries_total"]; !ok || last[`kontor_runs_total{result="failed"}`] != 0 || last["kontor_last_run_done_timestamp_seconds"] < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("after the run: %v", last)
	}
	var during int
	for _, m := range seen {
		if m["kontor_run_in_progress"] == 1 {
			during++
		}
	}
	t.Logf("%d scrapes, %d during the run", len(seen), during)
	if during == 0 {
		t.Error("no scrape saw the run in progress")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("schedule: %v\n%s", err, stderr.String())
	}
	// A scheduler started again reports the last run (read from the database) before it
	// runs one itself: its next tick is a year away. The first scheduler, ticking every
	// second, may have finished more runs after the last scrape: the database says which
	// was last.
	finished, _, ok, err := st.LastRunDone(context.Background())
	if err != nil || !ok {
		t.Fatalf("last run done: %v %v", ok, err)
	}
	restarted := scrapeNewScheduler(t, env, "0 0 1 1 *")
	want := float64(finished.UnixNano()) / 1e9
	if got := restarted["kontor_last_run_done_timestamp_seconds"]; got < want-1 || got > want+1 || got < last["kontor_last_run_done_timestamp_seconds"]-5 {
		t.Errorf("restarted: last run done at %v, want the last run's %v", got, want)
	}
	if got := restarted["kontor_last_run_skipped_buyers"]; got != 2 {
		t.Errorf("restarted: %v skipped buyers, want the demo run's 2", got)
	}
	if restarted[`kontor_runs_total{result="done"}`] != 0 {
		t.Errorf("restarted: a run counted: %v", restarted)
	}
}

// scrapeNewScheduler starts kontor schedule with spec and returns its first metrics.
func scrapeNewScheduler(t *testing.T, env []string, spec string) map[string]float64 {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(kontorBinary(t), "schedule", "--cron", spec, "--metrics-addr", addr)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return scrape(t, "http://"+addr+"/metrics")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics server:\n%s", stderr.String())
		}
	}
}

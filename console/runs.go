package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
)

// runRow is a run as the runs page lists it.
type runRow struct {
	store.RunRecord
	Summary  jobs.Summary
	Duration string
}

type runsPage struct {
	Runs   []runRow
	Live   liveState
	NextAs string // the date the next period-end run is as of: the 1st of next month
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	recs, err := s.cfg.Store.Runs(r.Context(), 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]runRow, 0, len(recs))
	for _, rec := range recs {
		row := runRow{RunRecord: rec}
		if len(rec.Summary) > 0 {
			if err := json.Unmarshal(rec.Summary, &row.Summary); err != nil {
				s.fail(w, r, fmt.Errorf("run %d: summary: %w", rec.ID, err))
				return
			}
		}
		if !rec.Finished.IsZero() {
			row.Duration = rec.Finished.Sub(rec.Started).Round(100 * time.Millisecond).String()
		}
		rows = append(rows, row)
	}
	s.render(w, r, "runs", runsPage{Runs: rows, Live: s.live.state(), NextAs: s.nextAsOf(r, recs).String()})
}

// nextAsOf is the date the dry run proposes: a month after the latest finished run, or
// the 1st of this month in the billing time zone when none has finished.
func (s *Server) nextAsOf(r *http.Request, runs []store.RunRecord) calendar.Date {
	for _, rec := range runs {
		if rec.Status == "done" {
			return rec.AsOf.AddMonths(1)
		}
	}
	y, m, _ := calendar.Of(s.now(), s.location(r)).Date()
	return calendar.New(y, m, 1)
}

// runReport serves a finished run's HTML report, as kontor report run writes it.
func (s *Server) runReport(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	html, err := jobs.RunReport(r.Context(), s.cfg.Store, id)
	if errors.Is(err, store.ErrNoRun) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, userOf(r).Name, "view report", "run "+strconv.FormatInt(id, 10))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(html)
}

type dryRunPage struct {
	AsOf    string
	Error   string
	Summary *jobs.Summary
	Busy    bool
}

// dryRun shows what a run as of the date would bill, skip and deactivate, with the button
// that starts it.
func (s *Server) dryRun(w http.ResponseWriter, r *http.Request) {
	asOf, err := calendar.Parse(r.URL.Query().Get("as_of"))
	if err != nil {
		s.renderStatus(w, r, http.StatusBadRequest, "dryrun", dryRunPage{AsOf: r.URL.Query().Get("as_of"), Error: "as_of must be a date YYYY-MM-DD"})
		return
	}
	free, err := s.runLockFree(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !free {
		s.renderStatus(w, r, http.StatusConflict, "dryrun", dryRunPage{AsOf: asOf.String(), Busy: true})
		return
	}
	sum, err := jobs.Run(r.Context(), s.cfg.Store, jobs.RunOptions{AsOf: asOf, DryRun: true, Logger: s.cfg.Logger})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, userOf(r).Name, "dry run", asOf.String())
	s.render(w, r, "dryrun", dryRunPage{AsOf: asOf.String(), Summary: &sum})
}

// runLockFree reports whether no run holds the run lock (a run from the console, the CLI
// or the scheduler): the console starts no second one.
func (s *Server) runLockFree(r *http.Request) (bool, error) {
	unlock, free, err := s.cfg.Store.TryLock(r.Context(), store.RunLock)
	if free {
		unlock()
	}
	return free, err
}

// startRun starts a run as of the posted date, unless a run holds the lock, and shows its
// progress.
func (s *Server) startRun(w http.ResponseWriter, r *http.Request) {
	asOf, err := calendar.Parse(r.PostFormValue("as_of"))
	if err != nil {
		http.Error(w, "as_of must be a date YYYY-MM-DD", http.StatusBadRequest)
		return
	}
	free, err := s.runLockFree(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !free || !s.live.begin(asOf, userOf(r).Name, s.now()) {
		s.renderStatus(w, r, http.StatusConflict, "dryrun", dryRunPage{AsOf: asOf.String(), Busy: true})
		return
	}
	name := userOf(r).Name
	s.audit(r, name, "start run", asOf.String())
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		s.run(asOf, name)
	}()
	http.Redirect(w, r, "/runs/live", http.StatusSeeOther)
}

// run runs as of asOf for user name, telling s.live how far it got. When the server
// stops, the run stops after the invoice in hand; the next run finishes it.
func (s *Server) run(asOf calendar.Date, name string) {
	sum, err := jobs.Run(s.runs, s.cfg.Store, jobs.RunOptions{AsOf: asOf, StartedBy: name,
		Renderer: s.cfg.Renderer, Archive: s.cfg.Archive, Logger: s.cfg.Logger, Progress: s.live.progress, Charger: s.cfg.Charger})
	if err != nil {
		s.cfg.Logger.Error("console: run failed", "as_of", asOf, "user", name, "err", err)
	}
	s.live.end(sum, err, s.now())
}

func (s *Server) livePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "live", s.live.state())
}

func (s *Server) liveJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.live.state())
}

// liveState is the progress of the run the console started last.
type liveState struct {
	Running  bool   `json:"running"`
	AsOf     string `json:"as_of,omitempty"`
	By       string `json:"by,omitempty"`
	Started  string `json:"started,omitempty"`
	Stage    string `json:"stage,omitempty"`
	Done     int    `json:"done"`
	Total    int    `json:"total"`
	RunID    int64  `json:"run_id,omitempty"`
	Issued   int    `json:"issued"`
	Error    string `json:"error,omitempty"`
	Finished string `json:"finished,omitempty"`
}

type liveRun struct {
	mu sync.Mutex
	s  liveState
}

// begin records a run's start; false when one started from this console is running.
func (l *liveRun) begin(asOf calendar.Date, by string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s.Running {
		return false
	}
	l.s = liveState{Running: true, AsOf: asOf.String(), By: by, Started: now.Format(time.RFC3339), Stage: "starting"}
	return true
}

func (l *liveRun) progress(stage string, done, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.Stage, l.s.Done, l.s.Total = stage, done, total
}

func (l *liveRun) end(sum jobs.Summary, err error, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.Running, l.s.RunID, l.s.Issued, l.s.Finished = false, sum.RunID, len(sum.Issued), now.Format(time.RFC3339)
	l.s.Stage = "done"
	if err != nil {
		l.s.Stage, l.s.Error = "failed", "the run failed; the server log says why"
	}
}

func (l *liveRun) state() liveState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

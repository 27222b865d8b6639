package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kontor-billing/kontor/jobs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runMetrics are the Prometheus metrics of the runs a daemon makes.
type runMetrics struct {
	reg        *prometheus.Registry
	runs       *prometheus.CounterVec
	inProgress prometheus.Gauge
	documents  *prometheus.CounterVec
	stages     *prometheus.HistogramVec
	lastDone   prometheus.Gauge
	skipped    prometheus.Gauge
}

// retryCounter is an archive that counts its retried requests (S3).
type retryCounter interface{ Retries() int64 }

func newRunMetrics(arc any) *runMetrics {
	reg := prometheus.NewRegistry()
	m := &runMetrics{
		reg: reg,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontor_runs_total",
			Help: "Runs by result: done, failed (an error; the next run finishes the work), stopped (by a signal)."}, []string{"result"}),
		inProgress: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontor_run_in_progress", Help: "1 while a run is in progress."}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontor_documents_total",
			Help: "Invoices and credit notes by the stage they completed: finalize (numbered, issued), render, archive."}, []string{"stage"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kontor_stage_duration_seconds",
			Help:    "Duration of each stage of a run: load, rate, assemble, finalize, deliver (render and archive), licenses, report.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"stage"}),
		lastDone: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontor_last_run_done_timestamp_seconds",
			Help: "Unix time at which the last run finished successfully (alert when it gets old)."}),
		skipped: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontor_last_run_skipped_buyers",
			Help: "Buyers the last run could not invoice (see the run report for the reasons)."}),
	}
	for _, r := range []string{"done", "failed", "stopped"} {
		m.runs.WithLabelValues(r)
	}
	for _, s := range []string{"finalize", "render", "archive"} {
		m.documents.WithLabelValues(s)
	}
	reg.MustRegister(m.runs, m.inProgress, m.documents, m.stages, m.lastDone, m.skipped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var retries func() float64
	if rc, ok := arc.(retryCounter); ok {
		retries = func() float64 { return float64(rc.Retries()) }
	} else {
		retries = func() float64 { return 0 } // a local directory is not retried
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kontor_archive_retries_total",
		Help: "Archive requests sent again after a failure or throttling (S3)."}, retries))
	return m
}

// instrument sets the run's progress and stage hooks to update the metrics.
func (m *runMetrics) instrument(opt *jobs.RunOptions) {
	progress, stageDone := opt.Progress, opt.StageDone
	seen := map[string]int{} // documents counted per stage in this run
	opt.Progress = func(stage string, done, total int) {
		if stage != "assemble" { // counts parts, not documents
			m.documents.WithLabelValues(stage).Add(float64(max(0, done-seen[stage])))
			seen[stage] = max(seen[stage], done)
		}
		if progress != nil {
			progress(stage, done, total)
		}
	}
	opt.StageDone = func(stage string, d time.Duration) {
		m.stages.WithLabelValues(stage).Observe(d.Seconds())
		if stageDone != nil {
			stageDone(stage, d)
		}
	}
}

func (m *runMetrics) started() { m.inProgress.Set(1) }

// lastRunDoner reads the latest finished run.
type lastRunDoner interface {
	LastRunDone(ctx context.Context) (finished time.Time, skipped int, ok bool, err error)
}

// restore sets the last run's gauges from the database, so that a restarted daemon
// reports the run that finished before it started, not none.
func (m *runMetrics) restore(ctx context.Context, st lastRunDoner) error {
	finished, skipped, ok, err := st.LastRunDone(ctx)
	if err != nil || !ok {
		return err
	}
	m.lastDone.Set(float64(finished.UnixNano()) / 1e9)
	m.skipped.Set(float64(skipped))
	return nil
}

func (m *runMetrics) finished(sum jobs.Summary, err error) {
	m.inProgress.Set(0)
	switch {
	case errors.Is(err, jobs.ErrStopped):
		m.runs.WithLabelValues("stopped").Inc()
	case err != nil:
		m.runs.WithLabelValues("failed").Inc()
	default:
		m.runs.WithLabelValues("done").Inc()
		m.lastDone.SetToCurrentTime()
		m.skipped.Set(float64(len(sum.Skipped)))
	}
}

// serveMetrics serves /metrics and /healthz on addr until ctx ends. /healthz answers 200
// when health (a database ping) succeeds within 2 s, else 503.
func serveMetrics(ctx context.Context, addr string, m *runMetrics, health func(context.Context) error, webhook http.Handler, log *slog.Logger) (net.Addr, error) {
	mux := http.NewServeMux()
	if webhook != nil {
		mux.Handle("POST /webhooks/stripe", webhook)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		hctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := health(hctx); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "error", err.Error())
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return ln.Addr(), nil
}

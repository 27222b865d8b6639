package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

func newWorker(dbFlag *string, stderr io.Writer) *cobra.Command {
	var archiveFlag, logFormat, id, metricsAddr string
	var opt jobs.WorkerOptions
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Render and archive invoices for runs started with --queue (a daemon; run as many as needed)",
		Long: `worker takes delivery jobs from the job queue in the database (river): each job is a block
of finalized invoices to render as XML and PDF/A-3 and archive. Start any number of
workers, on any machines that reach the database and the archive; "kontor run --queue"
(or "kontor schedule --queue") assembles and numbers the invoices, enqueues them and waits
until the workers have archived every one. A job is recorded invoice by invoice, so a job
worked twice (a retry, a rerun) archives the same bytes once. A worker that is killed
leaves its job running: river's rescuer, in whichever worker leads, makes it available
again after --rescue-after, and a rerun of kontor run hands its invoices out at once.
SIGTERM or SIGINT stops the worker after the jobs in hand. Logs are JSON by default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h slog.Handler = slog.NewJSONHandler(stderr, nil)
			if logFormat == "text" {
				h = slog.NewTextHandler(stderr, nil)
			}
			log := slog.New(h).With("worker", id)
			ctx := cmd.Context()
			st, err := store.Open(ctx, databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			r, arc, err := renderAndArchive(ctx, archiveFlag)
			if err != nil {
				return err
			}
			m := newRunMetrics(arc)
			if metricsAddr != "" {
				mctx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
				defer stopMetrics()
				if _, err := serveMetrics(mctx, metricsAddr, m, st.Pool().Ping, nil, log); err != nil {
					return fmt.Errorf("--metrics-addr %s: %w", metricsAddr, err)
				}
			}
			opt.ID = id
			if opt.Concurrency < 1 {
				opt.Concurrency = 2 * runtime.GOMAXPROCS(0)
			}
			c, err := jobs.NewWorker(st.Pool(), jobs.Delivery{Store: st, Renderer: r, Archive: arc, Logger: log, Crash: crashHook(),
				Done: func(stage string, n int) { m.documents.WithLabelValues(stage).Add(float64(n)) }}, opt)
			if err != nil {
				return err
			}
			// The client runs on a context of its own: a signal stops it gracefully below.
			if err := c.Start(context.WithoutCancel(ctx)); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			log.Info("worker started", "queue", jobs.QueueName, "concurrency", opt.Concurrency)
			<-ctx.Done()
			log.Info("stopping: finishing the jobs in hand")
			if err := c.Stop(context.WithoutCancel(ctx)); err != nil {
				return fmt.Errorf("stop worker: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	host, _ := os.Hostname()
	cmd.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else "+archive.DefaultURL+")")
	cmd.Flags().StringVar(&logFormat, "log-format", "json", "log format: json or text")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this address (default off)")
	cmd.Flags().StringVar(&id, "id", fmt.Sprintf("%s-%d", host, os.Getpid()), "name of this worker in logs and the queue's tables")
	cmd.Flags().IntVar(&opt.Concurrency, "concurrency", 0, "jobs worked at once (default 2 × GOMAXPROCS)")
	cmd.Flags().DurationVar(&opt.JobTimeout, "job-timeout", 10*time.Minute, "a job running longer is cancelled and retried")
	cmd.Flags().DurationVar(&opt.RescueAfter, "rescue-after", 15*time.Minute, "a job running longer (its worker was killed) is made available again; more than --job-timeout")
	cmd.Flags().DurationVar(&opt.Poll, "poll", time.Second, "how often to look for jobs when not notified")
	return cmd
}

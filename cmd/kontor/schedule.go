package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"
)

func newSchedule(dbFlag *string, stderr io.Writer) *cobra.Command {
	var spec, archiveFlag, logFormat, replica, metricsAddr string
	var queued bool
	var block int
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run kontor run on a cron schedule (a daemon; several replicas may run)",
		Long: `schedule runs "kontor run" as of today (in the billing time zone) at every tick of a cron
schedule, read in the billing time zone: 5 fields (minute hour day month weekday), an
optional leading seconds field, or descriptors such as @daily. Several replicas may run
against one database: each tick is claimed in the database by exactly one of them, and runs
never overlap (advisory lock). SIGTERM or SIGINT stops the daemon: a run in progress
finishes the invoice in hand, and the next tick or run finishes the rest. Logs are JSON by
default. With --metrics-addr it serves Prometheus metrics on /metrics (runs, documents
issued, rendered and archived, stage durations, archive retries) and /healthz (200 when
the database answers).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h slog.Handler = slog.NewJSONHandler(stderr, nil)
			if logFormat == "text" {
				h = slog.NewTextHandler(stderr, nil)
			}
			log := slog.New(h).With("replica", replica)
			ctx := cmd.Context()
			parser := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
			sched, err := parser.Parse(spec)
			if err != nil {
				return usageError(fmt.Errorf("--cron %q: %w", spec, err))
			}
			st, seller, err := openWithSeller(ctx, *dbFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			loc := seller.Location
			r, arc, err := renderAndArchive(ctx, archiveFlag)
			if err != nil {
				return err
			}
			q, err := queueFor(st, queued, block)
			if err != nil {
				return err
			}
			m := newRunMetrics(arc)
			if err := m.restore(ctx, st); err != nil {
				return err
			}
			if metricsAddr != "" {
				// Served until the daemon returns, also while a stopping run finishes.
				mctx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
				defer stopMetrics()
				if _, err := serveMetrics(mctx, metricsAddr, m, st.Pool().Ping, stripeWebhook(st, loc, log), log); err != nil {
					return fmt.Errorf("--metrics-addr %s: %w", metricsAddr, err)
				}
			}
			t := ticker{st: st, loc: loc, replica: replica, log: log, metrics: m,
				opt: jobs.RunOptions{Renderer: r, Archive: arc, Logger: log, Crash: crashHook(), Queue: q, Charger: stripeCharger()}}
			if err := startMail(ctx, st, arc, seller.Email, log); err != nil {
				return err
			}
			c := cron.New(cron.WithLocation(loc), cron.WithParser(parser))
			c.Schedule(sched, cron.FuncJob(func() { t.tick(ctx) }))
			c.Start()
			log.Info("schedule started", "cron", spec, "time_zone", loc.String(), "next", sched.Next(time.Now().In(loc)))
			<-ctx.Done()
			log.Info("stopping: waiting for the run in progress")
			<-c.Stop().Done()
			log.Info("stopped")
			return nil
		},
	}
	host, _ := os.Hostname()
	cmd.Flags().StringVar(&spec, "cron", "0 2 * * *", "cron schedule, in the billing time zone")
	cmd.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else "+archive.DefaultURL+")")
	cmd.Flags().StringVar(&logFormat, "log-format", "json", "log format: json or text")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this address (e.g. :9090; default off)")
	queueFlags(cmd, &queued, &block)
	cmd.Flags().StringVar(&replica, "replica", fmt.Sprintf("%s-%d", host, os.Getpid()), "name of this replica in logs and tick claims")
	return cmd
}

// ticker runs kontor run at a tick of the schedule, when this replica claims the tick.
type ticker struct {
	st      *store.Store
	loc     *time.Location
	replica string
	log     *slog.Logger
	metrics *runMetrics
	opt     jobs.RunOptions // the run's options but its date
}

// tick claims the tick now and, when this replica wins it, runs as of today.
func (t ticker) tick(ctx context.Context) {
	tick := time.Now().In(t.loc).Truncate(time.Second)
	if ctx.Err() != nil {
		return
	}
	won, err := t.st.ClaimTick(ctx, tick, t.replica)
	if err != nil {
		t.log.Error("tick", "tick", tick, "error", err.Error())
		return
	}
	if !won {
		t.log.Info("tick executed by another replica", "tick", tick)
		return
	}
	asOf := calendar.Of(tick, t.loc)
	t.log.Info("tick", "tick", tick, "as_of", asOf.String())
	opt := t.opt
	opt.AsOf = asOf
	t.metrics.instrument(&opt)
	t.metrics.started()
	sum, err := jobs.Run(ctx, t.st, opt)
	t.metrics.finished(sum, err)
	switch {
	case errors.Is(err, jobs.ErrStopped):
		t.log.Warn("run stopped by signal", "as_of", asOf.String(), "issued", len(sum.Issued))
	case err != nil:
		t.log.Error("run failed", "as_of", asOf.String(), "error", err.Error())
	default:
		t.log.Info("run summary", "run", sum.RunID, "as_of", asOf.String(), "issued", len(sum.Issued), "archived", sum.Archived, "skipped", len(sum.Skipped), "seconds", sum.Seconds)
	}
}

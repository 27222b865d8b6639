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
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/licensing"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/spf13/cobra"
)

func databaseURL(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv("DATABASE_URL"); v != "" {
		return v
	}
	return store.DefaultURL
}

func archiveURL(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv("KONTOR_ARCHIVE"); v != "" {
		return v
	}
	return archive.DefaultURL
}

func newMigrate(dbFlag *string, logger *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database if it is missing and bring its schema up to date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			url := databaseURL(*dbFlag)
			if err := store.EnsureDatabase(ctx, url); err != nil {
				return err
			}
			st, err := store.Open(ctx, url)
			if err != nil {
				return err
			}
			defer st.Close()
			from, to, err := st.Migrate(ctx)
			if err != nil {
				return err
			}
			logger.Info("schema migrated", "from_version", from, "to_version", to)
			return nil
		},
	}
}

func newImport(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import a dataset into the database (idempotent; a dataset with errors imports nothing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, usage, err := dataset.OpenDir(dataDir)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			st, err := store.Open(cmd.Context(), databaseURL(*dbFlag))
			if err != nil {
				return err
			}
			defer st.Close()
			prog := newProgress(cmd.ErrOrStderr(), logger)
			usage.Progress = func(read, total int64) { prog.update("read and copy usage files (MiB)", int(read>>20), int(total>>20)) }
			res, err := st.ImportEvents(cmd.Context(), ds, usage)
			prog.finish()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %s added or changed, %s added, %d already stored, %s in the files\n",
				dataDir, invoice.Count(res.Records, "record", "records"), invoice.Count(res.Events, "usage event", "usage events"),
				res.KnownEvents, invoice.Count(res.DuplicateRows, "duplicate row", "duplicate rows"))
			logger.Info("imported", "data", dataDir, "records", res.Records, "events", res.Events, "known_events", res.KnownEvents)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "fixtures/demo", "dataset directory")
	return cmd
}

func newRun(dbFlag *string, logger *slog.Logger) *cobra.Command {
	var asOfFlag, archiveFlag string
	var dryRun, queued bool
	var batch, block, part int
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Bill everything due as of a date: assemble, finalize, render, archive",
		Long: `run bills everything that is due as of the date and not billed yet, as persisted stages
(assemble drafts → finalize with gapless numbers → render XML and PDF/A-3 → archive). Running
it again for the same date issues nothing new; an interrupted run is finished by the next.
Concurrent runs wait for each other (PostgreSQL advisory lock). With --queue the run hands
rendering and archiving to "kontor worker" processes through the job queue in the
database and waits until they have archived every invoice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, seller, asOf, err := openAsOf(ctx, *dbFlag, asOfFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			if part < 1 {
				return usageError(fmt.Errorf("--part %d: must be at least 1", part))
			}
			r, arc, err := renderAndArchive(ctx, archiveFlag)
			if err != nil {
				return err
			}
			q, err := queueFor(st, queued, block)
			if err != nil {
				return err
			}
			prog := newProgress(cmd.ErrOrStderr(), logger)
			sum, err := jobs.Run(ctx, st, jobs.RunOptions{AsOf: asOf, DryRun: dryRun, Renderer: r, Archive: arc, Logger: logger, Crash: crashHook(),
				Progress: prog.update, FinalizeBatch: batch, Part: part, Queue: q, Charger: stripeCharger(),
				StageDone: func(stage string, d time.Duration) { logger.Info("stage done", "stage", stage, "seconds", d.Seconds()) }})
			prog.finish()
			if errors.Is(err, jobs.ErrStopped) {
				_ = writeSummary(cmd.OutOrStdout(), sum) // the stop is what the exit code says
				return &exitError{code: 3, err: err}
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if dryRun {
				fmt.Fprintf(out, "dry run as of %s: nothing was changed\n\n", asOf)
				if err := invoice.WriteTable(out, *sum.Preview, sum.Usage); err != nil {
					return err
				}
				return writeLicenses(out, sum.Licenses, "would change")
			}
			if err := writeSummary(out, sum); err != nil {
				return err
			}
			return sendOutbox(ctx, out, st, arc, seller.Email, logger)
		},
	}
	cmd.Flags().StringVar(&asOfFlag, "as-of", "", "run date YYYY-MM-DD (default: today in the billing time zone)")
	cmd.Flags().StringVar(&archiveFlag, "archive", "", "archive URL (default $KONTOR_ARCHIVE, else "+archive.DefaultURL+")")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what the run would bill and change nothing")
	cmd.Flags().IntVar(&batch, "finalize-batch", jobs.DefaultFinalizeBatch, "invoices numbered and finalized per database transaction")
	cmd.Flags().IntVar(&part, "part", jobs.DefaultPart, "subscriptions rated, assembled and stored together (all parts in one transaction): less holds less in memory")
	queueFlags(cmd, &queued, &block)
	return cmd
}

func queueFlags(cmd *cobra.Command, queued *bool, block *int) {
	cmd.Flags().BoolVar(queued, "queue", false, "hand rendering and archiving to kontor worker processes and wait for them")
	cmd.Flags().IntVar(block, "queue-block", jobs.DefaultQueueBlock, "invoices per job with --queue")
}

// queueFor returns the job queue when --queue is set, else nil (the run renders and
// archives itself).
func queueFor(st *store.Store, queued bool, block int) (*jobs.Queue, error) {
	if !queued {
		return nil, nil
	}
	if block < 1 {
		return nil, fmt.Errorf("--queue-block %d: must be at least 1", block)
	}
	q, err := jobs.NewQueue(st.Pool(), st)
	if err != nil {
		return nil, err
	}
	q.Block = block
	return q, nil
}

// openWithDataset opens the database and loads the imported dataset; the caller closes
// the store.
func openWithDataset(ctx context.Context, dbFlag string) (*store.Store, *dataset.Dataset, error) {
	st, err := store.Open(ctx, databaseURL(dbFlag))
	if err != nil {
		return nil, nil, err
	}
	ds, err := st.Dataset(ctx)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ds, nil
}

// openAsOf opens the database, loads the imported seller and reads the --as-of flag (today
// in the billing time zone when it is empty); the caller closes the store.
func openAsOf(ctx context.Context, dbFlag, asOfFlag string) (*store.Store, dataset.Seller, calendar.Date, error) {
	st, seller, err := openWithSeller(ctx, dbFlag)
	if err != nil {
		return nil, seller, calendar.Date{}, err
	}
	asOf, err := runDate(asOfFlag, seller, time.Now())
	if err != nil {
		st.Close()
		return nil, seller, asOf, err
	}
	return st, seller, asOf, nil
}

// openWithSeller opens the database and loads the imported seller (the run loads the
// dataset itself, under its lock); the caller closes the store.
func openWithSeller(ctx context.Context, dbFlag string) (*store.Store, dataset.Seller, error) {
	st, err := store.Open(ctx, databaseURL(dbFlag))
	if err != nil {
		return nil, dataset.Seller{}, err
	}
	seller, err := st.Seller(ctx)
	if err != nil {
		st.Close()
		return nil, seller, err
	}
	return st, seller, nil
}

// renderAndArchive prepares what a run needs besides the database: the renderer and the
// archive named by the flag or KONTOR_ARCHIVE.
func renderAndArchive(ctx context.Context, archiveFlag string) (*zugferd.Renderer, archive.Store, error) {
	r, err := zugferd.NewRenderer()
	if err != nil {
		return nil, nil, err
	}
	arc, err := archive.Open(ctx, archiveURL(archiveFlag))
	if err != nil {
		return nil, nil, err
	}
	return r, arc, nil
}

// runDate is the flag's date, else today in the billing time zone.
func runDate(flag string, seller dataset.Seller, now time.Time) (calendar.Date, error) {
	if flag != "" {
		d, err := calendar.Parse(flag)
		if err != nil {
			return d, usageError(fmt.Errorf("--as-of: %w", err))
		}
		return d, nil
	}
	return calendar.Of(now, seller.Location), nil
}

func writeSummary(w io.Writer, s jobs.Summary) error {
	fmt.Fprintf(w, "run %d as of %s: %s issued, %d rendered, %d archived, %d skipped, %.1f s\n",
		s.RunID, s.AsOf, invoice.Count(len(s.Issued), "invoice", "invoices"), s.Rendered, s.Archived, len(s.Skipped), s.Seconds)
	for _, t := range s.Totals {
		fmt.Fprintf(w, "  %s: %s, net %s, VAT %s, gross %s\n", t.Currency, invoice.Count(t.Invoices, "invoice", "invoices"), t.Net.StringFixed(2), t.VAT.StringFixed(2), t.Gross.StringFixed(2))
	}
	for _, sk := range s.Skipped {
		fmt.Fprintf(w, "  skipped %s %s: %s\n", sk.BuyerKind, sk.BuyerID, sk.Reason)
	}
	u := s.Usage
	_, err := fmt.Fprintf(w, "  usage: %d events read: %d rated (%d late), %d settled before the opening date, %d outside the subscription, %d pending; blocked units %s\n",
		u.Events, u.Rated, u.Late, u.SettledBefore, u.Outside, u.Pending, u.UnitsBlocked)
	if err == nil {
		err = writeCharges(w, s)
	}
	if err == nil {
		err = writeLicenses(w, s.Licenses, "changed")
	}
	if err == nil && s.Report != "" {
		_, err = fmt.Fprintf(w, "  report: %s in the archive (kontor report run %d)\n", s.Report, s.RunID)
	}
	return err
}

// writeCharges lists the charges a run made, the invoices it could not charge, and
// whether charging was off.
func writeCharges(w io.Writer, s jobs.Summary) error {
	if s.ChargingOff > 0 {
		fmt.Fprintf(w, "  charging is off (no %s): %s of stored payment methods left open\n", envStripeKey, invoice.Count(s.ChargingOff, "invoice", "invoices"))
	}
	if len(s.Charges) > 0 {
		fmt.Fprintf(w, "  Stripe charges: %d\n", len(s.Charges))
	}
	for _, c := range s.Charges {
		line := fmt.Sprintf("    %s customer %s (%s): %s", c.Invoice, c.Customer, c.Method, c.Status)
		if c.Failure != "" {
			line += " (" + c.Failure + ")"
		}
		fmt.Fprintln(w, line)
	}
	if s.Emails > 0 {
		fmt.Fprintf(w, "  invoice emails queued: %d\n", s.Emails)
	}
	for _, rf := range s.Refunds {
		fmt.Fprintf(w, "  refund of %s (invoice %s) through Stripe: %s %s %s\n", rf.CreditNote, rf.Invoice, rf.Amount.StringFixed(2), rf.Currency, rf.Status)
	}
	if s.RefundsOff > 0 {
		fmt.Fprintf(w, "  refunds through Stripe are off (no %s): %s of invoices paid there not refunded\n", envStripeKey, invoice.Count(s.RefundsOff, "credit note", "credit notes"))
	}
	if len(s.CannotCharge) > 0 {
		fmt.Fprintf(w, "  cannot charge: %d (no Stripe IDs in customers.csv; the invoice stays open, no grace starts)\n", len(s.CannotCharge))
	}
	for _, c := range s.CannotCharge {
		if _, err := fmt.Fprintf(w, "    %s customer %s (%s)\n", c.Invoice, c.Customer, c.Method); err != nil {
			return err
		}
	}
	return nil
}

// writeLicenses lists the license states a run changed (or would change): the customer,
// the state before and after, the unpaid invoice and the grace period.
func writeLicenses(w io.Writer, changes []jobs.LicenseChange, verb string) error {
	if len(changes) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "  licenses %s: %d\n", verb, len(changes)); err != nil {
		return err
	}
	for _, c := range changes {
		why := ""
		switch licensing.State(c.State) {
		case licensing.Grace:
			why = fmt.Sprintf(": invoice %s unpaid since %s, deactivated on %s unless paid", c.Invoice, c.FailedOn, c.GraceEnds)
		case licensing.Deactivated:
			why = fmt.Sprintf(": invoice %s unpaid since %s, the grace ended: deactivated on %s", c.Invoice, c.FailedOn, c.GraceEnds)
		case licensing.Active:
			why = ": paid"
		}
		if _, err := fmt.Fprintf(w, "    customer %s: %s -> %s%s\n", c.Customer, c.From, c.State, why); err != nil {
			return err
		}
	}
	return nil
}

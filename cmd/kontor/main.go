// Command kontor is the batch billing and invoicing pipeline: see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // billing time zones work on machines without a zoneinfo database

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit statuses (README, "The CLI").
const (
	exitFailure = 1 // invalid input or a failed command
	exitUsage   = 2 // bad arguments: nothing was done
	exitStopped = 3 // a run stopped by a signal; the next one finishes it
)

// usageError marks err as a usage error: the command was called wrongly and did nothing.
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

func main() {
	// The soft memory limit is 80 % of what the process may use (its cgroup's memory
	// limit, else the machine's memory), so the collector works harder only where memory
	// is short: a fixed limit below the live data of a large run (1 GiB, before) had it
	// collect without pause (BENCHMARKS.md). The GC target stays Go's default (100): a
	// higher one (400, before) saved little CPU now that runs wait mostly on the database
	// and the disk, and took twice the memory. GOGC, GOMEMLIMIT and AUTOMEMLIMIT (a ratio,
	// or off) in the environment still win.
	_, _ = memlimit.Set(memlimit.WithRatio(0.8), memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code: an error before a
// command began its work (an unknown command or flag, a missing argument or required
// flag) is a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runInput(ctx, args, os.Stdin, stdout, stderr)
}

// runInput runs kontor with args, reading standard input from stdin.
func runInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetIn(stdin)
	began := false
	markBegun(root, &began)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "kontor:", err)
		var ee *exitError
		switch {
		case errors.As(err, &ee):
			return ee.code
		case !began:
			return exitUsage
		}
		return exitFailure
	}
	return 0
}

// markBegun has every command of the tree set *began when its work begins: cobra checks
// the command, its arguments and its flags before.
func markBegun(c *cobra.Command, began *bool) {
	for _, sub := range c.Commands() {
		markBegun(sub, began)
	}
	if runE := c.RunE; runE != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*began = true
			return runE(cmd, args)
		}
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "kontor",
		Short:         "Batch billing and invoicing for Business Central apps",
		Long:          "kontor closes billing periods: it rates usage and overage, applies advance charges,\nprorations and VAT, and issues ZUGFeRD/Factur-X invoices.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var dbFlag string
	root.PersistentFlags().StringVar(&dbFlag, "database-url", "", "PostgreSQL URL (default $DATABASE_URL, else "+store.DefaultURL+")")
	var prof profiles
	root.PersistentFlags().StringVar(&prof.cpu, "cpuprofile", "", "write a CPU profile (go tool pprof) of the command to this file")
	root.PersistentFlags().StringVar(&prof.mem, "memprofile", "", "write a heap profile (go tool pprof) of the command's largest live heap to this file")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return prof.start() }
	root.PersistentPostRunE = func(*cobra.Command, []string) error { return prof.finish() }
	root.AddCommand(newPreview(logger), newVerify(), newMigrate(&dbFlag, logger), newImport(&dbFlag, logger), newRun(&dbFlag, logger), newSchedule(&dbFlag, stderr), newWorker(&dbFlag, stderr),
		newPayments(&dbFlag, logger), newStatus(&dbFlag), newArchiveCmd(&dbFlag), newGenDataset(),
		newCreditNote(&dbFlag, logger), newReport(&dbFlag), newExport(&dbFlag, logger), newServe(&dbFlag, logger), newUser(&dbFlag),
		newReceivables(&dbFlag), newOutbox(&dbFlag, logger))
	return root
}

package main

import (
	"fmt"

	"github.com/kontor-billing/kontor/synthetic"
	"github.com/spf13/cobra"
)

func newGenDataset() *cobra.Command {
	var opt synthetic.Options
	var out string
	cmd := &cobra.Command{
		Use:   "gen-dataset",
		Short: "Write a synthetic dataset for benchmarks (the period-end run as of 2026-11-01)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := synthetic.Write(out, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d customers, %d usage event rows\n", out, opt.Customers, n)
			return nil
		},
	}
	cmd.Flags().IntVar(&opt.Customers, "customers", 1000, "number of customers")
	cmd.Flags().IntVar(&opt.Events, "events", 100000, "number of usage events (plus about 2 % resent duplicates)")
	cmd.Flags().Uint64Var(&opt.Seed, "seed", 1, "random seed; the same seed writes the same dataset")
	cmd.Flags().StringVar(&out, "out", "out/synthetic", "directory to write")
	return cmd
}

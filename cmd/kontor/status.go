package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"os"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/store"
	"github.com/spf13/cobra"
)

// readPayments reads a payment results file, reporting every bad line.
func readPayments(file string) ([]store.PaymentResult, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range []string{"invoice", "attempted_at", "outcome"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s:1: required column %s is missing", file, c)
		}
	}
	var out []store.PaymentResult
	var problems []string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := store.PaymentResult{Invoice: get("invoice"), Reference: get("reference"), Line: line}
		at, err := time.Parse(time.RFC3339, get("attempted_at"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: field attempted_at: %q is not an RFC 3339 timestamp", file, line, get("attempted_at")))
		}
		p.AttemptedAt = at
		switch get("outcome") {
		case "paid":
			p.Paid = true
		case "failed":
		default:
			problems = append(problems, fmt.Sprintf("%s:%d: field outcome: must be paid or failed, got %q", file, line, get("outcome")))
		}
		if p.Invoice == "" {
			problems = append(problems, fmt.Sprintf("%s:%d: field invoice: is required", file, line))
		}
		out = append(out, p)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s, nothing imported:\n  %s", invoice.Count(len(problems), "problem", "problems"), strings.Join(problems, "\n  "))
	}
	return out, nil
}

func newStatus(dbFlag *string) *cobra.Command {
	var asOfFlag string
	cmd := &cobra.Command{
		Use:   "status BUYER",
		Short: "Show a customer's or partner's subscriptions, license, invoices, skips, blocked usage and notifications",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, ds, err := openWithDataset(ctx, *dbFlag)
			if err != nil {
				return err
			}
			defer st.Close()
			kind, id := invoice.CustomerBuyer, args[0]
			if ds.CustomerByID[id] == nil {
				if ds.PartnerByID[id] == nil {
					return &exitError{code: 1, err: fmt.Errorf("no customer or partner %q", id)}
				}
				kind = invoice.PartnerBuyer
			}
			asOf, err := runDate(asOfFlag, ds.Seller, time.Now())
			if err != nil {
				return err
			}
			s, err := st.Status(ctx, kind, id)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			writeBuyer(w, ds, kind, id, s)
			fmt.Fprintf(w, "subscriptions as of %s:\n", asOf)
			for _, sub := range ds.Subscriptions {
				switch {
				case kind == invoice.CustomerBuyer && sub.CustomerID == id:
					p := ds.Catalog.PlanByID[sub.PlanID]
					fmt.Fprintf(w, "  %s  %s  %s  %s\n", sub.ID, p.ID, sub.Channel, subscriptionState(sub, p, asOf))
				case kind == invoice.PartnerBuyer && sub.PartnerID == id:
					p := ds.Catalog.PlanByID[sub.PlanID]
					fmt.Fprintf(w, "  %s  %s  %s  %s  for customer %s\n", sub.ID, p.ID, sub.Channel, subscriptionState(sub, p, asOf), sub.CustomerID)
				}
			}
			writeStatus(w, kind, s)
			return nil
		},
	}
	cmd.Flags().StringVar(&asOfFlag, "as-of", "", "date for the subscriptions' state (default: today in the billing time zone)")
	return cmd
}

// writeBuyer writes who the buyer is, its license (a customer's) and why the latest run
// skipped it, if it did.
func writeBuyer(w io.Writer, ds *dataset.Dataset, kind invoice.BuyerKind, id string, s store.CustomerStatus) {
	if kind == invoice.PartnerBuyer {
		p := ds.PartnerByID[id]
		fmt.Fprintf(w, "partner %s  %s (%s)  Microsoft Partner ID %s\n", p.ID, p.Name, p.Country, p.MicrosoftPartnerID)
	} else {
		c := ds.CustomerByID[id]
		fmt.Fprintf(w, "customer %s  %s (%s)  tenant %s %s\n", c.ID, c.Name, c.Country, c.TenantName, c.TenantID)
		fmt.Fprintf(w, "license: %s", s.License)
		if s.LicenseDetail != "" {
			fmt.Fprintf(w, " (%s)", s.LicenseDetail)
		}
		fmt.Fprintln(w)
	}
	for _, k := range s.Skipped {
		fmt.Fprintf(w, "skipped by run %d as of %s: %s\n", k.RunID, k.AsOf, k.Reason)
	}
}

// writeStatus writes the buyer's invoices and, for a customer, its blocked usage and
// notifications.
func writeStatus(w io.Writer, kind invoice.BuyerKind, s store.CustomerStatus) {
	fmt.Fprintln(w, "invoices:")
	for _, i := range s.Invoices {
		pay := ""
		if i.Payment != "" {
			pay = "  card payment " + i.Payment
		}
		fmt.Fprintf(w, "  %s  %s  %s %s  %s%s\n", i.Number, i.IssueDate, i.Gross, i.Currency, i.Status, pay)
	}
	if kind != invoice.CustomerBuyer {
		return
	}
	fmt.Fprintln(w, "blocked usage (over spending limits):")
	for _, b := range s.Blocked {
		fmt.Fprintf(w, "  %s  %s  %s  %s units\n", b.Subscription, b.UsageType, b.Period, b.Blocked)
	}
	fmt.Fprintln(w, "notifications:")
	for _, n := range s.Notifications {
		fmt.Fprintf(w, "  %s  %s  %s\n", n.OnDate, n.Kind, n.Message)
	}
}

func subscriptionState(s *dataset.Subscription, p *dataset.Plan, asOf calendar.Date) string {
	sc := rating.ScheduleOf(s, p, asOf)
	switch {
	case sc.Billed() && !sc.End.IsZero() && sc.End.Before(asOf):
		return fmt.Sprintf("ended %s (cancelled)", sc.End)
	case sc.Billed() && !sc.End.IsZero():
		return fmt.Sprintf("active since %s, cancelled, ends %s", sc.Start, sc.End)
	case sc.Billed() && sc.Start.After(asOf):
		return fmt.Sprintf("trial until %s, billed from %s", sc.TrialEnd, sc.Start)
	case sc.Billed():
		return fmt.Sprintf("active since %s, %s", sc.Start, p.Term)
	case !sc.TrialEnd.IsZero() && !asOf.After(sc.TrialEnd):
		return fmt.Sprintf("trial until %s", sc.TrialEnd)
	case !sc.TrialEnd.IsZero():
		return fmt.Sprintf("trial ended %s without activation", sc.TrialEnd)
	}
	return "not active"
}

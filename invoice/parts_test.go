package invoice_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
)

// TestPartsKeepBuyersWholeAndInOrder splits the demo's subscriptions into parts of
// several sizes: no buyer is split, no part exceeds the size unless one buyer does, every
// subscription is in one part, and assembling part by part gives the invoices and skipped
// buyers of assembling all at once, in the same order and with the same draft numbers.
func TestPartsKeepBuyersWholeAndInOrder(t *testing.T) {
	ds, err := dataset.LoadDir("../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	asOf := calendar.MustParse("2026-11-01")
	whole := invoice.Assemble(ds, rating.Run(ds, asOf), invoice.Options{IssueDate: asOf})
	list := func(b invoice.Batch) string {
		var out []string
		for _, inv := range b.Invoices {
			out = append(out, fmt.Sprintf("%s %s %s %s %s", inv.Number, inv.BuyerKind, inv.BuyerID, inv.Currency, inv.Totals.GrandTotal))
		}
		for _, s := range b.Skipped {
			out = append(out, fmt.Sprintf("skipped %s %s: %s", s.BuyerKind, s.BuyerID, s.Reason))
		}
		return strings.Join(out, "\n")
	}
	for _, tc := range []struct {
		size, parts int
	}{{1, 33}, {2, 19}, {7, 6}, {39, 1}, {1000, 1}} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			parts := invoice.Parts(ds.Subscriptions, invoice.BuyerOf, tc.size)
			if len(parts) != tc.parts {
				t.Errorf("%d parts, want %d", len(parts), tc.parts)
			}
			partOf := map[string]int{} // buyer → part
			seen := map[string]bool{}
			var b invoice.Batch
			for i, p := range parts {
				buyers := map[string]bool{}
				for _, s := range p {
					kind, id := invoice.BuyerOf(s)
					buyer := string(kind) + " " + id
					if j, ok := partOf[buyer]; ok && j != i {
						t.Errorf("buyer %s in parts %d and %d", buyer, j, i)
					}
					partOf[buyer], buyers[buyer], seen[s.ID] = i, true, true
				}
				if len(p) > tc.size && len(buyers) > 1 {
					t.Errorf("part %d: %d subscriptions of %d buyers, size %d", i, len(p), len(buyers), tc.size)
				}
				// Rating the part alone: its subscriptions, all events (each subscription
				// takes its own).
				sub := *ds
				sub.Subscriptions = p
				pb := invoice.Assemble(ds, rating.Run(&sub, asOf), invoice.Options{IssueDate: asOf, DraftsBefore: len(b.Invoices)})
				b.Invoices, b.Skipped = append(b.Invoices, pb.Invoices...), append(b.Skipped, pb.Skipped...)
			}
			if len(seen) != len(ds.Subscriptions) {
				t.Errorf("%d of %d subscriptions in the parts", len(seen), len(ds.Subscriptions))
			}
			if got, want := list(b), list(whole); got != want {
				t.Errorf("part by part:\n%s\nall at once:\n%s", got, want)
			}
			if !slices.ContainsFunc(whole.Invoices, func(inv *invoice.Invoice) bool { return inv.BuyerKind == "partner" }) || len(whole.Skipped) == 0 {
				t.Error("the demo has no partner invoice or no skipped buyer: the test proves less than it says")
			}
		})
	}
}

package report

import (
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

func TestRunHTML(t *testing.T) {
	d := decimal.RequireFromString
	hostile := `<script>alert(1)</script>`
	run := RunFacts{ID: 7, AsOf: calendar.MustParse("2026-12-01"), Started: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC),
		Totals:    []invoice.CurrencyTotal{{Currency: "EUR", Invoices: 1, Net: d("100"), VAT: d("19"), Gross: d("119")}},
		Documents: []Document{{Number: "RE-1", Type: "380", Buyer: "customer " + hostile, Currency: "EUR", Net: d("100"), VAT: d("19"), Gross: d("119")}},
		Charges:   []Charges{{PlanID: hostile, Kind: rating.Advance, Net: d("100"), Currency: "EUR", Count: 1}},
		Usage:     []Usage{{Type: "einvoices", Events: 3, Units: d("12.5"), Overage: d("2.5"), Blocked: d("0")}},
	}
	prev := RunFacts{ID: 6, AsOf: calendar.MustParse("2026-11-01"),
		Totals: []invoice.CurrencyTotal{{Currency: "EUR", Invoices: 2, Net: d("80"), VAT: d("15.20"), Gross: d("95.20")},
			{Currency: "USD", Invoices: 1, Net: d("10"), VAT: d("0"), Gross: d("10")}}}
	tests := []struct {
		name    string
		in      RunInput
		want    []string
		notWant []string
	}{
		{"with previous run", RunInput{Run: run, Previous: &prev}, []string{
			`data-field="gross">119.00<`, `data-field="previous-gross">95.20<`, `23.80 (25.0 %)`,
			`data-currency="USD"`, // a currency only the previous run had shows as 0
			`data-field="included">10<`, "Subscription changes from 2026-11-02 to 2026-12-01",
			"&lt;script&gt;",
		}, []string{"<script>"}},
		{"first run", RunInput{Run: run}, []string{"No earlier finished run", "Subscription changes from 2026-11-02 to 2026-12-01"}, []string{"previous-gross"}},
		{"nothing issued", RunInput{Run: RunFacts{ID: 8, AsOf: run.AsOf}}, []string{"This run issued nothing", "No usage rated"}, []string{"<svg"}},
		{"event counts", RunInput{Run: RunFacts{ID: 9, AsOf: run.AsOf, Counts: rating.Counts{Events: 20, Rated: 9, Late: 2, Duplicates: 3, SettledBefore: 1, Outside: 4, Pending: 3}}},
			[]string{"20 received: 9 rated (2 of them late), 3 duplicates,\n1 settled before the opening date, 4 outside a subscription, 3 pending"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := RunHTML(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(b), w) {
					t.Errorf("report has %q", w)
				}
			}
		})
	}
}

// Package openitems holds the seller's open items (receivables): invoices with something
// open, their age past the due date in buckets, and the list as a table or CSV. It is
// pure: the items come from the store.
package openitems

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// Item is an invoice with something open as of a date.
type Item struct {
	Invoice  string
	Customer string // the buyer's ID, customer or partner
	Currency string
	Issued   calendar.Date
	Due      calendar.Date
	Gross    decimal.Decimal
	// Paid is what was received, net of refunds and returns; Credited what credit notes
	// corrected; Open = Gross - Paid - Credited (negative: paid too much).
	Paid     decimal.Decimal
	Credited decimal.Decimal
	Open     decimal.Decimal
	// DaysOverdue is how many days past its due date the invoice is; 0 when not yet due.
	DaysOverdue int
}

// Bucket is an age band of open items in one currency.
type Bucket struct {
	Label    string          `json:"label"`
	Currency string          `json:"currency"`
	Items    int             `json:"items"`
	Open     decimal.Decimal `json:"open"`
}

// bands are the age bands by days overdue: 0–30, 31–60, 61–90, over 90 (not yet due
// counts as 0).
var bands = []struct {
	label string
	upTo  int
}{{"0–30 days", 30}, {"31–60 days", 60}, {"61–90 days", 90}, {"> 90 days", int(^uint(0) >> 1)}}

// Ageing sums the items' open amounts by age band and currency, in band then currency
// order; every band of a currency is listed, empty or not. Items with nothing or less
// than nothing open (overpaid) are not aged.
func Ageing(items []Item) []Bucket {
	var currencies []string
	sums := map[string][]Bucket{}
	for _, it := range items {
		if !it.Open.IsPositive() {
			continue
		}
		bs, ok := sums[it.Currency]
		if !ok {
			currencies = append(currencies, it.Currency)
			bs = make([]Bucket, len(bands))
			for i, b := range bands {
				bs[i] = Bucket{Label: b.label, Currency: it.Currency, Open: decimal.Zero}
			}
			sums[it.Currency] = bs
		}
		for i, b := range bands {
			if it.DaysOverdue <= b.upTo {
				bs[i].Items++
				bs[i].Open = bs[i].Open.Add(it.Open)
				break
			}
		}
	}
	var out []Bucket
	for i := range bands {
		for _, c := range currencies {
			out = append(out, sums[c][i])
		}
	}
	return out
}

// CSVHeader is the header of WriteCSV's file.
var CSVHeader = []string{"invoice", "customer", "issue_date", "due_date", "gross", "paid", "open", "days_overdue"}

// WriteCSV writes the items as CSV: amounts with a dot and two decimals, dates ISO 8601;
// paid includes what credit notes corrected.
func WriteCSV(w io.Writer, items []Item) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, it := range items {
		if err := cw.Write([]string{it.Invoice, it.Customer, it.Issued.String(), it.Due.String(), it.Gross.StringFixed(2),
			it.Paid.Add(it.Credited).StringFixed(2), it.Open.StringFixed(2), strconv.Itoa(it.DaysOverdue)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the items as an aligned table and the ageing below it.
func WriteTable(w io.Writer, items []Item) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "invoice\tcustomer\tissued\tdue\tgross\tpaid\tcredited\topen\tdays overdue\t")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%d\t\n", it.Invoice, it.Customer, it.Issued, it.Due, it.Gross.StringFixed(2), it.Currency,
			it.Paid.StringFixed(2), it.Credited.StringFixed(2), it.Open.StringFixed(2), it.DaysOverdue)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nageing (days overdue):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, b := range Ageing(items) {
		fmt.Fprintf(tw, "%s\t%d\t%s %s\t\n", b.Label, b.Items, b.Open.StringFixed(2), b.Currency)
	}
	return tw.Flush()
}

package invoice

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// CurrencyTotal sums the invoices of one currency.
type CurrencyTotal struct {
	Currency string          `json:"currency"`
	Invoices int             `json:"invoices"`
	Net      decimal.Decimal `json:"net"`
	VAT      decimal.Decimal `json:"vat"`
	Gross    decimal.Decimal `json:"gross"`
}

// TotalsByCurrency sums a batch per currency, in currency order.
func (b Batch) TotalsByCurrency() []CurrencyTotal {
	t := CurrencyTotals{}
	for _, inv := range b.Invoices {
		t.Add(inv)
	}
	return t.List()
}

// CurrencyTotals sums invoices per currency as they come, for a caller that does not keep
// them (a run that finalizes 100,000 invoices in batches).
type CurrencyTotals map[string]*CurrencyTotal

// Add adds an invoice to the total of its currency.
func (m CurrencyTotals) Add(inv *Invoice) {
	t := m[inv.Currency]
	if t == nil {
		t = &CurrencyTotal{Currency: inv.Currency}
		m[inv.Currency] = t
	}
	t.Invoices++
	t.Net = t.Net.Add(inv.Totals.TaxBasis)
	t.VAT = t.VAT.Add(inv.Totals.TaxTotal)
	t.Gross = t.Gross.Add(inv.Totals.GrandTotal)
}

// List returns the totals in currency order.
func (m CurrencyTotals) List() []CurrencyTotal {
	out := make([]CurrencyTotal, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}

// WriteTable writes a batch as a table for people: every invoice with its lines and
// totals, the skipped buyers with their reasons, totals per currency and what happened to
// the usage events.
func WriteTable(w io.Writer, b Batch, counts rating.Counts) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	for _, inv := range b.Invoices {
		vat := make([]string, 0, len(inv.VAT))
		for _, v := range inv.VAT {
			vat = append(vat, fmt.Sprintf("%s %s%%", v.Category, v.Rate))
		}
		kind := ""
		if inv.TypeCode == CreditNote {
			kind = fmt.Sprintf("  credit note (381) for %s of %s", inv.Preceding, inv.PrecedingDate)
		}
		fmt.Fprintf(w, "%s%s  %s %s  %s (%s)  %s  VAT %s  issued %s  due %s  %s (%s)\n",
			inv.Number, kind, inv.BuyerKind, inv.BuyerID, inv.Buyer.Name, inv.Buyer.Address.Country, inv.Currency,
			strings.Join(vat, ", "), inv.IssueDate, inv.DueDate, inv.Payment.Method, inv.Payment.Code)
		p("\t#\titem\tperiod\tquantity\tunit price\tnet\t\n")
		for _, l := range inv.Lines {
			late := ""
			if l.Late {
				late = " [late]"
			}
			p("\t%s\t%s%s\t%s\t%s\t%s\t%s\t\n", l.ID, l.Name, late, l.Period, l.Quantity, l.UnitPrice.StringFixed(max(2, -l.UnitPrice.Exponent())), l.Net.StringFixed(2))
		}
		t := inv.Totals
		p("\t\t\t\t\t\tnet\t%s\t\n", t.TaxBasis.StringFixed(2))
		for _, v := range inv.VAT {
			p("\t\t\t\t\t\tVAT %s %s%%\t%s\t\n", v.Category, v.Rate, v.Tax.StringFixed(2))
		}
		p("\t\t\t\t\t\tgross\t%s\t\n", t.GrandTotal.StringFixed(2))
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, l := range inv.Lines {
			if l.Note != "" {
				fmt.Fprintf(w, "    %s: %s\n", l.ID, l.Note)
			}
		}
		for _, n := range inv.Notes {
			fmt.Fprintf(w, "    note: %s\n", n)
		}
		fmt.Fprintf(w, "    payment: %s\n\n", inv.Payment.Terms)
	}
	fmt.Fprintf(w, "invoices: %d\n", len(b.Invoices))
	for _, t := range b.TotalsByCurrency() {
		fmt.Fprintf(w, "  %s: %s, net %s, VAT %s, gross %s\n", t.Currency, Count(t.Invoices, "invoice", "invoices"), t.Net.StringFixed(2), t.VAT.StringFixed(2), t.Gross.StringFixed(2))
	}
	fmt.Fprintf(w, "skipped: %d\n", len(b.Skipped))
	for _, s := range b.Skipped {
		fmt.Fprintf(w, "  %s %s (%s): %s, net %s withheld: %s\n", s.BuyerKind, s.BuyerID, s.Name, Count(s.Charges, "charge", "charges"), s.Net.StringFixed(2), s.Reason)
	}
	c := counts
	fmt.Fprintf(w, "subscriptions: %d (marketplace, not invoiced: %d; nothing billed yet or any more: %d)\n", c.Subscriptions, c.Marketplace, c.NotBilled)
	_, err := fmt.Fprintf(w, "usage events: %d read, %d duplicates, %d settled before the opening date, %d rated (%d late), %d outside the subscription, %d pending; units included %s, overage %s, blocked by spending limits %s\n",
		c.Events, c.Duplicates, c.SettledBefore, c.Rated, c.Late, c.Outside, c.Pending, c.UnitsIncluded, c.UnitsOverage, c.UnitsBlocked)
	return err
}

// Count writes n with its noun in the number n takes: "1 invoice", "0 invoices",
// "2 invoices". Every count kontor prints is worded so.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

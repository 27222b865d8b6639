package openitems

import (
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

func item(inv, currency, open string, overdue int) Item {
	return Item{Invoice: inv, Customer: "C-" + inv, Currency: currency, Issued: calendar.MustParse("2026-09-01"),
		Due: calendar.MustParse("2026-09-15"), Gross: decimal.RequireFromString("100"), Paid: decimal.Zero, Credited: decimal.Zero,
		Open: decimal.RequireFromString(open), DaysOverdue: overdue}
}

func TestAgeing(t *testing.T) {
	items := []Item{
		item("1", "EUR", "10.00", 0), item("2", "EUR", "20.00", 30), item("3", "EUR", "30.00", 31),
		item("4", "EUR", "40.00", 61), item("5", "EUR", "50.00", 90), item("6", "EUR", "60.00", 91),
		item("7", "USD", "7.00", 200), item("8", "EUR", "-5.00", 100), // overpaid: not aged
	}
	var got []string
	for _, b := range Ageing(items) {
		got = append(got, b.Label+" "+b.Currency+" "+b.Open.StringFixed(2)+" ("+string(rune('0'+b.Items))+")")
	}
	want := []string{"0–30 days EUR 30.00 (2)", "0–30 days USD 0.00 (0)", "31–60 days EUR 30.00 (1)", "31–60 days USD 0.00 (0)",
		"61–90 days EUR 90.00 (2)", "61–90 days USD 0.00 (0)", "> 90 days EUR 60.00 (1)", "> 90 days USD 7.00 (1)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ageing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWriteCSV(t *testing.T) {
	it := item("RE-2026-000002", "EUR", "48.77", 17)
	it.Gross, it.Paid, it.Credited = decimal.RequireFromString("98.77"), decimal.RequireFromString("40"), decimal.RequireFromString("10")
	var b strings.Builder
	if err := WriteCSV(&b, []Item{it}); err != nil {
		t.Fatal(err)
	}
	want := "invoice,customer,issue_date,due_date,gross,paid,open,days_overdue\nRE-2026-000002,C-RE-2026-000002,2026-09-01,2026-09-15,98.77,50.00,48.77,17\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

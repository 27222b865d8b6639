package bookkeeping

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

var d = decimal.RequireFromString

func doc(number, typ, cur string, vat ...invoice.VATBreakdown) *invoice.Invoice {
	inv := &invoice.Invoice{Number: number, TypeCode: invoice.DocumentType(typ), Currency: cur, IssueDate: calendar.MustParse("2026-11-01"),
		BuyerKind: "customer", BuyerID: "C-001", Buyer: invoice.Party{Name: "Müller & Söhne \"Nord\" GmbH", VATID: "ATU12345678"}, VAT: vat}
	for _, v := range vat {
		inv.Totals.TaxBasis = inv.Totals.TaxBasis.Add(v.Basis)
		inv.Totals.TaxTotal = inv.Totals.TaxTotal.Add(v.Tax)
	}
	inv.Totals.GrandTotal = inv.Totals.TaxBasis.Add(inv.Totals.TaxTotal)
	if invoice.DocumentType(typ) == invoice.CreditNote {
		inv.Preceding = "RE-2026-000001"
	}
	return inv
}

func config() DATEVConfig {
	c := DefaultDATEVConfig()
	c.ConsultantNumber, c.ClientNumber = 29098, 55003
	c.Debtors = map[string]int{"customer C-002": 10002}
	c.Rates = map[string]decimal.Decimal{"USD": d("1.0850")}
	return c
}

func TestBookings(t *testing.T) {
	s19 := invoice.VATBreakdown{Category: "S", Rate: d("19"), Basis: d("205.20"), Tax: d("38.99")}
	ae := invoice.VATBreakdown{Category: "AE", Rate: d("0"), Basis: d("4.00"), Tax: d("0")}
	o := invoice.VATBreakdown{Category: "O", Rate: d("0"), Basis: d("57.60"), Tax: d("0")}
	other := doc("RE-2026-000009", "380", "EUR", s19)
	other.BuyerID = "C-002"
	broken := doc("RE-2026-000010", "380", "EUR", s19)
	broken.Totals.GrandTotal = d("244.20")
	tests := []struct {
		name    string
		doc     *invoice.Invoice
		want    []Booking
		wantErr string
	}{
		{"domestic invoice: gross to 8400, collective debtor", doc("RE-2026-000001", "380", "EUR", s19),
			[]Booking{{Amount: d("244.19"), Debit: true, Account: 10000, Contra: 8400}}, ""},
		{"credit note: credit side", doc("GS-2026-000001", "381", "EUR", s19),
			[]Booking{{Amount: d("244.19"), Debit: false, Account: 10000, Contra: 8400, Reference: "RE-2026-000001"}}, ""},
		{"reverse charge carries the VAT ID", doc("RE-2026-000002", "380", "EUR", ae),
			[]Booking{{Amount: d("4.00"), Debit: true, Account: 10000, Contra: 8336, EUVATID: "ATU12345678"}}, ""},
		{"own debtor account", other, []Booking{{Amount: d("244.19"), Debit: true, Account: 10002, Contra: 8400}}, ""},
		{"USD at the configured rate", doc("RE-2026-000003", "380", "USD", o),
			[]Booking{{Amount: d("57.60"), Debit: true, Account: 10000, Contra: 8338, Rate: d("1.0850"), BaseAmount: d("53.09")}}, ""},
		{"two VAT groups: two bookings", doc("RE-2026-000004", "380", "EUR", s19, ae),
			[]Booking{{Amount: d("244.19"), Debit: true, Account: 10000, Contra: 8400}, {Amount: d("4.00"), Debit: true, Account: 10000, Contra: 8336, EUVATID: "ATU12345678"}}, ""},
		{"no exchange rate", doc("RE-2026-000005", "380", "CHF", o), nil, "RE-2026-000005: field currency: CHF has no exchange rate (datev config rates.CHF)"},
		{"no revenue account", doc("RE-2026-000006", "380", "EUR", invoice.VATBreakdown{Category: "S", Rate: d("7"), Basis: d("10"), Tax: d("0.70")}), nil,
			"RE-2026-000006: field vat: no revenue account for VAT category S at 7 %"},
		{"breakdown and total disagree", broken, nil, "adds up to 244.19, the gross total is 244.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Bookings([]*invoice.Invoice{tc.doc}, config())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d bookings, want %d: %+v", len(got), len(tc.want), got)
			}
			sum := decimal.Zero
			for i, w := range tc.want {
				g := got[i]
				if !g.Amount.Equal(w.Amount) || g.Debit != w.Debit || g.Account != w.Account || g.Contra != w.Contra ||
					!g.Rate.Equal(w.Rate) || !g.BaseAmount.Equal(w.BaseAmount) || g.EUVATID != w.EUVATID || g.Reference != w.Reference {
					t.Errorf("booking %d: %+v, want %+v", i+1, g, w)
				}
				sum = sum.Add(g.Signed())
			}
			want := tc.doc.Totals.GrandTotal
			if tc.doc.TypeCode == invoice.CreditNote {
				want = want.Neg()
			}
			if !sum.Equal(want) {
				t.Errorf("bookings add up to %s, document gross %s", sum, want)
			}
		})
	}
}

// DATEV's own sample file (Musterdaten, EXTF_Buchungsstapel.csv) starts with this header;
// the same settings must give the same line.
const datevSampleHeader = `"EXTF";700;21;"Buchungsstapel";13;20240130140440439;;"RE";"";"";29098;55003;20240101;4;20240101;20240831;"Buchungsstapel";"WD";1;0;0;"EUR";;"";;;"03";;;"";""`

func TestDATEVFile(t *testing.T) {
	cfg := config()
	cfg.Name, cfg.Dictation = "Buchungsstapel", "WD"
	created := time.Date(2024, 1, 30, 14, 4, 40, 439_000_000, time.UTC)
	inv := doc("RE-2024-000001", "380", "EUR", invoice.VATBreakdown{Category: "S", Rate: d("19"), Basis: d("1000"), Tax: d("190")})
	inv.IssueDate = calendar.MustParse("2024-03-05")
	out, bookings, err := DATEV([]*invoice.Invoice{inv}, cfg, calendar.MustParse("2024-01-01"), calendar.MustParse("2024-08-31"), created)
	if err != nil {
		t.Fatal(err)
	}
	if len(bookings) != 1 {
		t.Fatalf("%d bookings", len(bookings))
	}
	text, err := charmap.Windows1252.NewDecoder().Bytes(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("Gegenkonto (ohne BU-Schl\xfcssel)")) {
		t.Error("column line is not Windows-1252")
	}
	lines := strings.Split(string(text), "\r\n")
	if len(lines) != 4 || lines[3] != "" {
		t.Fatalf("want header, columns, one booking and a final CRLF; got %d lines", len(lines))
	}
	if lines[0] != datevSampleHeader {
		t.Errorf("header\n%s\nwant DATEV's sample\n%s", lines[0], datevSampleHeader)
	}
	if n := len(strings.Split(lines[1], ";")); n != 125 {
		t.Errorf("%d columns, want 125", n)
	}
	row := strings.Split(lines[2], ";")
	if len(row) != 125 {
		t.Fatalf("booking has %d fields", len(row))
	}
	want := map[int]string{0: "1190,00", 1: `"S"`, 2: `"EUR"`, 6: "10000", 7: "8400", 8: `""`, 9: "0503", 10: `"RE-2024-000001"`,
		13: `"Rechnung RE-2024-000001 Müller & Söhne ""Nord"" GmbH"`}
	for i, w := range want {
		if row[i] != w {
			t.Errorf("field %d (%s) = %s, want %s", i+1, datevColumns[i], row[i], w)
		}
	}
}

func TestDATEVRefuses(t *testing.T) {
	inv := doc("RE-2026-000001", "380", "EUR", invoice.VATBreakdown{Category: "S", Rate: d("19"), Basis: d("10"), Tax: d("1.90")})
	bad := config()
	bad.ConsultantNumber, bad.Chart, bad.Debtors = 12, "05", map[string]int{"customer C-9": 8400}
	tests := []struct {
		name     string
		cfg      DATEVConfig
		from, to string
		want     []string
	}{
		{"two fiscal years", config(), "2026-11-01", "2027-01-31", []string{"spans two fiscal years"}},
		{"fiscal year from July", func() DATEVConfig { c := config(); c.FiscalYearStart = "07-01"; return c }(), "2026-11-01", "2027-07-01",
			[]string{"the one from 2026-07-01 ends 2027-06-30"}},
		{"document outside the period", config(), "2026-10-01", "2026-10-31", []string{"RE-2026-000001: field issue_date"}},
		{"bad config: every field named", bad, "2026-11-01", "2026-11-30", []string{"field consultant_number", "field chart", "field debtors.customer C-9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DATEV([]*invoice.Invoice{inv}, tc.cfg, calendar.MustParse(tc.from), calendar.MustParse(tc.to), time.Now())
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want %q", err, w)
				}
			}
		})
	}
	if _, err := ReadDATEVConfig(strings.NewReader(`{"consultant_number": 1001, "client_number": 1, "acount_length": 5}`)); err == nil ||
		!strings.Contains(err.Error(), `unknown field "acount_length"`) {
		t.Errorf("a misspelt field: %v", err)
	}
}

func TestCSV(t *testing.T) {
	inv := doc("RE-2026-000001", "380", "EUR", invoice.VATBreakdown{Category: "S", Rate: d("19"), Basis: d("205.20"), Tax: d("38.99")})
	cn := doc("GS-2026-000001", "381", "EUR", invoice.VATBreakdown{Category: "S", Rate: d("19"), Basis: d("10"), Tax: d("1.90")})
	out, err := CSV([]*invoice.Invoice{inv, cn})
	if err != nil {
		t.Fatal(err)
	}
	want := `number,type_code,type,issue_date,due_date,preceding_invoice,buyer_kind,buyer_id,buyer_name,buyer_country,buyer_vat_id,currency,net,vat,gross,signed_gross,vat_breakdown
RE-2026-000001,380,invoice,2026-11-01,,,customer,C-001,"Müller & Söhne ""Nord"" GmbH",,ATU12345678,EUR,205.20,38.99,244.19,244.19,S 19% 205.20/38.99
GS-2026-000001,381,credit note,2026-11-01,,RE-2026-000001,customer,C-001,"Müller & Söhne ""Nord"" GmbH",,ATU12345678,EUR,10.00,1.90,11.90,-11.90,S 19% 10.00/1.90
`
	if string(out) != want {
		t.Errorf("csv\n%s\nwant\n%s", out, want)
	}
}

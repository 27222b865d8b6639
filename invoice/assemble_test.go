package invoice_test

import (
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

func assemble(t *testing.T, w datasettest.World, asOf string) invoice.Batch {
	t.Helper()
	ds := w.Load(t)
	d := calendar.MustParse(asOf)
	return invoice.Assemble(ds, rating.Run(ds, d), invoice.Options{IssueDate: d})
}

func row(id, customer, plan, channel, partner, activated string) string {
	return strings.Join([]string{id, customer, plan, channel, partner, "", "", activated, ""}, ",")
}

func byBuyer(b invoice.Batch, id string) *invoice.Invoice {
	for _, inv := range b.Invoices {
		if inv.BuyerID == id {
			return inv
		}
	}
	return nil
}

func TestVATByBuyer(t *testing.T) {
	// BILLING-RULES 3, VAT decision table (seller in Germany).
	w := datasettest.World{Subscriptions: []string{
		row("S-DE", "C-DE", "t-m", "end_customer", "", "2026-11-01"),
		row("S-AT", "C-AT", "t-m", "end_customer", "", "2026-11-01"),
		row("S-CH", "C-CH", "t-m", "end_customer", "", "2026-11-01"),
		row("S-IT", "C-IT", "t-m", "end_customer", "", "2026-11-01"),
	}}
	b := assemble(t, w, "2026-11-01")
	tests := []struct {
		buyer, category, rate, tax, grand, exemption string
		sellerVAT, buyerVAT                          bool
	}{
		// Germany: S 19 %: 10.00 × 19 % = 1.90
		{"C-DE", "S", "19", "1.90", "11.90", "", true, true},
		// other EU state with VAT ID: AE, reverse charge
		{"C-AT", "AE", "0", "0.00", "10.00", "VATEX-EU-AE", true, true},
		// outside the EU: O, and no VAT IDs on the invoice (BR-O-02)
		{"C-CH", "O", "0", "0.00", "10.00", "VATEX-EU-O", false, false},
	}
	for _, tt := range tests {
		inv := byBuyer(b, tt.buyer)
		if inv == nil {
			t.Errorf("%s: no invoice", tt.buyer)
			continue
		}
		v := inv.VAT[0]
		if string(v.Category) != tt.category || v.Rate.String() != tt.rate || v.Tax.StringFixed(2) != tt.tax ||
			inv.Totals.GrandTotal.StringFixed(2) != tt.grand || v.ExemptionCode != tt.exemption {
			t.Errorf("%s: VAT %s %s%% tax %s grand %s exemption %q; want %s %s%% tax %s grand %s exemption %q",
				tt.buyer, v.Category, v.Rate, v.Tax.StringFixed(2), inv.Totals.GrandTotal.StringFixed(2), v.ExemptionCode,
				tt.category, tt.rate, tt.tax, tt.grand, tt.exemption)
		}
		if (inv.Seller.VATID != "") != tt.sellerVAT || (inv.Buyer.VATID != "") != tt.buyerVAT {
			t.Errorf("%s: seller VAT ID %q, buyer VAT ID %q", tt.buyer, inv.Seller.VATID, inv.Buyer.VATID)
		}
		for _, l := range inv.Lines {
			if string(l.VATCategory) != tt.category {
				t.Errorf("%s line %s: category %s", tt.buyer, l.ID, l.VATCategory)
			}
		}
	}
	if inv := byBuyer(b, "C-AT"); inv != nil && inv.Seller.TaxNumber == "" {
		t.Error("seller tax number missing")
	}
	// other EU state without VAT ID: refused with a clear reason naming the customer; the
	// others are invoiced.
	if len(b.Invoices) != 3 {
		t.Errorf("%d invoices, want 3", len(b.Invoices))
	}
	if len(b.Skipped) != 1 || b.Skipped[0].BuyerID != "C-IT" || !strings.Contains(b.Skipped[0].Reason, "C-IT") ||
		!strings.Contains(b.Skipped[0].Reason, "without a VAT ID") || b.Skipped[0].Net.StringFixed(2) != "10.00" {
		t.Errorf("skipped = %+v, want C-IT for its missing VAT ID with 10.00 withheld", b.Skipped)
	}
}

func TestVATIsComputedOnTheSumOfLineNets(t *testing.T) {
	// BILLING-RULES 3 / EN 16931 BR-CO-17: VAT per category and rate on the sum of the line
	// nets. Three lines of 0.03: per-line VAT would be 3 × round(0.0057) = 0.03; on the sum
	// it is round(0.09 × 19 %) = round(0.0171) = 0.02.
	l := invoice.Line{Net: decimal.RequireFromString("0.03")}
	vat, tot := invoice.Totalize([]invoice.Line{l, l, l}, invoice.GermanSellerVAT()[0])
	if vat[0].Basis.StringFixed(2) != "0.09" || vat[0].Tax.StringFixed(2) != "0.02" || tot.GrandTotal.StringFixed(2) != "0.11" {
		t.Errorf("basis %s tax %s grand %s, want 0.09, 0.02, 0.11", vat[0].Basis, vat[0].Tax, tot.GrandTotal)
	}
	// Rounding half away from zero: 1.50 × 19 % = 0.285 → 0.29 (half-even would give 0.28).
	l2 := invoice.Line{Net: decimal.RequireFromString("1.50")}
	vat, _ = invoice.Totalize([]invoice.Line{l2}, invoice.GermanSellerVAT()[0])
	if vat[0].Tax.StringFixed(2) != "0.29" {
		t.Errorf("VAT on 1.50 = %s, want 0.29 (0.285 rounded half away from zero)", vat[0].Tax)
	}
}

func TestPartnerInvoiceIsConsolidatedAndGroupedByEndCustomer(t *testing.T) {
	// BILLING-RULES 1: partner licensing: one invoice per partner per run, lines grouped by
	// end customer, tenant name and ID in the line note. Marketplace: never invoiced.
	w := datasettest.World{
		Subscriptions: []string{
			row("S-2", "C-E2", "t-m", "partner", "P-DE", "2026-11-01"),
			row("S-1", "C-E1", "t-m", "partner", "P-DE", "2026-11-01"),
			row("S-3", "C-E1", "bank-m", "partner", "P-DE", "2026-11-01"),
			row("S-M", "C-DE", "t-m", "marketplace", "", "2026-11-01"),
		},
	}
	b := assemble(t, w, "2026-11-01")
	if len(b.Invoices) != 1 {
		t.Fatalf("%d invoices, want 1 (the partner's)", len(b.Invoices))
	}
	inv := b.Invoices[0]
	if inv.BuyerKind != "partner" || inv.BuyerID != "P-DE" || inv.Buyer.MicrosoftPartnerID != "5012345" {
		t.Errorf("buyer %s %s (MPN %s), want partner P-DE (5012345)", inv.BuyerKind, inv.BuyerID, inv.Buyer.MicrosoftPartnerID)
	}
	var order []string
	for _, l := range inv.Lines {
		order = append(order, l.EndCustomer.ID+"/"+l.SubscriptionID)
		if !strings.Contains(l.Note, l.EndCustomer.TenantID) || !strings.Contains(l.Note, l.EndCustomer.TenantName) {
			t.Errorf("line %s note %q lacks the tenant name and ID", l.ID, l.Note)
		}
	}
	if got := strings.Join(order, " "); got != "C-E1/S-1 C-E1/S-3 C-E2/S-2" {
		t.Errorf("line order %s, want grouped by end customer", got)
	}
	// 3 × 10.00 = 30.00 net, 19 % = 5.70
	if inv.Totals.TaxBasis.StringFixed(2) != "30.00" || inv.Totals.TaxTotal.StringFixed(2) != "5.70" {
		t.Errorf("totals %+v", inv.Totals)
	}
}

func TestPaymentMeansAndDueDates(t *testing.T) {
	// BILLING-RULES 3: EU end customers pay by SEPA credit transfer with the payment terms;
	// non-EU by card charged in advance; SEPA direct debit with mandate and creditor ID.
	w := datasettest.World{Subscriptions: []string{
		row("S-DE", "C-DE", "t-m", "end_customer", "", "2026-11-01"),
		row("S-CH", "C-CH", "t-m", "end_customer", "", "2026-11-01"),
		row("S-DD", "C-DD", "t-m", "end_customer", "", "2026-11-01"),
	}}
	b := assemble(t, w, "2026-11-01")
	tests := []struct{ buyer, code, due, iban, mandate, creditor string }{
		{"C-DE", "58", "2026-11-15", "DE89370400440532013000", "", ""},
		{"C-CH", "54", "2026-11-01", "", "", ""},
		{"C-DD", "59", "2026-11-15", "", "M-77", "DE98ZZZ09999999999"},
	}
	for _, tt := range tests {
		inv := byBuyer(b, tt.buyer)
		if inv == nil {
			t.Fatalf("%s: no invoice", tt.buyer)
		}
		p := inv.Payment
		if string(p.Code) != tt.code || inv.DueDate.String() != tt.due || p.IBAN != tt.iban || p.MandateReference != tt.mandate || p.CreditorID != tt.creditor || p.Terms == "" {
			t.Errorf("%s: payment %+v due %s; want code %s due %s iban %q mandate %q creditor %q", tt.buyer, p, inv.DueDate, tt.code, tt.due, tt.iban, tt.mandate, tt.creditor)
		}
	}
}

func TestOneInvoicePerBuyerAndCurrency(t *testing.T) {
	// BILLING-RULES 3: one invoice per buyer per run, holding every charge that is due; an
	// invoice has one currency, so a buyer with plans in two currencies gets two.
	w := datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{
		row("S-1", "C-DE", "t-m", "end_customer", "", "2026-01-01"),
		row("S-2", "C-DE", "u-m", "end_customer", "", "2026-10-15"),
		row("S-3", "C-DE", "usd-m", "end_customer", "", "2026-01-01"),
	}, Reports: []string{"S-2,2026-10-15,2,,,"}, Usage: []string{"E1,S-1,checks,1200,2026-10-03T10:00:00+02:00,,"}}
	b := assemble(t, w, "2026-11-01")
	if len(b.Invoices) != 2 {
		t.Fatalf("%d invoices, want 2 (EUR and USD)", len(b.Invoices))
	}
	eur, usd := b.Invoices[0], b.Invoices[1]
	if eur.Currency != "EUR" || usd.Currency != "USD" {
		t.Fatalf("currencies %s, %s", eur.Currency, usd.Currency)
	}
	// EUR: S-2 first period 2 × 10.00 × 17/31 = 10.97; S-1 overage 200 × 0.0275 = 5.50;
	// November: S-1 10.00 + S-2 20.00. Lines in service order.
	var got []string
	for _, l := range eur.Lines {
		got = append(got, l.SubscriptionID+" "+string(l.Kind)+" "+l.Net.StringFixed(2))
	}
	want := "S-1 overage 5.50|S-1 advance 10.00|S-2 advance 10.97|S-2 advance 20.00"
	if strings.Join(got, "|") != want {
		t.Errorf("EUR lines %s, want %s", strings.Join(got, "|"), want)
	}
	// 46.47 net, 19 % = 8.8293 → 8.83, 55.30 gross
	if eur.Totals.TaxBasis.StringFixed(2) != "46.47" || eur.Totals.TaxTotal.StringFixed(2) != "8.83" || eur.Totals.GrandTotal.StringFixed(2) != "55.30" {
		t.Errorf("EUR totals %+v", eur.Totals)
	}
	if eur.Period.String() != "2026-10-01..2026-11-30" {
		t.Errorf("billing period %s", eur.Period)
	}
}

func TestRatingProblemWithholdsThatCustomerOnly(t *testing.T) {
	// Engineering standard: one bad customer never stops the invoices of the others.
	w := datasettest.World{Subscriptions: []string{
		row("S-1", "C-DE", "u-m", "end_customer", "", "2026-11-01"), // no license report
		row("S-2", "C-DE", "t-m", "end_customer", "", "2026-11-01"),
		row("S-3", "C-AT", "t-m", "end_customer", "", "2026-11-01"),
		row("S-4", "C-E1", "u-m", "partner", "P-DE", "2026-11-01"), // no license report
		row("S-5", "C-E2", "t-m", "partner", "P-DE", "2026-11-01"),
	}}
	b := assemble(t, w, "2026-11-01")
	if len(b.Invoices) != 2 || byBuyer(b, "C-AT") == nil || byBuyer(b, "P-DE") == nil {
		t.Fatalf("invoices %d, want C-AT and P-DE", len(b.Invoices))
	}
	if p := byBuyer(b, "P-DE"); len(p.Lines) != 1 || p.Lines[0].EndCustomer.ID != "C-E2" {
		t.Errorf("partner invoice should hold only C-E2's line: %+v", p.Lines)
	}
	if len(b.Skipped) != 2 {
		t.Fatalf("skipped %+v", b.Skipped)
	}
	de := b.Skipped[0]
	// C-DE's S-2 (10.00) is withheld with S-1, so the customer gets one complete invoice later.
	if de.BuyerID != "C-DE" || de.Charges != 1 || de.Net.StringFixed(2) != "10.00" || !strings.Contains(de.Reason, "S-1") {
		t.Errorf("skipped[0] = %+v", de)
	}
	if p := b.Skipped[1]; p.BuyerID != "P-DE" || p.CustomerID != "C-E1" || p.Charges != 0 {
		t.Errorf("skipped[1] = %+v", p)
	}
}

func TestVATRuleTableIsData(t *testing.T) {
	// The rule table is data: a different table changes the outcome without code changes.
	rules := invoice.VATRules{{Zone: invoice.EU, Category: "S", Rate: decimal.NewFromInt(19)}}
	r, err := rules.For("DE", dataset.Party{Address: dataset.Address{Country: "IT"}})
	if err != nil || r.Category != "S" {
		t.Errorf("custom table: %+v %v", r, err)
	}
	if _, err := rules.For("DE", dataset.Party{Address: dataset.Address{Country: "US"}}); err == nil {
		t.Error("no rule for a non-EU buyer should be an error")
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct{ country, chosen, want string }{
		{"DE", "", "de"}, {"AT", "", "de"}, {"CH", "", "de"}, {"FR", "", "en"}, {"US", "", "en"}, {"DE", "en", "en"}, {"PL", "de", "de"},
	}
	for _, tt := range tests {
		if got := invoice.Language(dataset.Party{Address: dataset.Address{Country: tt.country}, Language: tt.chosen}); got != tt.want {
			t.Errorf("Language(%s, %q) = %s, want %s", tt.country, tt.chosen, got, tt.want)
		}
	}
}

func TestCustomerListingNeverShowsAPartnersInvoice(t *testing.T) {
	// BILLING-RULES 1: invoices are visible to end customers only for end-customer licensing.
	w := datasettest.World{Subscriptions: []string{
		row("S-1", "C-E1", "t-m", "partner", "P-DE", "2026-11-01"),
		row("S-2", "C-E1", "t-m", "end_customer", "", "2026-11-01"),
	}}
	b := assemble(t, w, "2026-11-01")
	if len(b.Invoices) != 2 {
		t.Fatalf("%d invoices, want the partner's and the customer's", len(b.Invoices))
	}
	visible := invoice.VisibleTo("C-E1", b.Invoices)
	if len(visible) != 1 || visible[0].BuyerKind != "customer" || visible[0].Lines[0].SubscriptionID != "S-2" {
		t.Errorf("C-E1 sees %d invoices; want only its own end-customer invoice", len(visible))
	}
	if len(invoice.VisibleTo("C-E2", b.Invoices)) != 0 {
		t.Error("a customer sees an invoice that is not its own")
	}
}

func TestCreditNoteCreditsTheWholeInvoiceAndLeavesItUntouched(t *testing.T) {
	// BILLING-RULES 3: corrections are credit notes (381) referencing the original invoice.
	w := datasettest.World{Subscriptions: []string{row("S-1", "C-DE", "t-m", "end_customer", "", "2026-11-01")}}
	inv := assemble(t, w, "2026-11-01").Invoices[0]
	before := *inv
	cn, err := invoice.CreditNoteFor(inv, "GS-0001", calendar.MustParse("2026-11-20"), "wrong quantity")
	if err != nil {
		t.Fatal(err)
	}
	if cn.TypeCode != "381" || cn.Preceding != inv.Number || cn.PrecedingDate != inv.IssueDate || cn.Number != "GS-0001" {
		t.Errorf("credit note %s type %s refers to %s of %s", cn.Number, cn.TypeCode, cn.Preceding, cn.PrecedingDate)
	}
	if !cn.Totals.GrandTotal.Equal(inv.Totals.GrandTotal) || cn.Payment.Code != "1" || !strings.Contains(cn.Notes[0], "wrong quantity") {
		t.Errorf("credit note totals %s, payment %s, notes %q", cn.Totals.GrandTotal, cn.Payment.Code, cn.Notes)
	}
	if inv.TypeCode != before.TypeCode || inv.Number != before.Number || inv.Payment != before.Payment || len(inv.Notes) != len(before.Notes) {
		t.Error("crediting changed the original invoice")
	}
	if _, err := invoice.CreditNoteFor(cn, "GS-0002", calendar.MustParse("2026-11-20"), "x"); err == nil {
		t.Error("a credit note was credited")
	}
	if _, err := invoice.CreditNoteFor(inv, "GS-0002", calendar.MustParse("2026-10-20"), "x"); err == nil {
		t.Error("a credit note dated before its invoice was accepted")
	}
}

package zugferd

import (
	"strings"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// labels are the fixed words of the PDF, per language.
type labels struct {
	invoice, creditNote, number, date, due, customer, partnerID, period        string
	correctionNumber, correctionDate, corrects, correctsDate                   string
	pos, item, servicePeriod, qty, unitPrice, net, vat, total, grand, subtotal string
	payment, payee, iban, bic, bank, amount, reference, scanToPay              string
	mandate, creditorID, debtorIBAN, vatID, taxNumber, seat, directors         string
	page, exemption, draft                                                     string
}

func labelsFor(lang string) labels {
	if lang == "de" {
		return labels{
			invoice: "Rechnung", creditNote: "Rechnungskorrektur", number: "Rechnungsnummer", date: "Rechnungsdatum",
			due: "Fällig am", customer: "Kundennummer", partnerID: "Microsoft-Partner-ID", period: "Leistungszeitraum",
			correctionNumber: "Korrekturnummer", correctionDate: "Datum der Korrektur",
			corrects: "Korrektur zu Rechnung", correctsDate: "Rechnung vom", pos: "Pos.", item: "Beschreibung",
			servicePeriod: "Zeitraum", qty: "Menge", unitPrice: "Einzelpreis", net: "Netto", vat: "USt.",
			total: "Summe netto", grand: "Gesamtbetrag", subtotal: "Zwischensumme", payment: "Zahlung",
			payee: "Empfänger", iban: "IBAN", bic: "BIC", bank: "Bank", amount: "Betrag", reference: "Verwendungszweck",
			scanToPay: "GiroCode: mit der Banking-App scannen", mandate: "Mandatsreferenz", creditorID: "Gläubiger-ID",
			debtorIBAN: "Belastetes Konto", vatID: "USt-IdNr.", taxNumber: "Steuernummer", seat: "Sitz:",
			directors: "Geschäftsführung", page: "Seite {current} von {total}",
			exemption: "Steuerbefreiung", draft: "ENTWURF",
		}
	}
	return labels{
		invoice: "Invoice", creditNote: "Credit note", number: "Invoice number", date: "Invoice date",
		due: "Due date", customer: "Customer number", partnerID: "Microsoft Partner ID", period: "Service period",
		correctionNumber: "Credit note number", correctionDate: "Credit note date",
		corrects: "Corrects invoice", correctsDate: "Invoice date", pos: "No.", item: "Description",
		servicePeriod: "Period", qty: "Qty", unitPrice: "Unit price", net: "Net", vat: "VAT",
		total: "Total net", grand: "Total due", subtotal: "Subtotal", payment: "Payment",
		payee: "Payee", iban: "IBAN", bic: "BIC", bank: "Bank", amount: "Amount", reference: "Reference",
		scanToPay: "Scan with your banking app (EPC QR)", mandate: "Mandate reference", creditorID: "Creditor ID",
		debtorIBAN: "Debited account", vatID: "VAT ID", taxNumber: "Tax number", seat: "Registered office:",
		directors: "Managing directors", page: "Page {current} of {total}",
		exemption: "VAT exemption", draft: "DRAFT",
	}
}

// number formats a decimal with at least minDec decimals as readers of lang expect:
// 1.234,56 in German, 1,234.56 in English.
func number(d decimal.Decimal, minDec int, lang string) string {
	dec := max(minDec, int(-d.Exponent()))
	s := d.StringFixed(int32(dec))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	thousands, point := ",", "."
	if lang == "de" {
		thousands, point = ".", ","
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}

func money(d decimal.Decimal, inv *invoice.Invoice) string {
	return number(d, 2, inv.Language) + " " + inv.Currency
}

func dateText(d calendar.Date, lang string) string { return invoice.FormatDate(d, lang) }

func periodText(p calendar.Period, lang string) string {
	return dateText(p.Start, lang) + " – " + dateText(p.End, lang)
}

// unitNames are the names of the UN/ECE Recommendation 20 unit codes (BT-130) kontor
// states, as the PDF shows them after a quantity: de, en.
var unitNames = map[string][2]string{
	"C62": {"Stk.", "pcs"},
	"MON": {"Monat", "month"},
	"ANN": {"Jahr", "year"},
	"DAY": {"Tag", "day"},
	"HUR": {"Std.", "hr"},
}

// unitName is the name of a unit code in lang; the code itself when it has no name here.
func unitName(code, lang string) string {
	n, ok := unitNames[code]
	switch {
	case !ok:
		return code
	case lang == "de":
		return n[0]
	}
	return n[1]
}

var (
	countriesDE = display.Regions(language.German)
	countriesEN = display.Regions(language.English)
)

// countryName is the name of an ISO 3166-1 country code in lang (CLDR's names, through
// golang.org/x/text); the code itself where it has none.
func countryName(code, lang string) string {
	region, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	names := countriesEN
	if lang == "de" {
		names = countriesDE
	}
	if n := names.Name(region); n != "" {
		return n
	}
	return code
}

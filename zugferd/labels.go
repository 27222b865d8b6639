package zugferd

import (
	"strings"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
)

// labels are the fixed words of the PDF, per language.
type labels struct {
	invoice, creditNote, number, date, due, customer, partnerID, period, currency string
	refersTo, pos, item, servicePeriod, qty, unitPrice, net, vat, total, grand    string
	payment, iban, bic, bank, reference, mandate, creditorID, debtorIBAN, vatID   string
	taxNumber, page, exemption, contact, draft                                    string
}

func labelsFor(lang string) labels {
	if lang == "de" {
		return labels{
			invoice: "Rechnung", creditNote: "Gutschrift", number: "Rechnungsnummer", date: "Rechnungsdatum",
			due: "Fällig am", customer: "Kundennummer", partnerID: "Microsoft-Partner-ID", period: "Leistungszeitraum",
			currency: "Währung", refersTo: "Bezieht sich auf Rechnung", pos: "Pos.", item: "Beschreibung",
			servicePeriod: "Zeitraum", qty: "Menge", unitPrice: "Einzelpreis", net: "Netto", vat: "USt.",
			total: "Summe netto", grand: "Gesamtbetrag", payment: "Zahlung", iban: "IBAN", bic: "BIC", bank: "Bank",
			reference: "Verwendungszweck", mandate: "Mandatsreferenz", creditorID: "Gläubiger-ID",
			debtorIBAN: "Belastetes Konto", vatID: "USt-IdNr.", taxNumber: "Steuernummer", page: "Seite {current} von {total}",
			exemption: "Steuerbefreiung", contact: "Kontakt", draft: "ENTWURF",
		}
	}
	return labels{
		invoice: "Invoice", creditNote: "Credit note", number: "Invoice number", date: "Invoice date",
		due: "Due date", customer: "Customer number", partnerID: "Microsoft Partner ID", period: "Service period",
		currency: "Currency", refersTo: "Refers to invoice", pos: "No.", item: "Description",
		servicePeriod: "Period", qty: "Qty", unitPrice: "Unit price", net: "Net", vat: "VAT",
		total: "Total net", grand: "Total due", payment: "Payment", iban: "IBAN", bic: "BIC", bank: "Bank",
		reference: "Reference", mandate: "Mandate reference", creditorID: "Creditor ID",
		debtorIBAN: "Debited account", vatID: "VAT ID", taxNumber: "Tax number", page: "Page {current} of {total}",
		exemption: "VAT exemption", contact: "Contact", draft: "DRAFT",
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

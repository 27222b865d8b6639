package invoice

import (
	"fmt"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
)

// germanSpeaking are the countries whose buyers get German invoices unless they chose a
// language; everyone else gets English.
func germanSpeaking(country string) bool {
	switch country {
	case "DE", "AT", "CH", "LI":
		return true
	}
	return false
}

// Language returns the invoice language of a buyer: its choice, else German for the
// German-speaking countries, else English.
func Language(p dataset.Party) string {
	if p.Language != "" {
		return p.Language
	}
	if germanSpeaking(p.Country) {
		return "de"
	}
	return "en"
}

// texts are the words kontor writes into invoices, per language.
type texts struct {
	additional, overage, late                               string
	proRata, endCustomer, tenant, reported                  string
	used, final                                             string
	reverseCharge, notSubject, partnerGrouping              string
	transfer, directDebit, card, online, wallet, partCredit string
	finalNote, creditFor, refund                            string
	// exemptAE and exemptO are the VAT exemption reasons (BT-120) of categories AE and O.
	exemptAE, exemptO string
	roundsToZero      string
}

// exemption is the VAT exemption reason (BT-120) of category c; "" where VAT is charged.
// German: §14a Abs. 5 UStG requires the words "Steuerschuldnerschaft des
// Leistungsempfängers" on a reverse-charge invoice; for a service whose place of supply
// is abroad (§3a Abs. 2 UStG) "Nicht im Inland steuerbare Leistung" is the usual wording.
func (t texts) exemption(c VATCategory) string {
	switch c {
	case ReverseCharge:
		return t.exemptAE
	case NotSubjectToVAT:
		return t.exemptO
	case StandardRate:
	}
	return ""
}

func textsFor(lang string) texts {
	if lang == "de" {
		return texts{
			additional: "zusätzliche Lizenzen", overage: "Mehrverbrauch", late: "nachgemeldete Nutzung, nach Abrechnung des Zeitraums eingegangen",
			proRata: "anteilig %d/%d Tage", endCustomer: "Endkunde", tenant: "Tenant", reported: "Erhöhung gemeldet am %s",
			used: "verbraucht %s, inklusive %s", final: "Schlussrechnung: Abonnement gekündigt, endet am %s",
			reverseCharge:   "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL).",
			notSubject:      "Nicht im Inland steuerbare Leistung (Leistungsort außerhalb der EU).",
			partnerGrouping: "Positionen gruppiert nach Endkunde.",
			transfer:        "Zahlbar innerhalb von %d Tagen ohne Abzug bis zum %s per SEPA-Überweisung.",
			directDebit:     "Der Betrag wird per SEPA-Lastschrift zum Mandat %s (Gläubiger-ID %s) nicht vor dem %s von IBAN %s eingezogen.",
			card:            "Bezahlt per Karte: der Betrag wird vorab von Ihrer Karte abgebucht.",
			online:          "Zahlbar online (PayPal oder eine andere Wallet) bis zum %s.",
			wallet:          "Bezahlt mit %s: der Betrag wird vorab über Ihr hinterlegtes Zahlungsmittel eingezogen.",
			partCredit:      "Teilkorrektur: %s von %s (netto) der Position %s.",
			finalNote:       "Schlussrechnung für gekündigte Abonnements: %s.",
			creditFor:       "Rechnungskorrektur zur Rechnung %s vom %s. Grund: %s",
			exemptAE:        "Steuerschuldnerschaft des Leistungsempfängers",
			exemptO:         "Nicht im Inland steuerbare Leistung",
			roundsToZero:    "Betrag unter 0,005, auf 0,00 gerundet: für diese Position wird nichts berechnet",
			refund:          "Der Betrag wird ab dem %s erstattet oder mit offenen Rechnungen verrechnet.",
		}
	}
	return texts{
		additional: "additional licenses", overage: "overage", late: "late usage, received after the period was billed",
		proRata: "pro rata %d/%d days", endCustomer: "End customer", tenant: "tenant", reported: "increase reported on %s",
		used: "used %s, included %s", final: "final invoice: subscription cancelled, ends on %s",
		reverseCharge:   "Reverse charge: the recipient is liable for VAT (Art. 196 Council Directive 2006/112/EC).",
		notSubject:      "Not subject to German VAT (place of supply outside the EU).",
		partnerGrouping: "Lines are grouped by end customer.",
		transfer:        "Payable within %d days without deduction, by %s, by SEPA credit transfer.",
		directDebit:     "The amount will be collected by SEPA direct debit under mandate %s (creditor ID %s), not before %s, from IBAN %s.",
		card:            "Paid by card: the amount is charged to your card in advance.",
		online:          "Payable online (PayPal or another wallet) by %s.",
		wallet:          "Paid with %s: the amount is charged in advance to your stored payment method.",
		partCredit:      "Part credit: %s of %s (net) of line %s.",
		finalNote:       "Final invoice for cancelled subscriptions: %s.",
		creditFor:       "Credit note for invoice %s of %s. Reason: %s",
		exemptAE:        "Reverse charge",
		exemptO:         "Not subject to VAT",
		roundsToZero:    "amount below 0.005, rounded to 0.00: nothing is charged for this line",
		refund:          "The amount will be refunded or set off against open invoices from %s.",
	}
}

// FormatDate writes a date as a reader of lang expects.
func FormatDate(d calendar.Date, lang string) string {
	if lang == "de" {
		y, m, day := d.Date()
		return fmt.Sprintf("%02d.%02d.%04d", day, int(m), y)
	}
	return d.String()
}

// maskIBAN shows the country code and the last four characters of an IBAN.
func maskIBAN(iban string) string {
	if len(iban) < 8 {
		return iban
	}
	return iban[:2] + "…" + iban[len(iban)-4:]
}

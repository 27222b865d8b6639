package zugferd

import (
	"strings"
	"unicode/utf8"

	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
)

// EPCPayload is the EPC QR code ("GiroCode") of an invoice to be paid by SEPA credit
// transfer (EPC069-12 v3.1, "Quick Response Code: Guidelines to Enable Data Capture for
// the Initiation of a SEPA Credit Transfer"): version 002, UTF-8 (character set 1),
// the seller's BIC, name and IBAN, the amount due (BT-115) in euros and the invoice number
// as unstructured remittance information. ok is false where the code does not apply: a
// document other than an invoice, another payment means, another currency, nothing due,
// or an amount above the code's 999,999,999.99.
func EPCPayload(inv *invoice.Invoice) (payload string, ok bool) {
	p, due := inv.Payment, inv.Totals.DuePayable
	if inv.TypeCode != invoice.CommercialInvoice || p.Code != invoice.MeansCreditTransfer || inv.Currency != "EUR" ||
		p.IBAN == "" || !due.IsPositive() || due.GreaterThan(decimal.RequireFromString("999999999.99")) {
		return "", false
	}
	fields := []string{
		"BCD", "002", "1", "SCT",
		p.BIC,
		clip(inv.Seller.Name, 70),
		strings.ReplaceAll(p.IBAN, " ", ""),
		"EUR" + due.StringFixed(2),
		"", // purpose code
		"", // structured creditor reference: none, the remittance text carries the number
		clip(inv.Number, 140),
	}
	return strings.Join(fields, "\n"), true
}

// clip cuts s to at most n characters and takes out line breaks, which separate the
// code's fields.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

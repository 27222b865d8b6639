package bookkeeping

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
)

// csvHeader names the columns of the plain CSV export.
var csvHeader = []string{"number", "type_code", "type", "issue_date", "due_date", "preceding_invoice",
	"buyer_kind", "buyer_id", "buyer_name", "buyer_country", "buyer_vat_id", "currency",
	"net", "vat", "gross", "signed_gross", "vat_breakdown"}

// CSV writes one row per document (UTF-8, comma-separated, a header row, amounts with a
// decimal point): the document's totals (BT-109, BT-110, BT-112), the gross signed as it
// counts toward revenue (negative for credit notes) and the VAT breakdown as
// "CATEGORY RATE% basis/tax" items separated by "|".
func CSV(docs []*invoice.Invoice) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(csvHeader)
	for _, d := range docs {
		kind, signed := "invoice", d.Totals.GrandTotal
		if d.TypeCode == invoice.CreditNote {
			kind, signed = "credit note", signed.Neg()
		}
		var vat bytes.Buffer
		for i, v := range d.VAT {
			if i > 0 {
				vat.WriteString("|")
			}
			fmt.Fprintf(&vat, "%s %s%% %s/%s", v.Category, v.Rate, v.Basis.StringFixed(2), v.Tax.StringFixed(2))
		}
		due := ""
		if !d.DueDate.IsZero() {
			due = d.DueDate.String()
		}
		w.Write([]string{d.Number, string(d.TypeCode), kind, d.IssueDate.String(), due, d.Preceding,
			string(d.BuyerKind), d.BuyerID, d.Buyer.Name, d.Buyer.Address.Country, d.Buyer.VATID, d.Currency,
			money(d.Totals.TaxBasis), money(d.Totals.TaxTotal), money(d.Totals.GrandTotal), money(signed), vat.String()})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("csv export: %w", err)
	}
	return b.Bytes(), nil
}

func money(d decimal.Decimal) string { return d.StringFixed(2) }

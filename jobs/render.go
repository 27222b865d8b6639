package jobs

import (
	"encoding/json"
	"fmt"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/zugferd"
)

// Manifest is the small JSON document archived beside each invoice's PDF and XML.
type Manifest struct {
	Number    string               `json:"number"`
	TypeCode  invoice.DocumentType `json:"type_code"`
	IssueDate calendar.Date        `json:"issue_date"`
	Buyer     string               `json:"buyer"`
	BuyerName string               `json:"buyer_name"`
	Currency  string               `json:"currency"`
	Net       string               `json:"net"`
	VAT       string               `json:"vat"`
	Gross     string               `json:"gross"`
	SHA256    ManifestHashes       `json:"sha256"`
	Preceding string               `json:"preceding_invoice,omitempty"`
	Lines     int                  `json:"lines"`
	Due       string               `json:"due_payable"`
}

// ManifestHashes are the SHA-256 of the archived files.
type ManifestHashes struct {
	PDF string `json:"pdf"`
	XML string `json:"xml"`
}

// Render renders a finalized invoice: its XML, PDF/A-3 and archive manifest. It is
// deterministic, so rendering again gives the same bytes.
func Render(r *zugferd.Renderer, inv *invoice.Invoice) ([]invoice.File, error) {
	x, err := zugferd.XML(inv)
	if err != nil {
		return nil, fmt.Errorf("CII XML: %w", err)
	}
	pdf, err := r.PDF(inv, x)
	if err != nil {
		return nil, fmt.Errorf("PDF: %w", err)
	}
	xd, pd := invoice.NewFile("xml", x), invoice.NewFile("pdf", pdf)
	t := inv.Totals
	m, err := json.MarshalIndent(Manifest{
		Number: inv.Number, TypeCode: inv.TypeCode, IssueDate: inv.IssueDate, Buyer: string(inv.BuyerKind) + " " + inv.BuyerID,
		BuyerName: inv.Buyer.Name, Currency: inv.Currency, Net: t.TaxBasis.StringFixed(2), VAT: t.TaxTotal.StringFixed(2),
		Gross: t.GrandTotal.StringFixed(2), SHA256: ManifestHashes{PDF: pd.SHA256, XML: xd.SHA256},
		Preceding: inv.Preceding, Lines: len(inv.Lines), Due: t.DuePayable.StringFixed(2),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return []invoice.File{pd, xd, invoice.NewFile("json", append(m, '\n'))}, nil
}

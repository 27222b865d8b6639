// Package invoice assembles the charges of a run into invoices: one per buyer and currency,
// with VAT from a rule table, EN 16931 totals, payment means and due dates.
//
// It is pure: the issue date is an argument, nothing is read from a clock or a file.
package invoice

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// Party is a seller or buyer as printed on an invoice.
type Party struct {
	ID      string          `json:"id,omitempty"`
	Name    string          `json:"name"`
	Address dataset.Address `json:"address"`
	VATID   string          `json:"vat_id,omitempty"`
	// TaxNumber is the seller's national tax number (BT-32).
	TaxNumber string `json:"tax_number,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Contact   string `json:"contact,omitempty"`
	// MicrosoftPartnerID identifies a partner buyer.
	MicrosoftPartnerID string `json:"microsoft_partner_id,omitempty"`
}

// Invoice is a complete invoice or credit note, ready to be numbered and rendered.
type Invoice struct {
	Number   string       `json:"number"`
	TypeCode DocumentType `json:"type_code"`
	// Preceding is the invoice a credit note corrects (BT-25, BT-26).
	Preceding     string        `json:"preceding_invoice,omitempty"`
	PrecedingDate calendar.Date `json:"preceding_invoice_date,omitzero"`
	IssueDate     calendar.Date `json:"issue_date"`
	DueDate       calendar.Date `json:"due_date"`
	Currency      string        `json:"currency"`
	Language      string        `json:"language"` // de or en
	// BuyerKind is whom the invoice is addressed to; BuyerID its ID in the dataset.
	BuyerKind BuyerKind       `json:"buyer_kind"`
	BuyerID   string          `json:"buyer_id"`
	Seller    Party           `json:"seller"`
	Buyer     Party           `json:"buyer"`
	Period    calendar.Period `json:"billing_period"`
	Lines     []Line          `json:"lines"`
	VAT       []VATBreakdown  `json:"vat"`
	Totals    Totals          `json:"totals"`
	Payment   Payment         `json:"payment"`
	Notes     []string        `json:"notes,omitempty"`
	// Letterhead is what the PDF shows of the seller beyond the e-invoice's data.
	Letterhead Letterhead `json:"letterhead,omitzero"`
}

// Letterhead is the seller's register entry, managing directors and seat, which a
// company's business letters carry (§35a GmbHG, §37a HGB), and its logo and accent colour.
type Letterhead struct {
	RegisterCourt     string   `json:"register_court,omitempty"`
	RegisterNumber    string   `json:"register_number,omitempty"`
	ManagingDirectors []string `json:"managing_directors,omitempty"`
	Seat              string   `json:"seat,omitempty"`
	// Logo is the SHA-256 (hex) of the logo image; the renderer is given the image itself.
	Logo        string `json:"logo,omitempty"`
	AccentColor string `json:"accent_color,omitempty"`
}

// LetterheadOf is the letterhead of seller s.
func LetterheadOf(s dataset.Seller) Letterhead {
	l := Letterhead{RegisterCourt: s.RegisterCourt, RegisterNumber: s.RegisterNumber,
		ManagingDirectors: s.ManagingDirectors, Seat: s.Seat, AccentColor: s.AccentColor}
	if len(s.Logo) > 0 {
		l.Logo = LogoID(s.Logo)
	}
	return l
}

// LogoID names a logo image by its content: the hex SHA-256 of its bytes.
func LogoID(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Line is an invoice line (BG-25).
type Line struct {
	ID             string      `json:"id"`
	ChargeKey      string      `json:"charge_key"`
	Kind           rating.Kind `json:"kind"`
	SubscriptionID string      `json:"subscription_id"`
	// EndCustomer is the licensed tenant; on a partner's invoice lines are grouped by it.
	EndCustomer EndCustomer     `json:"end_customer"`
	Name        string          `json:"name"`
	Note        string          `json:"note,omitempty"`
	Period      calendar.Period `json:"period"`
	Quantity    decimal.Decimal `json:"quantity"`
	UnitCode    string          `json:"unit_code"`
	UnitPrice   decimal.Decimal `json:"unit_price"`
	Net         decimal.Decimal `json:"net"`
	VATCategory VATCategory     `json:"vat_category"`
	VATRate     decimal.Decimal `json:"vat_rate"`
	Late        bool            `json:"late,omitempty"`
	Final       bool            `json:"final,omitempty"`
}

// EndCustomer identifies the tenant a line licenses.
type EndCustomer struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	TenantID   string `json:"tenant_id"`
	TenantName string `json:"tenant_name,omitempty"`
}

// VATBreakdown is the VAT of one category and rate (BG-23).
type VATBreakdown struct {
	Category      VATCategory     `json:"category"`
	Rate          decimal.Decimal `json:"rate"`
	Basis         decimal.Decimal `json:"basis"`
	Tax           decimal.Decimal `json:"tax"`
	ExemptionCode string          `json:"exemption_code,omitempty"`
	ExemptionText string          `json:"exemption_text,omitempty"`
}

// Totals are the document totals (BG-22). There are no document-level allowances or
// charges and nothing is prepaid, so TaxBasis = LineTotal and DuePayable = GrandTotal.
type Totals struct {
	LineTotal  decimal.Decimal `json:"line_total"`  // BT-106
	TaxBasis   decimal.Decimal `json:"tax_basis"`   // BT-109
	TaxTotal   decimal.Decimal `json:"tax_total"`   // BT-110
	GrandTotal decimal.Decimal `json:"grand_total"` // BT-112
	DuePayable decimal.Decimal `json:"due_payable"` // BT-115
}

// Payment is how the invoice is paid (BG-16) and its terms (BT-20).
type Payment struct {
	Method dataset.PaymentMethod `json:"method"`
	// Code is the payment means (BT-81).
	Code PaymentMeans `json:"code"`
	// Reference is the remittance information the buyer should quote (BT-83).
	Reference        string `json:"reference,omitempty"`
	IBAN             string `json:"iban,omitempty"`
	BIC              string `json:"bic,omitempty"`
	BankName         string `json:"bank_name,omitempty"`
	MandateReference string `json:"mandate_reference,omitempty"`
	CreditorID       string `json:"creditor_id,omitempty"`
	DebtorIBAN       string `json:"debtor_iban,omitempty"`
	Terms            string `json:"terms"`
}

// Skipped is a buyer, or part of a partner's invoice, that a run did not invoice.
type Skipped struct {
	BuyerKind  BuyerKind `json:"buyer_kind"`
	BuyerID    string    `json:"buyer_id"`
	Name       string    `json:"name,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	Reason     string    `json:"reason"`
	// Charges and Net are what was withheld.
	Charges int             `json:"charges"`
	Net     decimal.Decimal `json:"net"`
}

// Batch is the result of assembling one run.
type Batch struct {
	AsOf     calendar.Date `json:"as_of"`
	Invoices []*Invoice    `json:"invoices"`
	Skipped  []Skipped     `json:"skipped"`
}

// VisibleTo returns the invoices a customer may see in a customer-facing listing: only
// those issued to it under end-customer licensing. A partner's invoice is never shown to
// its end customers, even though it lists their tenants (BILLING-RULES 1, data protection).
func VisibleTo(customerID string, invoices []*Invoice) []*Invoice {
	var out []*Invoice
	for _, inv := range invoices {
		if inv.BuyerKind == CustomerBuyer && inv.BuyerID == customerID {
			out = append(out, inv)
		}
	}
	return out
}

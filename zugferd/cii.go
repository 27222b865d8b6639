// Package zugferd renders invoices as ZUGFeRD 2.x / Factur-X e-invoices, profile EN 16931:
// the CII XML, and the PDF/A-3 document that carries it as factur-x.xml.
//
// Rendering is pure and deterministic: the same invoice gives the same bytes. Dates and
// document identifiers derive from the invoice; nothing reads a clock.
package zugferd

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
)

// GuidelineEN16931 is the specification identifier (BT-24) of the EN 16931 profile.
const GuidelineEN16931 = "urn:cen.eu:en16931:2017"

// AttachmentName is the file name of the XML inside the PDF.
const AttachmentName = "factur-x.xml"

const (
	nsRSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
	nsRAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
	nsQDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
	nsUDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
)

// InvalidTextError reports text that an e-invoice cannot carry.
type InvalidTextError struct {
	Invoice, Field string
	Rune           rune
	Offset         int
}

func (e *InvalidTextError) Error() string {
	if e.Rune == utf8.RuneError {
		return fmt.Sprintf("invoice %s: %s is not valid UTF-8 at byte %d", e.Invoice, e.Field, e.Offset)
	}
	return fmt.Sprintf("invoice %s: %s contains %U at byte %d, a character XML 1.0 cannot carry", e.Invoice, e.Field, e.Rune, e.Offset)
}

// xmlChar reports whether r may appear in XML 1.0 text (the Char production; tab and line
// feed allowed, carriage return refused because parsers normalise it away).
func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return true
	case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF, r > 0x10FFFF:
		return false
	}
	return true
}

// writer builds the document and remembers the first text it could not carry.
type writer struct {
	inv *invoice.Invoice
	err error
}

func (w *writer) text(el *etree.Element, field, s string) {
	if w.err == nil {
		for i, r := range s {
			if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
				w.err = &InvalidTextError{Invoice: w.inv.Number, Field: field, Rune: r, Offset: i}
				break
			}
			if !xmlChar(r) {
				w.err = &InvalidTextError{Invoice: w.inv.Number, Field: field, Rune: r, Offset: i}
				break
			}
		}
	}
	el.SetText(s)
}

// add appends ram:NAME with text (nothing when text is empty).
func (w *writer) add(parent *etree.Element, name, field, text string) *etree.Element {
	if text == "" {
		return nil
	}
	el := parent.CreateElement("ram:" + name)
	w.text(el, field, text)
	return el
}

func date102(parent *etree.Element, name string, d calendar.Date, prefix string) {
	el := parent.CreateElement(name).CreateElement(prefix + ":DateTimeString")
	el.CreateAttr("format", "102")
	y, m, day := d.Date()
	el.SetText(fmt.Sprintf("%04d%02d%02d", y, int(m), day))
}

func amount(d decimal.Decimal) string { return d.StringFixed(2) }

// price writes a unit price with 2 to 4 decimals, as the catalog states it.
func price(d decimal.Decimal) string { return d.StringFixed(max(2, min(4, -d.Exponent()))) }

// XML renders inv as CII XML, profile EN 16931 (BT-24 urn:cen.eu:en16931:2017). Text that
// XML 1.0 cannot carry (control characters other than tab and line feed, U+FFFE, U+FFFF,
// invalid UTF-8) is refused with an *InvalidTextError naming the field; nothing is dropped
// or replaced silently on a legal document.
func XML(inv *invoice.Invoice) ([]byte, error) {
	if inv.Number == "" {
		return nil, fmt.Errorf("invoice for %s %s has no number", inv.BuyerKind, inv.BuyerID)
	}
	if len(inv.Lines) == 0 {
		return nil, fmt.Errorf("invoice %s has no lines", inv.Number)
	}
	w := &writer{inv: inv}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("rsm:CrossIndustryInvoice")
	root.CreateAttr("xmlns:rsm", nsRSM)
	root.CreateAttr("xmlns:qdt", nsQDT)
	root.CreateAttr("xmlns:ram", nsRAM)
	root.CreateAttr("xmlns:udt", nsUDT)

	ctx := root.CreateElement("rsm:ExchangedDocumentContext")
	ctx.CreateElement("ram:GuidelineSpecifiedDocumentContextParameter").CreateElement("ram:ID").SetText(GuidelineEN16931)
	w.header(root.CreateElement("rsm:ExchangedDocument"))

	tx := root.CreateElement("rsm:SupplyChainTradeTransaction")
	for _, l := range inv.Lines {
		w.line(tx, l)
	}
	agr := tx.CreateElement("ram:ApplicableHeaderTradeAgreement")
	w.party(agr.CreateElement("ram:SellerTradeParty"), "seller", inv.Seller, true)
	w.party(agr.CreateElement("ram:BuyerTradeParty"), "buyer", inv.Buyer, false)
	// BT-80: services are delivered where the buyer is; without it the delivery element
	// would be empty (PEPPOL-EN16931-R008) and BR-FX-EN-04 wants a delivery country.
	tx.CreateElement("ram:ApplicableHeaderTradeDelivery").CreateElement("ram:ShipToTradeParty").
		CreateElement("ram:PostalTradeAddress").CreateElement("ram:CountryID").SetText(inv.Buyer.Address.Country)
	w.settlement(tx.CreateElement("ram:ApplicableHeaderTradeSettlement"))
	if w.err != nil {
		return nil, w.err
	}
	doc.Indent(2)
	doc.WriteSettings.CanonicalEndTags = false
	// Sized for the document up front (about 6 KB plus 2 KB a line) rather than grown.
	var b bytes.Buffer
	b.Grow(8<<10 + 2<<10*len(inv.Lines))
	if _, err := doc.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("invoice %s: write XML: %w", inv.Number, err)
	}
	return b.Bytes(), nil
}

// header writes the document's number, type, date and notes (BG-1, BT-1 to BT-3).
func (w *writer) header(hdr *etree.Element) {
	inv := w.inv
	w.add(hdr, "ID", "number (BT-1)", inv.Number)
	hdr.CreateElement("ram:TypeCode").SetText(string(inv.TypeCode))
	date102(hdr, "ram:IssueDateTime", inv.IssueDate, "udt")
	for i, n := range inv.Notes {
		w.add(hdr.CreateElement("ram:IncludedNote"), "Content", fmt.Sprintf("note %d (BT-22)", i+1), n)
	}
	if inv.Buyer.MicrosoftPartnerID != "" {
		w.add(hdr.CreateElement("ram:IncludedNote"), "Content", "buyer Microsoft Partner ID", "Microsoft Partner ID: "+inv.Buyer.MicrosoftPartnerID)
	}
}

// settlement writes the header settlement: payment means, VAT breakdown, billing period,
// terms, totals and the preceding invoice.
func (w *writer) settlement(set *etree.Element) {
	inv, p := w.inv, w.inv.Payment
	if p.Code == invoice.MeansDirectDebit {
		w.add(set, "CreditorReferenceID", "creditor ID (BT-90)", p.CreditorID)
	}
	if p.Code == invoice.MeansCreditTransfer {
		w.add(set, "PaymentReference", "payment reference (BT-83)", inv.Number)
	}
	set.CreateElement("ram:InvoiceCurrencyCode").SetText(inv.Currency)
	w.paymentMeans(set.CreateElement("ram:SpecifiedTradeSettlementPaymentMeans"))
	w.vat(set)
	per := set.CreateElement("ram:BillingSpecifiedPeriod")
	date102(per, "ram:StartDateTime", inv.Period.Start, "udt")
	date102(per, "ram:EndDateTime", inv.Period.End, "udt")
	terms := set.CreateElement("ram:SpecifiedTradePaymentTerms")
	w.add(terms, "Description", "payment terms (BT-20)", p.Terms)
	date102(terms, "ram:DueDateDateTime", inv.DueDate, "udt")
	if p.Code == invoice.MeansDirectDebit {
		w.add(terms, "DirectDebitMandateID", "mandate reference (BT-89)", p.MandateReference)
	}
	w.totals(set.CreateElement("ram:SpecifiedTradeSettlementHeaderMonetarySummation"))
	if inv.Preceding != "" {
		ref := set.CreateElement("ram:InvoiceReferencedDocument")
		w.add(ref, "IssuerAssignedID", "preceding invoice (BT-25)", inv.Preceding)
		date102(ref, "ram:FormattedIssueDateTime", inv.PrecedingDate, "qdt")
	}
}

// paymentMeans writes the payment means (BG-16) and the accounts it names.
func (w *writer) paymentMeans(pm *etree.Element) {
	p := w.inv.Payment
	pm.CreateElement("ram:TypeCode").SetText(string(p.Code))
	w.add(pm, "Information", "payment means text (BT-82)", paymentMeansText(p))
	switch p.Code {
	case invoice.MeansDirectDebit:
		w.add(pm.CreateElement("ram:PayerPartyDebtorFinancialAccount"), "IBANID", "debited account (BT-91)", p.DebtorIBAN)
	case invoice.MeansCreditTransfer:
		acct := pm.CreateElement("ram:PayeePartyCreditorFinancialAccount")
		w.add(acct, "IBANID", "seller IBAN (BT-84)", p.IBAN)
		w.add(acct, "AccountName", "account name (BT-85)", w.inv.Seller.Name)
		if p.BIC != "" {
			w.add(pm.CreateElement("ram:PayeeSpecifiedCreditorFinancialInstitution"), "BICID", "BIC (BT-86)", p.BIC)
		}
	case invoice.MeansBankCard, invoice.MeansOnline, invoice.MeansNotDefined: // no account
	}
}

// vat writes the VAT breakdown (BG-23), one entry per category and rate.
func (w *writer) vat(set *etree.Element) {
	for _, v := range w.inv.VAT {
		tax := set.CreateElement("ram:ApplicableTradeTax")
		tax.CreateElement("ram:CalculatedAmount").SetText(amount(v.Tax))
		tax.CreateElement("ram:TypeCode").SetText("VAT")
		w.add(tax, "ExemptionReason", "VAT exemption reason (BT-120)", v.ExemptionText)
		tax.CreateElement("ram:BasisAmount").SetText(amount(v.Basis))
		tax.CreateElement("ram:CategoryCode").SetText(string(v.Category))
		w.add(tax, "ExemptionReasonCode", "VAT exemption code (BT-121)", v.ExemptionCode)
		if v.Category != invoice.NotSubjectToVAT { // BR-O-05, BR-O-09: no rate for "not subject to VAT"
			tax.CreateElement("ram:RateApplicablePercent").SetText(amount(v.Rate))
		}
	}
}

// totals writes the document totals (BG-22).
func (w *writer) totals(sum *etree.Element) {
	t := w.inv.Totals
	sum.CreateElement("ram:LineTotalAmount").SetText(amount(t.LineTotal))
	sum.CreateElement("ram:ChargeTotalAmount").SetText("0.00")
	sum.CreateElement("ram:AllowanceTotalAmount").SetText("0.00")
	sum.CreateElement("ram:TaxBasisTotalAmount").SetText(amount(t.TaxBasis))
	tt := sum.CreateElement("ram:TaxTotalAmount")
	tt.CreateAttr("currencyID", w.inv.Currency)
	tt.SetText(amount(t.TaxTotal))
	sum.CreateElement("ram:GrandTotalAmount").SetText(amount(t.GrandTotal))
	sum.CreateElement("ram:TotalPrepaidAmount").SetText("0.00")
	sum.CreateElement("ram:DuePayableAmount").SetText(amount(t.DuePayable))
}

func (w *writer) line(tx *etree.Element, l invoice.Line) {
	f := func(term string) string { return "line " + l.ID + " " + term }
	item := tx.CreateElement("ram:IncludedSupplyChainTradeLineItem")
	doc := item.CreateElement("ram:AssociatedDocumentLineDocument")
	doc.CreateElement("ram:LineID").SetText(l.ID)
	if l.Note != "" {
		w.add(doc.CreateElement("ram:IncludedNote"), "Content", f("note (BT-127)"), l.Note)
	}
	prod := item.CreateElement("ram:SpecifiedTradeProduct")
	w.add(prod, "SellerAssignedID", f("item ID (BT-155)"), l.SubscriptionID)
	w.add(prod, "Name", f("item name (BT-153)"), l.Name)
	agr := item.CreateElement("ram:SpecifiedLineTradeAgreement")
	agr.CreateElement("ram:NetPriceProductTradePrice").CreateElement("ram:ChargeAmount").SetText(price(l.UnitPrice))
	q := item.CreateElement("ram:SpecifiedLineTradeDelivery").CreateElement("ram:BilledQuantity")
	q.CreateAttr("unitCode", l.UnitCode)
	q.SetText(l.Quantity.String())
	set := item.CreateElement("ram:SpecifiedLineTradeSettlement")
	tax := set.CreateElement("ram:ApplicableTradeTax")
	tax.CreateElement("ram:TypeCode").SetText("VAT")
	tax.CreateElement("ram:CategoryCode").SetText(string(l.VATCategory))
	if l.VATCategory != invoice.NotSubjectToVAT { // BR-O-05
		tax.CreateElement("ram:RateApplicablePercent").SetText(amount(l.VATRate))
	}
	per := set.CreateElement("ram:BillingSpecifiedPeriod")
	date102(per, "ram:StartDateTime", l.Period.Start, "udt")
	date102(per, "ram:EndDateTime", l.Period.End, "udt")
	set.CreateElement("ram:SpecifiedTradeSettlementLineMonetarySummation").CreateElement("ram:LineTotalAmount").SetText(amount(l.Net))
}

func (w *writer) party(el *etree.Element, role string, p invoice.Party, seller bool) {
	f := func(term string) string { return role + " " + term }
	if seller {
		// BT-29: the seller is identified by its tax number even where no VAT ID may be
		// shown (category O, BR-O-02 with BR-CO-26).
		w.add(el, "ID", f("identifier (BT-29)"), p.TaxNumber)
	} else {
		w.add(el, "ID", f("ID (BT-46)"), p.ID)
	}
	w.add(el, "Name", f("name"), p.Name)
	if seller && (p.Contact != "" || p.Phone != "" || p.Email != "") {
		c := el.CreateElement("ram:DefinedTradeContact")
		w.add(c, "PersonName", f("contact (BT-41)"), p.Contact)
		if p.Phone != "" {
			w.add(c.CreateElement("ram:TelephoneUniversalCommunication"), "CompleteNumber", f("phone (BT-42)"), p.Phone)
		}
		if p.Email != "" {
			w.add(c.CreateElement("ram:EmailURIUniversalCommunication"), "URIID", f("contact email (BT-43)"), p.Email)
		}
	}
	a := el.CreateElement("ram:PostalTradeAddress")
	w.add(a, "PostcodeCode", f("postcode"), p.Address.Postcode)
	w.add(a, "LineOne", f("street"), p.Address.Street)
	w.add(a, "LineTwo", f("street2"), p.Address.Street2)
	w.add(a, "CityName", f("city"), p.Address.City)
	a.CreateElement("ram:CountryID").SetText(p.Address.Country)
	if p.Email != "" {
		uri := w.add(el.CreateElement("ram:URIUniversalCommunication"), "URIID", f("electronic address (BT-34/BT-49)"), p.Email)
		uri.CreateAttr("schemeID", "EM")
	}
	if seller && p.TaxNumber != "" {
		w.add(el.CreateElement("ram:SpecifiedTaxRegistration"), "ID", f("tax number (BT-32)"), p.TaxNumber).CreateAttr("schemeID", "FC")
	}
	if p.VATID != "" {
		w.add(el.CreateElement("ram:SpecifiedTaxRegistration"), "ID", f("VAT ID"), p.VATID).CreateAttr("schemeID", "VA")
	}
}

func paymentMeansText(p invoice.Payment) string {
	if p.Code == invoice.MeansNotDefined {
		return "Refund or set-off"
	}
	switch p.Method {
	case dataset.SEPADirectDebit:
		return "SEPA direct debit"
	case dataset.Card, dataset.ApplePay, dataset.GooglePay:
		return "Card payment"
	case dataset.OnlinePayment, dataset.PayPal, dataset.Link:
		return "Online payment"
	case dataset.SEPACreditTransfer:
		return "SEPA credit transfer"
	}
	return "SEPA credit transfer"
}

package zugferd

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

// Difference is one business term whose value differs between two CII documents.
type Difference struct {
	Term string // e.g. "BT-112 grand total", or the element path for unnamed elements
	Path string
	Want string // "" when the expected document lacks the value
	Got  string // "" when the actual document lacks the value
}

func (d Difference) String() string {
	show := func(s string) string {
		if s == "" {
			return "(missing)"
		}
		return s
	}
	return fmt.Sprintf("%s expected %s got %s", d.Term, show(d.Want), show(d.Got))
}

// terms names CII elements by their EN 16931 business term, by path suffix (namespace
// prefixes and repetition indexes removed). The longest matching suffix wins.
var terms = map[string]string{
	"GuidelineSpecifiedDocumentContextParameter/ID":                                       "BT-24 specification identifier",
	"ExchangedDocument/ID":                                                                "BT-1 invoice number",
	"ExchangedDocument/TypeCode":                                                          "BT-3 type code",
	"ExchangedDocument/IssueDateTime/DateTimeString":                                      "BT-2 issue date",
	"ExchangedDocument/IncludedNote/Content":                                              "BT-22 invoice note",
	"AssociatedDocumentLineDocument/LineID":                                               "BT-126 line ID",
	"AssociatedDocumentLineDocument/IncludedNote/Content":                                 "BT-127 line note",
	"SpecifiedTradeProduct/SellerAssignedID":                                              "BT-155 item seller ID",
	"SpecifiedTradeProduct/Name":                                                          "BT-153 item name",
	"NetPriceProductTradePrice/ChargeAmount":                                              "BT-146 net price",
	"SpecifiedLineTradeDelivery/BilledQuantity":                                           "BT-129 quantity",
	"SpecifiedLineTradeDelivery/BilledQuantity@unitCode":                                  "BT-130 unit code",
	"SpecifiedLineTradeSettlement/ApplicableTradeTax/CategoryCode":                        "BT-151 line VAT category",
	"SpecifiedLineTradeSettlement/ApplicableTradeTax/RateApplicablePercent":               "BT-152 line VAT rate",
	"SpecifiedLineTradeSettlement/BillingSpecifiedPeriod/StartDateTime/DateTimeString":    "BT-134 line period start",
	"SpecifiedLineTradeSettlement/BillingSpecifiedPeriod/EndDateTime/DateTimeString":      "BT-135 line period end",
	"SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount":                       "BT-131 line net",
	"SellerTradeParty/ID":                                                                 "BT-29 seller identifier",
	"SellerTradeParty/Name":                                                               "BT-27 seller name",
	"SellerTradeParty/DefinedTradeContact/PersonName":                                     "BT-41 seller contact",
	"SellerTradeParty/DefinedTradeContact/TelephoneUniversalCommunication/CompleteNumber": "BT-42 seller phone",
	"SellerTradeParty/DefinedTradeContact/EmailURIUniversalCommunication/URIID":           "BT-43 seller contact email",
	"SellerTradeParty/PostalTradeAddress/PostcodeCode":                                    "BT-38 seller postcode",
	"SellerTradeParty/PostalTradeAddress/LineOne":                                         "BT-35 seller street",
	"SellerTradeParty/PostalTradeAddress/LineTwo":                                         "BT-36 seller street 2",
	"SellerTradeParty/PostalTradeAddress/CityName":                                        "BT-37 seller city",
	"SellerTradeParty/PostalTradeAddress/CountryID":                                       "BT-40 seller country",
	"SellerTradeParty/URIUniversalCommunication/URIID":                                    "BT-34 seller electronic address",
	"SellerTradeParty/SpecifiedTaxRegistration/ID":                                        "BT-31/BT-32 seller VAT ID or tax number",
	"BuyerTradeParty/ID":                                                                  "BT-46 buyer identifier",
	"BuyerTradeParty/Name":                                                                "BT-44 buyer name",
	"BuyerTradeParty/PostalTradeAddress/PostcodeCode":                                     "BT-53 buyer postcode",
	"BuyerTradeParty/PostalTradeAddress/LineOne":                                          "BT-50 buyer street",
	"BuyerTradeParty/PostalTradeAddress/LineTwo":                                          "BT-51 buyer street 2",
	"BuyerTradeParty/PostalTradeAddress/CityName":                                         "BT-52 buyer city",
	"BuyerTradeParty/PostalTradeAddress/CountryID":                                        "BT-55 buyer country",
	"BuyerTradeParty/URIUniversalCommunication/URIID":                                     "BT-49 buyer electronic address",
	"BuyerTradeParty/SpecifiedTaxRegistration/ID":                                         "BT-48 buyer VAT ID",
	"ShipToTradeParty/PostalTradeAddress/CountryID":                                       "BT-80 deliver-to country",
	"ApplicableHeaderTradeSettlement/CreditorReferenceID":                                 "BT-90 creditor ID",
	"ApplicableHeaderTradeSettlement/PaymentReference":                                    "BT-83 remittance information",
	"ApplicableHeaderTradeSettlement/InvoiceCurrencyCode":                                 "BT-5 currency",
	"SpecifiedTradeSettlementPaymentMeans/TypeCode":                                       "BT-81 payment means",
	"SpecifiedTradeSettlementPaymentMeans/Information":                                    "BT-82 payment means text",
	"PayerPartyDebtorFinancialAccount/IBANID":                                             "BT-91 debited account",
	"PayeePartyCreditorFinancialAccount/IBANID":                                           "BT-84 payment account",
	"PayeePartyCreditorFinancialAccount/AccountName":                                      "BT-85 account name",
	"PayeeSpecifiedCreditorFinancialInstitution/BICID":                                    "BT-86 BIC",
	"ApplicableHeaderTradeSettlement/ApplicableTradeTax/CalculatedAmount":                 "BT-117 VAT amount",
	"ApplicableHeaderTradeSettlement/ApplicableTradeTax/BasisAmount":                      "BT-116 VAT taxable amount",
	"ApplicableHeaderTradeSettlement/ApplicableTradeTax/CategoryCode":                     "BT-118 VAT category",
	"ApplicableHeaderTradeSettlement/ApplicableTradeTax/RateApplicablePercent":            "BT-119 VAT rate",
	"ApplicableHeaderTradeSettlement/ApplicableTradeTax/ExemptionReason":                  "BT-120 VAT exemption reason",
	"ApplicableHeaderTradeSettlement/ApplicableTradeTax/ExemptionReasonCode":              "BT-121 VAT exemption code",
	"ApplicableHeaderTradeSettlement/BillingSpecifiedPeriod/StartDateTime/DateTimeString": "BT-73 period start",
	"ApplicableHeaderTradeSettlement/BillingSpecifiedPeriod/EndDateTime/DateTimeString":   "BT-74 period end",
	"SpecifiedTradePaymentTerms/Description":                                              "BT-20 payment terms",
	"SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString":                           "BT-9 due date",
	"SpecifiedTradePaymentTerms/DirectDebitMandateID":                                     "BT-89 mandate reference",
	"SpecifiedTradeSettlementHeaderMonetarySummation/LineTotalAmount":                     "BT-106 sum of line nets",
	"SpecifiedTradeSettlementHeaderMonetarySummation/AllowanceTotalAmount":                "BT-107 allowances",
	"SpecifiedTradeSettlementHeaderMonetarySummation/ChargeTotalAmount":                   "BT-108 charges",
	"SpecifiedTradeSettlementHeaderMonetarySummation/TaxBasisTotalAmount":                 "BT-109 total without VAT",
	"SpecifiedTradeSettlementHeaderMonetarySummation/TaxTotalAmount":                      "BT-110 VAT total",
	"SpecifiedTradeSettlementHeaderMonetarySummation/GrandTotalAmount":                    "BT-112 total with VAT",
	"SpecifiedTradeSettlementHeaderMonetarySummation/TotalPrepaidAmount":                  "BT-113 paid amount",
	"SpecifiedTradeSettlementHeaderMonetarySummation/DuePayableAmount":                    "BT-115 amount due",
	"InvoiceReferencedDocument/IssuerAssignedID":                                          "BT-25 preceding invoice",
	"InvoiceReferencedDocument/FormattedIssueDateTime/DateTimeString":                     "BT-26 preceding invoice date",
}

var (
	reIndex    = regexp.MustCompile(`\[\d+\]`)
	reLineItem = regexp.MustCompile(`IncludedSupplyChainTradeLineItem\[(\d+)\]`)
	reTax      = regexp.MustCompile(`ApplicableHeaderTradeSettlement/ApplicableTradeTax\[(\d+)\]`)
)

// termOf names the business term at path, with the line or VAT breakdown it belongs to.
func termOf(path string) string {
	bare := reIndex.ReplaceAllString(path, "")
	best := ""
	for suffix := range terms {
		if strings.HasSuffix(bare, suffix) && len(suffix) > len(best) {
			best = suffix
		}
	}
	name := path
	if best != "" {
		name = terms[best]
	}
	if m := reLineItem.FindStringSubmatch(path); m != nil {
		name += " (line " + m[1] + ")"
	} else if m := reTax.FindStringSubmatch(path); m != nil {
		name += " (VAT breakdown " + m[1] + ")"
	}
	return name
}

// flatten lists every text and attribute value of a document by its path; repeated
// siblings are numbered from 1.
func flatten(doc []byte) (map[string]string, []string, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, nil, err
	}
	if d.Root() == nil {
		return nil, nil, fmt.Errorf("no root element")
	}
	vals := map[string]string{}
	var order []string
	var walk func(e *etree.Element, path string)
	walk = func(e *etree.Element, path string) {
		for _, a := range e.Attr {
			if a.Space == "xmlns" || a.Key == "xmlns" {
				continue
			}
			p := path + "@" + a.Key
			vals[p] = a.Value
			order = append(order, p)
		}
		if t := strings.TrimSpace(e.Text()); t != "" {
			vals[path] = t
			order = append(order, path)
		}
		count := map[string]int{}
		for _, c := range e.ChildElements() {
			count[c.Tag]++
		}
		seen := map[string]int{}
		for _, c := range e.ChildElements() {
			seen[c.Tag]++
			p := path + "/" + c.Tag
			if count[c.Tag] > 1 {
				p += fmt.Sprintf("[%d]", seen[c.Tag])
			}
			walk(c, p)
		}
	}
	walk(d.Root(), d.Root().Tag)
	return vals, order, nil
}

// Compare compares two CII documents value by value and names each difference by its
// business term. Formatting (indentation, namespace prefixes' declarations) is ignored.
func Compare(want, got []byte) ([]Difference, error) {
	w, wOrder, err := flatten(want)
	if err != nil {
		return nil, fmt.Errorf("expected XML: %w", err)
	}
	g, gOrder, err := flatten(got)
	if err != nil {
		return nil, fmt.Errorf("actual XML: %w", err)
	}
	var diffs []Difference
	seen := map[string]bool{}
	for _, p := range append(wOrder, gOrder...) {
		if seen[p] {
			continue
		}
		seen[p] = true
		if w[p] != g[p] {
			diffs = append(diffs, Difference{Term: termOf(p), Path: p, Want: w[p], Got: g[p]})
		}
	}
	return diffs, nil
}

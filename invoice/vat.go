package invoice

import (
	"fmt"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/shopspring/decimal"
)

// Zone is where a buyer is, seen from the seller.
type Zone string

const (
	Domestic Zone = "domestic" // the seller's country
	EU       Zone = "eu"       // another EU member state
	NonEU    Zone = "non_eu"
)

// VATRule is one row of the VAT rule table: for a buyer zone and whether the buyer has a
// VAT ID, the VAT category (UNTDID 5305), rate and exemption, or a refusal to invoice.
type VATRule struct {
	Zone          Zone
	HasVATID      VATIDCondition
	Category      VATCategory
	Rate          decimal.Decimal
	ExemptionCode string // VATEX code (BT-121)
	ExemptionText string // BT-120, in the buyer's language; set when an invoice is assembled
	// Refuse, when set, is why an invoice cannot be issued to such a buyer.
	Refuse string
}

// VATRules is an ordered rule table; the first matching row applies.
type VATRules []VATRule

// GermanSellerVAT returns the VAT rule table of a seller established in Germany selling
// software services to businesses (BILLING-RULES 3).
func GermanSellerVAT() VATRules {
	return VATRules{
		{Zone: Domestic, Category: StandardRate, Rate: decimal.NewFromInt(19)},
		{Zone: EU, HasVATID: WithVATID, Category: ReverseCharge, Rate: decimal.Zero, ExemptionCode: "VATEX-EU-AE"},
		{Zone: EU, HasVATID: WithoutVATID, Refuse: "buyer in another EU member state without a VAT ID: kontor invoices businesses only (B2B) and cannot apply reverse charge without the buyer's VAT ID"},
		{Zone: NonEU, Category: NotSubjectToVAT, Rate: decimal.Zero, ExemptionCode: "VATEX-EU-O"},
	}
}

// For returns the rule for a buyer.
func (rules VATRules) For(sellerCountry string, buyer dataset.Party) (VATRule, error) {
	zone := NonEU
	switch {
	case buyer.Country == sellerCountry:
		zone = Domestic
	case dataset.IsEU(buyer.Country):
		zone = EU
	}
	has := buyer.VATID != ""
	for _, r := range rules {
		if r.Zone == zone && r.HasVATID.Holds(has) {
			if r.Refuse != "" {
				return r, fmt.Errorf("%s", r.Refuse)
			}
			return r, nil
		}
	}
	return VATRule{}, fmt.Errorf("no VAT rule for a buyer in %s (zone %s, VAT ID: %t)", buyer.Country, zone, has)
}

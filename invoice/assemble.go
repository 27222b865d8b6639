package invoice

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// Options control assembly.
type Options struct {
	// IssueDate is the invoices' date (BT-2); a run uses its as-of date.
	IssueDate calendar.Date
	// VAT is the rule table; nil means GermanSellerVAT().
	VAT VATRules
	// DraftPrefix numbers the drafts: DraftPrefix + 0001, 0002, … in buyer order. Final
	// numbers are assigned when an invoice is finalized.
	DraftPrefix string
	// DraftsBefore is how many drafts earlier parts of the same run assembled (a run
	// assembles its buyers part by part, in buyer order): numbering goes on after them.
	DraftsBefore int
}

type buyerKey struct {
	kind         BuyerKind
	id, currency string
}

// Assemble puts the charges of a rating result on invoices: one per buyer and currency
// (BILLING-RULES 3), in buyer order (kind, ID, currency). A buyer that cannot be invoiced is skipped with its reason while all
// others are invoiced; so are the charges of a customer with a subscription that could not
// be rated.
func Assemble(ds *dataset.Dataset, res rating.Result, opt Options) Batch {
	if opt.VAT == nil {
		opt.VAT = GermanSellerVAT()
	}
	if opt.DraftPrefix == "" {
		opt.DraftPrefix = "DRAFT-"
	}
	b := Batch{AsOf: res.AsOf, Invoices: []*Invoice{}, Skipped: []Skipped{}}

	// A problem with a subscription withholds every charge of that customer for that buyer.
	type hold struct {
		kind         BuyerKind
		id, customer string
	}
	withheld := map[hold]int{} // → index in b.Skipped
	for _, p := range res.Problems {
		s := ds.SubscriptionByID[p.SubscriptionID]
		kind, id := BuyerOf(s)
		h := hold{kind, id, s.CustomerID}
		if _, seen := withheld[h]; seen {
			b.Skipped[withheld[h]].Reason += "; " + p.Error()
			continue
		}
		withheld[h] = len(b.Skipped)
		b.Skipped = append(b.Skipped, Skipped{BuyerKind: kind, BuyerID: id, Name: buyerParty(ds, kind, id).Name,
			CustomerID: s.CustomerID, Reason: p.Error(), Net: decimal.Zero})
	}

	groups := map[buyerKey][]rating.Charge{}
	var keys []buyerKey
	for _, c := range res.Charges {
		s := ds.SubscriptionByID[c.SubscriptionID]
		kind, id := BuyerOf(s)
		if i, ok := withheld[hold{kind, id, s.CustomerID}]; ok {
			b.Skipped[i].Charges++
			b.Skipped[i].Net = b.Skipped[i].Net.Add(c.Net)
			continue
		}
		k := buyerKey{kind, id, c.Currency}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], c)
	}
	slices.SortFunc(keys, func(a, c buyerKey) int {
		return cmp.Or(compareBuyers(a.kind, a.id, c.kind, c.id), strings.Compare(a.currency, c.currency))
	})
	letterhead := LetterheadOf(ds.Seller) // the logo's hash once, not per invoice
	for _, k := range keys {
		party := buyerParty(ds, k.kind, k.id)
		rule, err := opt.VAT.For(ds.Seller.Country, party)
		if err != nil {
			sk := Skipped{BuyerKind: k.kind, BuyerID: k.id, Name: party.Name,
				Reason: fmt.Sprintf("%s %s (%s): %v", k.kind, k.id, party.Name, err), Net: decimal.Zero}
			for _, c := range groups[k] {
				sk.Charges++
				sk.Net = sk.Net.Add(c.Net)
			}
			b.Skipped = append(b.Skipped, sk)
			continue
		}
		inv := build(ds, k, party, rule, groups[k], opt)
		inv.Letterhead = letterhead
		inv.Number = fmt.Sprintf("%s%04d", opt.DraftPrefix, opt.DraftsBefore+len(b.Invoices)+1)
		b.Invoices = append(b.Invoices, inv)
	}
	// Skipped buyers in buyer order too (for one buyer, the problems first), so that
	// assembling part by part skips them in the same order.
	slices.SortStableFunc(b.Skipped, func(a, c Skipped) int { return compareBuyers(a.BuyerKind, a.BuyerID, c.BuyerKind, c.BuyerID) })
	return b
}

// Parts splits subscriptions (in dataset order) into parts of about size subscriptions
// (at least one buyer's), for a run that rates and assembles its buyers part by part to
// hold one part in memory at a time: each buyer's subscriptions in one part (in dataset
// order), the buyers in the order Assemble puts their invoices, so that the invoices of
// the parts, one part after the other, are those Assemble makes of all subscriptions at
// once, in the same order. buyerOf returns a subscription's buyer (BuyerOf, for a
// dataset's). No subscriptions make one empty part.
func Parts[S any](subs []S, buyerOf func(S) (kind BuyerKind, id string), size int) [][]S {
	type buyer struct {
		kind BuyerKind
		id   string
		subs []S
	}
	index := map[[2]string]int{}
	var buyers []buyer
	for _, s := range subs {
		kind, id := buyerOf(s)
		i, ok := index[[2]string{string(kind), id}]
		if !ok {
			i = len(buyers)
			index[[2]string{string(kind), id}] = i
			buyers = append(buyers, buyer{kind: kind, id: id})
		}
		buyers[i].subs = append(buyers[i].subs, s)
	}
	slices.SortFunc(buyers, func(a, b buyer) int { return compareBuyers(a.kind, a.id, b.kind, b.id) })
	parts := [][]S{nil}
	for _, b := range buyers {
		last := len(parts) - 1
		if len(parts[last]) > 0 && len(parts[last])+len(b.subs) > size {
			parts = append(parts, nil)
			last++
		}
		parts[last] = append(parts[last], b.subs...)
	}
	return parts
}

// compareBuyers orders buyers by kind, then ID: the order of a batch's invoices and
// skipped buyers, and of a run's parts, which must agree.
func compareBuyers(kindA BuyerKind, idA string, kindB BuyerKind, idB string) int {
	return cmp.Or(cmp.Compare(kindA, kindB), strings.Compare(idA, idB))
}

// BuyerOf returns who is invoiced for a subscription: its partner or its customer.
func BuyerOf(s *dataset.Subscription) (kind BuyerKind, id string) {
	return Buyer(s.Channel, s.CustomerID, s.PartnerID)
}

// Buyer returns who is invoiced for a subscription of the given channel, customer and
// partner: the partner for a subscription via a partner, else the customer.
func Buyer(channel dataset.Channel, customerID, partnerID string) (kind BuyerKind, id string) {
	if channel == dataset.ViaPartner {
		return PartnerBuyer, partnerID
	}
	return CustomerBuyer, customerID
}

func buyerParty(ds *dataset.Dataset, kind BuyerKind, id string) dataset.Party {
	if kind == PartnerBuyer {
		return ds.PartnerByID[id].Party
	}
	return ds.CustomerByID[id].Party
}

var kindRank = map[rating.Kind]int{rating.Advance: 0, rating.Increase: 1, rating.Overage: 2}

// build assembles the invoice of buyer k (party) from its charges under VAT rule rule.
func build(ds *dataset.Dataset, k buyerKey, party dataset.Party, rule VATRule, charges []rating.Charge, opt Options) *Invoice {
	lang := Language(party)
	t := textsFor(lang)
	rule.ExemptionText = t.exemption(rule.Category)
	sel := ds.Seller
	inv := &Invoice{
		TypeCode: CommercialInvoice, IssueDate: opt.IssueDate, Currency: k.currency, Language: lang,
		BuyerKind: k.kind, BuyerID: k.id,
		Seller: Party{Name: sel.Name, Address: sel.Address, VATID: sel.VATID, TaxNumber: sel.TaxNumber,
			Email: sel.Email, Phone: sel.Phone, Contact: sel.Contact},
		Buyer: Party{ID: k.id, Name: party.Name, Address: party.Address, VATID: party.VATID, Email: party.Email},
	}
	if k.kind == PartnerBuyer {
		inv.Buyer.MicrosoftPartnerID = ds.PartnerByID[k.id].MicrosoftPartnerID
	}
	if rule.Category == NotSubjectToVAT {
		// BR-O-02/03: an invoice not subject to VAT carries no VAT IDs; the seller's tax
		// number (BT-32) identifies the seller.
		inv.Seller.VATID, inv.Buyer.VATID = "", ""
	}
	sortCharges(charges)
	var finals []string
	for i, c := range charges {
		l := chargeLine(ds, k, rule, c, i, lang, t)
		if c.Final && (len(finals) == 0 || finals[len(finals)-1] != c.SubscriptionID) {
			finals = append(finals, c.SubscriptionID)
		}
		inv.Lines = append(inv.Lines, l)
		if i == 0 || l.Period.Start.Before(inv.Period.Start) {
			inv.Period.Start = l.Period.Start
		}
		if i == 0 || l.Period.End.After(inv.Period.End) {
			inv.Period.End = l.Period.End
		}
	}
	inv.VAT, inv.Totals = Totalize(inv.Lines, rule)
	inv.Notes = documentNotes(k, rule, finals, t)
	inv.Payment = payment(sel, party, opt.IssueDate, t, lang)
	inv.DueDate = opt.IssueDate
	if !chargedInAdvance(inv.Payment.Method) {
		inv.DueDate = opt.IssueDate.AddDays(sel.PaymentTermsDays)
	}
	return inv
}

// sortCharges orders an invoice's charges: by end customer, subscription, service start,
// kind (advance, increase, overage) and usage type.
func sortCharges(charges []rating.Charge) {
	sort.SliceStable(charges, func(i, j int) bool {
		a, c := charges[i], charges[j]
		if a.CustomerID != c.CustomerID {
			return a.CustomerID < c.CustomerID
		}
		if a.SubscriptionID != c.SubscriptionID {
			return a.SubscriptionID < c.SubscriptionID
		}
		if cmp := a.Service.Start.Compare(c.Service.Start); cmp != 0 {
			return cmp < 0
		}
		if kindRank[a.Kind] != kindRank[c.Kind] {
			return kindRank[a.Kind] < kindRank[c.Kind]
		}
		return a.UsageType < c.UsageType
	})
}

// Note is the note naming a partner line's end customer and tenant in lang: the first of
// the line's notes (BT-127) on a partner's invoice. The PDF shows it once, above the group.
func (e EndCustomer) Note(lang string) string { return e.note(textsFor(lang)) }

func (e EndCustomer) note(t texts) string {
	tenant := e.TenantID
	if e.TenantName != "" {
		tenant = e.TenantName + " (" + e.TenantID + ")"
	}
	name := e.Name
	if name == "" {
		name = e.ID
	}
	return fmt.Sprintf("%s: %s, %s %s", t.endCustomer, name, t.tenant, tenant)
}

// chargeLine is the invoice line of charge c, the i-th (from 0), with its name and notes
// in the buyer's language.
func chargeLine(ds *dataset.Dataset, k buyerKey, rule VATRule, c rating.Charge, i int, lang string, t texts) Line {
	cust := ds.CustomerByID[c.CustomerID]
	l := Line{
		ID: fmt.Sprint(i + 1), ChargeKey: c.Key, Kind: c.Kind, SubscriptionID: c.SubscriptionID,
		EndCustomer: EndCustomer{ID: cust.ID, Name: cust.Name, TenantID: cust.TenantID, TenantName: cust.TenantName},
		Period:      c.Service, Quantity: c.Quantity, UnitCode: c.UnitCode, UnitPrice: c.UnitPrice, Net: c.Net,
		VATCategory: rule.Category, VATRate: rule.Rate, Late: c.Late, Final: c.Final,
	}
	plan := ds.Catalog.PlanByID[c.PlanID]
	var notes []string
	if k.kind == PartnerBuyer {
		notes = append(notes, l.EndCustomer.note(t))
	}
	planName := dataset.Localized(plan.Name, plan.NameDE, lang)
	switch c.Kind {
	case rating.Advance:
		l.Name = planName
	case rating.Increase:
		l.Name = planName + " – " + t.additional
		notes = append(notes, fmt.Sprintf(t.reported, FormatDate(c.Service.Start, lang)))
	case rating.Overage:
		ut := ds.Catalog.UsageTypeByID[c.UsageType]
		l.Name = dataset.Localized(ut.Name, ut.NameDE, lang) + " – " + t.overage
		notes = append(notes, fmt.Sprintf(t.used, c.Used, c.Included))
		if c.Late {
			notes = append(notes, t.late)
		}
	}
	if c.BasisDays > 0 {
		notes = append(notes, fmt.Sprintf(t.proRata, c.ProrateDays, c.BasisDays))
	}
	if c.Final {
		notes = append(notes, fmt.Sprintf(t.final, FormatDate(c.Service.End, lang)))
	}
	if c.Net.IsZero() && !c.Quantity.IsZero() && !c.UnitPrice.IsZero() {
		// README "Lines that round to nothing": the line stays, saying why it is 0.00.
		notes = append(notes, t.roundsToZero)
	}
	l.Note = strings.Join(notes, "; ")
	return l
}

// documentNotes are the invoice's notes (BT-22): why no VAT is charged, how a partner's
// lines are grouped, which subscriptions end.
func documentNotes(k buyerKey, rule VATRule, finals []string, t texts) []string {
	var notes []string
	switch rule.Category {
	case ReverseCharge:
		notes = append(notes, t.reverseCharge)
	case NotSubjectToVAT:
		notes = append(notes, t.notSubject)
	case StandardRate:
	}
	if k.kind == PartnerBuyer {
		notes = append(notes, t.partnerGrouping)
	}
	if len(finals) > 0 {
		notes = append(notes, fmt.Sprintf(t.finalNote, strings.Join(finals, ", ")))
	}
	return notes
}

// Totalize computes the VAT breakdown and document totals of lines that all fall under one
// VAT rule: VAT per category and rate on the sum of the line nets, rounded to 2 decimals
// half away from zero (EN 16931 BR-CO-10, -13, -14, -15, -17; BILLING-RULES 3).
func Totalize(lines []Line, rule VATRule) ([]VATBreakdown, Totals) {
	basis := decimal.Zero
	for _, l := range lines {
		basis = basis.Add(l.Net)
	}
	tax := basis.Mul(rule.Rate).Div(decimal.NewFromInt(100)).Round(2)
	vat := []VATBreakdown{{Category: rule.Category, Rate: rule.Rate, Basis: basis, Tax: tax,
		ExemptionCode: rule.ExemptionCode, ExemptionText: rule.ExemptionText}}
	grand := basis.Add(tax)
	return vat, Totals{LineTotal: basis, TaxBasis: basis, TaxTotal: tax, GrandTotal: grand, DuePayable: grand}
}

// walletNames are the wallets' names as their providers write them.
var walletNames = map[dataset.PaymentMethod]string{dataset.ApplePay: "Apple Pay", dataset.GooglePay: "Google Pay",
	dataset.PayPal: "PayPal", dataset.Link: "Link"}

// chargedInAdvance reports whether an invoice paid by m is due on its issue date: the
// seller charges the stored card or wallet when it issues the invoice.
func chargedInAdvance(m dataset.PaymentMethod) bool {
	return m.CardLike() || m == dataset.PayPal || m == dataset.Link
}

func payment(sel dataset.Seller, buyer dataset.Party, issue calendar.Date, t texts, lang string) Payment {
	due := FormatDate(issue.AddDays(sel.PaymentTermsDays), lang)
	p := Payment{Method: buyer.PaymentMethod}
	switch buyer.PaymentMethod {
	case dataset.SEPADirectDebit:
		p.Code, p.MandateReference, p.CreditorID, p.DebtorIBAN = MeansDirectDebit, buyer.MandateReference, sel.CreditorID, buyer.DebtorIBAN
		p.Terms = fmt.Sprintf(t.directDebit, buyer.MandateReference, sel.CreditorID, due, maskIBAN(buyer.DebtorIBAN))
	case dataset.Card:
		p.Code, p.Terms = MeansBankCard, t.card
	case dataset.ApplePay, dataset.GooglePay:
		p.Code, p.Terms = MeansBankCard, fmt.Sprintf(t.wallet, walletNames[buyer.PaymentMethod])
	case dataset.PayPal, dataset.Link:
		p.Code, p.Terms = MeansOnline, fmt.Sprintf(t.wallet, walletNames[buyer.PaymentMethod])
	case dataset.OnlinePayment:
		p.Code, p.Terms = MeansOnline, fmt.Sprintf(t.online, due)
	default:
		p.Code, p.IBAN, p.BIC, p.BankName = MeansCreditTransfer, sel.IBAN, sel.BIC, sel.BankName
		p.Terms = fmt.Sprintf(t.transfer, sel.PaymentTermsDays, due)
	}
	return p
}

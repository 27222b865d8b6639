package invoice

// The domain codes of an invoice, each a named type with its constants and one table that
// gives each code its name and text; the code itself is the value the standards give it
// (UNTDID code lists, as EN 16931 uses them) where there is one. Switches over them name
// every code or say default (golangci-lint's exhaustive linter, make lint).

// Code is an entry of a code table: the code, a short name and a text for people.
type Code[T ~string] struct {
	Code T
	Name string
	Text string
}

// A CodeList is the table of a code type: each code with its name and text.
type CodeList[T ~string] []Code[T]

// Lookup returns the entry of c, and whether there is one.
func (l CodeList[T]) Lookup(c T) (Code[T], bool) {
	for _, e := range l {
		if e.Code == c {
			return e, true
		}
	}
	return Code[T]{}, false
}

// Valid reports whether c is in the list.
func (l CodeList[T]) Valid(c T) bool { _, ok := l.Lookup(c); return ok }

// Name is c's short name ("" for a code not in the list).
func (l CodeList[T]) Name(c T) string { e, _ := l.Lookup(c); return e.Name }

// VATCategory is a VAT category code (UNTDID 5305; BT-118, BT-151).
type VATCategory string

// The VAT categories kontor applies (BILLING-RULES 3).
const (
	StandardRate    VATCategory = "S"
	ReverseCharge   VATCategory = "AE"
	NotSubjectToVAT VATCategory = "O"
)

// VATCategories is the table of VAT categories.
var VATCategories = CodeList[VATCategory]{
	{StandardRate, "standard rate", "Standard rated"},
	{ReverseCharge, "reverse charge", "VAT reverse charge"},
	{NotSubjectToVAT, "not subject to VAT", "Services outside scope of tax"},
}

// DocumentType is a document's type code (UNTDID 1001; BT-3).
type DocumentType string

// The document types kontor issues.
const (
	CommercialInvoice DocumentType = "380"
	CreditNote        DocumentType = "381"
)

// DocumentTypes is the table of document types.
var DocumentTypes = CodeList[DocumentType]{
	{CommercialInvoice, "invoice", "Commercial invoice"},
	{CreditNote, "credit note", "Credit note"},
}

// PaymentMeans is a payment means code (UNTDID 4461; BT-81).
type PaymentMeans string

// The payment means kontor states.
const (
	// MeansNotDefined is a credit note's: the amount is refunded or set off.
	MeansNotDefined     PaymentMeans = "1"
	MeansCreditTransfer PaymentMeans = "58"
	MeansDirectDebit    PaymentMeans = "59"
	MeansBankCard       PaymentMeans = "54"
	MeansOnline         PaymentMeans = "68"
)

// PaymentMeansCodes is the table of payment means.
var PaymentMeansCodes = CodeList[PaymentMeans]{
	{MeansNotDefined, "not defined", "Refund or set-off"},
	{MeansCreditTransfer, "SEPA credit transfer", "SEPA credit transfer"},
	{MeansDirectDebit, "SEPA direct debit", "SEPA direct debit"},
	{MeansBankCard, "card", "Credit card"},
	{MeansOnline, "online payment", "Online payment service"},
}

// BuyerKind is whom an invoice is addressed to: an end customer, or a partner who gets one
// invoice for its customers.
type BuyerKind string

// The buyer kinds.
const (
	CustomerBuyer BuyerKind = "customer"
	PartnerBuyer  BuyerKind = "partner"
)

// BuyerKinds is the table of buyer kinds.
var BuyerKinds = CodeList[BuyerKind]{
	{CustomerBuyer, "customer", "End customer"},
	{PartnerBuyer, "partner", "Partner (one invoice for its end customers)"},
}

// Status is where an issued document is in its life: a run stores it as a draft,
// numbers it (finalized), renders its files (rendered) and archives them (archived); each
// step is a conditional update, so that a run finishes what an interrupted one began.
type Status string

// The statuses, in the order a document goes through them.
const (
	Draft     Status = "draft"
	Finalized Status = "finalized"
	Rendered  Status = "rendered"
	Archived  Status = "archived"
)

// Statuses is the table of statuses.
var Statuses = CodeList[Status]{
	{Draft, "draft", "Assembled, not numbered yet"},
	{Finalized, "finalized", "Numbered, not rendered yet"},
	{Rendered, "rendered", "Rendered, not archived yet"},
	{Archived, "archived", "Archived: issued"},
}

// VATIDCondition is what a VAT rule asks of the buyer's VAT ID.
type VATIDCondition string

// The conditions on a buyer's VAT ID.
const (
	AnyVATID     VATIDCondition = ""
	WithVATID    VATIDCondition = "with"
	WithoutVATID VATIDCondition = "without"
)

// VATIDConditions is the table of conditions.
var VATIDConditions = CodeList[VATIDCondition]{
	{AnyVATID, "any", "With or without a VAT ID"},
	{WithVATID, "with VAT ID", "The buyer has a VAT ID"},
	{WithoutVATID, "without VAT ID", "The buyer has no VAT ID"},
}

// Holds reports whether the condition holds for a buyer that has a VAT ID or not.
func (c VATIDCondition) Holds(hasVATID bool) bool {
	switch c {
	case AnyVATID:
		return true
	case WithVATID:
		return hasVATID
	case WithoutVATID:
		return !hasVATID
	}
	return false
}

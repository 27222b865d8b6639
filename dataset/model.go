// Package dataset holds kontor's input model (seller, catalog, customers, partners,
// subscriptions, license reports, usage events) and its loader.
//
// A dataset is a directory; see fixtures/README.md for the format. Load reads it from an
// fs.FS, validates everything before anything is computed from it, and reports every
// problem with file, line or record, field and reason.
package dataset

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// FormatName and FormatVersion identify the dataset format this package reads.
const (
	FormatName    = "kontor-dataset"
	FormatVersion = 1
)

// Dataset is a validated dataset. Slices are in file order; the maps index them by ID.
type Dataset struct {
	Manifest      Manifest
	Seller        Seller
	Catalog       Catalog
	Customers     []*Customer
	Partners      []*Partner
	Subscriptions []*Subscription
	// LicenseReports are grouped by subscription ID, each group sorted by date.
	LicenseReports map[string][]LicenseReport
	// Usage holds each event ID once, grouped by subscription (in the order of each
	// subscription's first event); see Duplicates.
	Usage []UsageEvent
	// Duplicates counts usage rows that repeated an event already read (BILLING-RULES 2.4:
	// a duplicate ID is counted once).
	Duplicates int

	CustomerByID     map[string]*Customer
	PartnerByID      map[string]*Partner
	SubscriptionByID map[string]*Subscription
}

// Manifest is dataset.json: the format marker and the dataset's defaults.
type Manifest struct {
	Format      string `json:"format"`
	Version     int    `json:"version"`
	Description string `json:"description,omitempty"`
	// AsOf is the run date a scenario is built around; the CLI flag --as-of overrides it.
	AsOf calendar.Date `json:"as_of,omitzero"`
	// BilledAsOf is the default opening state of every subscription: everything due as of
	// this date was billed before (by an earlier system or run). Subscriptions may override it.
	BilledAsOf calendar.Date `json:"billed_as_of,omitzero"`
	// CreditNotes lists credit notes a scenario issues after its run, for the invoices of
	// that run (by draft number): review material for credit notes (type 381).
	CreditNotes []CreditNoteRequest `json:"credit_notes,omitempty"`
}

// CreditNoteRequest asks for a full credit note of an invoice of the run.
type CreditNoteRequest struct {
	Invoice string `json:"invoice"`
	Reason  string `json:"reason"`
}

// Address is a postal address.
type Address struct {
	Street   string `json:"street"`
	Street2  string `json:"street2,omitempty"`
	Postcode string `json:"postcode"`
	City     string `json:"city"`
	Country  string `json:"country"` // ISO 3166-1 alpha-2
}

// Seller is the app vendor: the legal entity that issues every invoice (seller.json).
type Seller struct {
	Name       string `json:"name"`
	Address    `json:"address"`
	VATID      string `json:"vat_id"`
	TaxNumber  string `json:"tax_number"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Contact    string `json:"contact"`
	IBAN       string `json:"iban"`
	BIC        string `json:"bic"`
	BankName   string `json:"bank_name,omitempty"`
	CreditorID string `json:"sepa_creditor_id"`
	// InvoiceSeries and CreditNoteSeries prefix the document numbers: fixed ("RE-2026-"),
	// or with {YYYY} for the issue date's year ("RE-{YYYY}-"), so that numbers restart at
	// 1 each calendar year (SeriesOf).
	InvoiceSeries    string `json:"invoice_series"`
	CreditNoteSeries string `json:"credit_note_series"`
	// TimeZone is the billing time zone (IANA name); period boundaries are local midnights.
	TimeZone         string `json:"time_zone"`
	PaymentTermsDays int    `json:"payment_terms_days"`
	// The register entry and managing directors a company's business letters carry
	// (§35a GmbHG, §37a HGB), its registered seat, and the letterhead: a logo file (PNG or
	// JPEG beside seller.json) and an accent colour ("#1A4D8F"). All optional: a sole
	// trader has no register, and absent fields are left off the page.
	RegisterCourt     string   `json:"register_court,omitempty"`
	RegisterNumber    string   `json:"register_number,omitempty"`
	ManagingDirectors []string `json:"managing_directors,omitempty"`
	Seat              string   `json:"seat,omitempty"`
	LogoFile          string   `json:"logo,omitempty"`
	AccentColor       string   `json:"accent_color,omitempty"`
	// EmailInvoices sends every invoice and credit note, PDF and XML, to the buyer's
	// billing email when it is issued (through the outbox, KONTOR_SMTP_URL).
	EmailInvoices bool `json:"email_invoices,omitempty"`
	// Logo is the logo file's content, read by the loader and kept with the dataset.
	Logo []byte `json:"logo_data,omitempty"`

	Location *time.Location `json:"-"`
}

// LicenseMethod says what a subscription's quantity counts (BILLING-RULES 2.1).
type LicenseMethod string

const (
	PerUser    LicenseMethod = "user"
	PerCompany LicenseMethod = "company"
	PerTenant  LicenseMethod = "tenant"
)

// Term is the length of a billing period (BILLING-RULES 2.2).
type Term string

const (
	Monthly Term = "monthly"
	Annual  Term = "annual"
)

// Catalog is catalog.json: apps, usage types and plans.
type Catalog struct {
	Apps       []*App       `json:"apps"`
	UsageTypes []*UsageType `json:"usage_types"`
	Plans      []*Plan      `json:"plans"`

	AppByID       map[string]*App       `json:"-"`
	UsageTypeByID map[string]*UsageType `json:"-"`
	PlanByID      map[string]*Plan      `json:"-"`
}

// App is an app or feature that is licensed.
type App struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// AllUsersMustBeLicensed marks apps (Print Agent, Banking) whose user quantity is the
	// number of licensable active users, whatever was assigned (BILLING-RULES 2.1).
	AllUsersMustBeLicensed bool `json:"all_users_must_be_licensed,omitempty"`
}

// UsageType is a metered kind of usage of an app.
type UsageType struct {
	ID   string `json:"id"`
	App  string `json:"app"`
	Name string `json:"name"`
	// NameDE is the name on German invoices (default: Name).
	NameDE string `json:"name_de,omitempty"`
	// UnitCode is the UN/ECE Recommendation 20 code of one usage (default C62, "one").
	UnitCode string `json:"unit_code,omitempty"`
	// PSPWeight, when set, is what one usage initiated via a payment service provider through
	// the app counts (Banking: 0.1, BILLING-RULES 2.4). Unset: such events are not allowed.
	PSPWeight decimal.NullDecimal `json:"psp_weight,omitzero"`
}

// Plan is what a subscription buys: an app, a license method, a term and a price.
type Plan struct {
	ID            string        `json:"id"`
	App           string        `json:"app"`
	Name          string        `json:"name"`
	NameDE        string        `json:"name_de,omitempty"` // the name on German invoices
	LicenseMethod LicenseMethod `json:"license_method"`
	Term          Term          `json:"term"`
	// UnitPrice is the price of one license unit for one full term, up to 4 decimals.
	UnitPrice decimal.Decimal `json:"unit_price"`
	Currency  string          `json:"currency"`
	Usage     []Allowance     `json:"usage,omitempty"`
}

// Allowance is a plan's included usage of one type per billing period and its overage price.
type Allowance struct {
	Type             string          `json:"type"`
	Included         decimal.Decimal `json:"included"`
	OverageUnitPrice decimal.Decimal `json:"overage_unit_price"`
}

// Localized returns name, or nameDE for German ("de") when it is set.
func Localized(name, nameDE, lang string) string {
	if lang == "de" && nameDE != "" {
		return nameDE
	}
	return name
}

// Allowance returns the plan's allowance for a usage type.
func (p *Plan) Allowance(usageType string) (Allowance, bool) {
	for _, a := range p.Usage {
		if a.Type == usageType {
			return a, true
		}
	}
	return Allowance{}, false
}

// PaymentMethod is how a buyer pays (BILLING-RULES 3, UNTDID 4461 in brackets).
type PaymentMethod string

const (
	SEPACreditTransfer PaymentMethod = "sepa_credit_transfer" // 58
	SEPADirectDebit    PaymentMethod = "sepa_direct_debit"    // 59
	Card               PaymentMethod = "card"                 // 54, charged in advance
	ApplePay           PaymentMethod = "apple_pay"            // 54: a card in a wallet
	GooglePay          PaymentMethod = "google_pay"           // 54: a card in a wallet
	PayPal             PaymentMethod = "paypal"               // 68
	Link               PaymentMethod = "link"                 // 68: Stripe's saved card or bank account
	OnlinePayment      PaymentMethod = "online"               // 68 (another wallet)
)

// PaymentMethods are the payment methods a dataset may name, in the order errors list them.
var PaymentMethods = []PaymentMethod{SEPACreditTransfer, SEPADirectDebit, Card, ApplePay, GooglePay, PayPal, Link, OnlinePayment}

// Stored reports whether the method is a payment method the buyer stored with the seller
// or its payment service provider, charged by the seller (the licensing guide: "if a
// stored payment method cannot be charged, the license will be automatically deactivated
// after prior notification and a grace period of 7 days"). A SEPA direct debit is stored
// too, whether it is collected through Stripe or through the seller's bank. A transfer
// and an online payment the buyer makes are not.
func (m PaymentMethod) Stored() bool {
	return m != SEPACreditTransfer && m != OnlinePayment && m != ""
}

// CardLike reports whether the method pays with a card, in a wallet or not (BT-81 54).
func (m PaymentMethod) CardLike() bool { return m == Card || m == ApplePay || m == GooglePay }

// Party is a buyer's identity and payment details, shared by customers and partners.
type Party struct {
	Name string `json:"name"`
	Address
	VATID            string        `json:"vat_id"`
	Email            string        `json:"email"`
	Language         string        `json:"language"` // "de" or "en"; empty: by country
	PaymentMethod    PaymentMethod `json:"payment_method"`
	MandateReference string        `json:"mandate_reference"` // SEPA direct debit
	DebtorIBAN       string        `json:"debtor_iban"`       // SEPA direct debit
	// MandateDate is the day the direct-debit mandate was signed: required in the debit
	// file for the seller's bank, optional otherwise.
	MandateDate calendar.Date `json:"mandate_date,omitzero"`
	// StripeCustomerID and StripePaymentMethodID are the buyer's Stripe customer (cus_…) and
	// stored payment method (pm_…), when the seller charges it through Stripe; a customer
	// only.
	StripeCustomerID      string `json:"stripe_customer_id,omitempty"`
	StripePaymentMethodID string `json:"stripe_payment_method_id,omitempty"`
}

// ChargedByStripe reports whether the party's stored method is charged through Stripe.
func (p Party) ChargedByStripe() bool {
	return p.PaymentMethod.Stored() && p.StripeCustomerID != "" && p.StripePaymentMethodID != ""
}

// Customer is a Business Central tenant (customers.csv).
type Customer struct {
	ID string `json:"id"`
	Party
	// TenantID is the Entra tenant ID, or for on-premises without one a generated GUID;
	// DNSName is then the server's DNS name.
	TenantID   string `json:"tenant_id"`
	TenantName string `json:"tenant_name"`
	DNSName    string `json:"dns_name"`
	Line       int    `json:"line"`
}

// Partner is a Microsoft partner that licenses on its customers' behalf and is invoiced
// for them (partners.csv).
type Partner struct {
	ID string `json:"id"`
	Party
	MicrosoftPartnerID string `json:"microsoft_partner_id"`
	Line               int    `json:"line"`
}

// Channel is the licensing channel of an activation (BILLING-RULES 1).
type Channel string

const (
	EndCustomer Channel = "end_customer"
	ViaPartner  Channel = "partner"
	Marketplace Channel = "marketplace"
)

// Subscription is one activation of a plan for a customer (subscriptions.csv).
type Subscription struct {
	ID         string  `json:"id"`
	CustomerID string  `json:"customer_id"`
	PlanID     string  `json:"plan_id"`
	Channel    Channel `json:"channel"`
	PartnerID  string  `json:"partner_id"`
	// TrialStart is the first day of the trial (zero: no trial). TrialExtensions is 0 or 1.
	TrialStart      calendar.Date `json:"trial_start"`
	TrialExtensions int           `json:"trial_extensions"`
	// ActivatedOn is the day the paid license was activated (zero: not activated).
	ActivatedOn calendar.Date `json:"activated_on"`
	// CancelledOn is the day the cancellation was declared; it takes effect at the end of the
	// billing period containing it (BILLING-RULES 4).
	CancelledOn calendar.Date `json:"cancelled_on"`
	// BilledAsOf overrides Manifest.BilledAsOf for this subscription.
	BilledAsOf calendar.Date `json:"billed_as_of"`
	// SpendingLimits maps usage type → limit per billing period, in weighted units
	// (spending_limits.csv). Absent or zero: no limit.
	SpendingLimits map[string]decimal.Decimal `json:"spending_limits"`
	Line           int                        `json:"line"`
}

// LicenseReport is a dated count reported by the customer's environment
// (license_reports.csv). A count that was not reported is -1.
type LicenseReport struct {
	SubscriptionID      string        `json:"subscription_id"`
	ReportedOn          calendar.Date `json:"reported_on"`
	LicensedUsers       int           `json:"licensed_users"`
	LicensableUsers     int           `json:"licensable_users"`
	Companies           int           `json:"companies"`
	EvaluationCompanies int           `json:"evaluation_companies"`
	Line                int           `json:"line"`
}

// UsageEvent is one metered usage (usage*.csv).
type UsageEvent struct {
	// ID is the vendor's event ID. Events a run reads back from the store leave it empty:
	// they are known by Seq there.
	ID string
	// Seq is the event's number in the store (import order); 0 for events read from files.
	Seq            int64
	SubscriptionID string
	UsageType      string
	// Quantity is a positive whole number of usages.
	Quantity   int64
	OccurredAt Instant
	// ReceivedAt is when the vendor received the event (defaults to OccurredAt); an event
	// received after its period was billed is late (BILLING-RULES 2.4).
	ReceivedAt Instant
	// ViaPSP marks payment collection orders initiated via a payment service provider
	// through the app; they count with the usage type's PSPWeight.
	ViaPSP bool
}

// Instant is a point in time as nanoseconds since 1970-01-01 UTC (Unix time), from the
// year 1678 to 2262. Usage events hold two: as integers they take 16 bytes instead of
// 48 and hold no pointer, which matters for the garbage collector at 10 million events.
type Instant int64

// Instants outside this range are not representable (time.Time.UnixNano).
var (
	MinInstant = time.Unix(0, math.MinInt64).UTC()
	MaxInstant = time.Unix(0, math.MaxInt64).UTC()
)

// InstantOf returns t as an Instant; t must be within MinInstant and MaxInstant.
func InstantOf(t time.Time) Instant { return Instant(t.UnixNano()) }

// Time returns the instant as a time in UTC.
func (i Instant) Time() time.Time { return time.Unix(0, int64(i)).UTC() }

// Unix returns the instant in whole seconds since 1970-01-01 UTC, rounded down.
func (i Instant) Unix() int64 {
	s := int64(i) / 1e9
	if int64(i)%1e9 < 0 {
		s--
	}
	return s
}

// YearPlaceholder in a number series stands for the issue date's year.
const YearPlaceholder = "{YYYY}"

// SeriesOf returns the series of a document issued on issue: template with
// YearPlaceholder replaced by the year of the issue date (a date in the billing time
// zone). Each expanded series is numbered from 1, gapless.
func SeriesOf(template string, issue calendar.Date) string {
	if !strings.Contains(template, YearPlaceholder) {
		return template
	}
	y, _, _ := issue.Date()
	return strings.ReplaceAll(template, YearPlaceholder, fmt.Sprintf("%04d", y))
}

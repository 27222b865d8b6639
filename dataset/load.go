package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// File names of a dataset directory.
const (
	ManifestFile       = "dataset.json"
	SellerFile         = "seller.json"
	CatalogFile        = "catalog.json"
	CustomersFile      = "customers.csv"
	PartnersFile       = "partners.csv"
	SubscriptionsFile  = "subscriptions.csv"
	SpendingLimitsFile = "spending_limits.csv"
	LicenseReportsFile = "license_reports.csv"
	// UsagePattern matches the usage files: usage.csv, usage-2026-10.csv, …
	UsagePattern = "usage*.csv"
)

// maxErrors bounds the report for a hopeless file; the count says that more were cut.
const maxErrors = 1000

// LoadDir loads and validates the dataset in directory dir.
func LoadDir(dir string) (*Dataset, error) {
	if err := isDir(dir); err != nil {
		return nil, err
	}
	return Load(os.DirFS(dir))
}

func isDir(dir string) error {
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("dataset %s: %w", dir, err)
	} else if !st.IsDir() {
		return fmt.Errorf("dataset %s: not a directory", dir)
	}
	return nil
}

// Load reads and validates a dataset, its usage events included (grouped by
// subscription, as GroupBySubscription leaves them). On any problem it
// returns nil and an Errors listing every problem found; nothing is computed from an
// invalid dataset. Open reads the same dataset with its usage events as a stream.
func Load(fsys fs.FS) (*Dataset, error) {
	l := newLoader(fsys)
	l.records()
	_ = l.usage(func(ev *UsageEvent) error { // errors are the loader's list; this emit returns none
		l.ds.Usage = append(l.ds.Usage, *ev)
		return nil
	})
	l.identities()
	if err := l.result(); err != nil {
		return nil, err
	}
	group(l.ds.Usage)
	return l.ds, nil
}

// Open reads and validates a dataset's records, everything but its usage events, which
// the returned Usage reads as a stream: a large dataset's events need not fit in memory.
// On a problem in the records it returns Errors as Load does; ds.Usage stays empty.
func Open(fsys fs.FS) (*Dataset, *Usage, error) {
	l := newLoader(fsys)
	l.records()
	l.identities()
	if err := l.result(); err != nil {
		return nil, nil, err
	}
	return l.ds, &Usage{l: l}, nil
}

// OpenDir is Open for the dataset in directory dir.
func OpenDir(dir string) (*Dataset, *Usage, error) {
	if err := isDir(dir); err != nil {
		return nil, nil, err
	}
	return Open(os.DirFS(dir))
}

// Usage reads the usage events of a dataset opened with Open.
type Usage struct {
	l *loader
	// Progress, when set, is told how many bytes of the usage files have been read, of
	// how many, as reading goes on.
	Progress func(read, total int64)
}

// Each validates the usage files' rows against the dataset's records and calls emit for
// every distinct event, each event ID once (as Load's Dataset.Usage holds them): rows
// repeating an event are counted in the Dataset's Duplicates, and an event sent more
// than once is emitted after the others, received when its first copy was. Once a row
// is found invalid emit is not called again; reading goes on, and Each returns Errors
// listing every problem: the events emitted before must then be discarded. An error
// from emit stops reading and is returned. Each reads the files once more when called
// again.
func (u *Usage) Each(emit func(*UsageEvent) error) error {
	l := u.l
	l.progress = u.Progress
	l.ds.Duplicates, l.errs, l.halt = 0, nil, nil // Open found no errors in the records
	if err := l.usage(emit); err != nil {
		return err
	}
	return l.result()
}

func newLoader(fsys fs.FS) *loader {
	return &loader{fsys: fsys, broken: map[string]bool{}, ds: &Dataset{
		CustomerByID:     map[string]*Customer{},
		PartnerByID:      map[string]*Partner{},
		SubscriptionByID: map[string]*Subscription{},
		LicenseReports:   map[string][]LicenseReport{},
	}}
}

// records reads everything but the usage events.
func (l *loader) records() {
	l.manifest()
	l.seller()
	l.catalog()
	l.customers()
	l.partners()
	l.subscriptions()
	l.spendingLimits()
	l.licenseReports()
}

// result is the problems found, at most maxErrors of them, or nil.
func (l *loader) result() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := l.errs
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors:maxErrors], &Error{File: "(dataset)", Reason: fmt.Sprintf("%d more errors not shown", len(l.errs)-maxErrors)})
	}
	return errs
}

type loader struct {
	fsys fs.FS
	ds   *Dataset
	errs Errors
	// halt, once set, stops reading: the consumer of the usage events failed.
	halt error
	// progress, when set, is told the bytes of usage files read (see Usage.Progress);
	// onRead, set meanwhile, is told every read.
	progress func(read, total int64)
	onRead   func(n int)
	// broken are the files that could not be read as a whole (their header is unusable, or
	// they are not UTF-8): each has its one error, and references to their records are not
	// reported again.
	broken map[string]bool
}

func (l *loader) add(e *Error) { l.errs = append(l.errs, e) }

func (l *loader) tooMany() bool { return len(l.errs) > maxErrors }

// readJSON decodes a required JSON file strictly (unknown fields are errors).
func (l *loader) readJSON(file string, v any) bool {
	b, err := fs.ReadFile(l.fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		l.add(&Error{File: file, Reason: "required file is missing"})
		return false
	}
	if err != nil {
		l.add(&Error{File: file, Reason: "cannot read: " + err.Error()})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err != nil {
		e := &Error{File: file, Reason: err.Error()}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			e.Line = lineAt(b, se.Offset)
			e.Reason = "malformed JSON: " + se.Error()
		case errors.As(err, &te):
			e.Line = lineAt(b, te.Offset)
			e.Field = te.Field
			e.Reason = fmt.Sprintf("want a %s, got a JSON %s", te.Type, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			e.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			e.Reason = "unknown field"
		}
		l.add(e)
		return false
	}
	return true
}

func lineAt(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte("\n")) + 1
}

// jsonCheck records a problem in a JSON record.
func (l *loader) jsonCheck(ok bool, file, record, field, format string, args ...any) bool {
	if !ok {
		l.add(&Error{File: file, Record: record, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	return ok
}

func (l *loader) manifest() {
	m := &l.ds.Manifest
	if !l.readJSON(ManifestFile, m) {
		return
	}
	l.jsonCheck(m.Format == FormatName, ManifestFile, "", "format", "must be %q, got %q", FormatName, m.Format)
	l.jsonCheck(m.Version == FormatVersion, ManifestFile, "", "version", "this kontor reads version %d, got %d", FormatVersion, m.Version)
}

func (l *loader) seller() {
	s := &l.ds.Seller
	if !l.readJSON(SellerFile, s) {
		return
	}
	c := func(ok bool, field, format string, args ...any) bool {
		return l.jsonCheck(ok, SellerFile, "", field, format, args...)
	}
	c(strings.TrimSpace(s.Name) != "", "name", "is required")
	l.address(SellerFile, "", "address.", s.Address)
	c(s.Country == "DE", "address.country", "the VAT rule table is that of a seller in Germany (BILLING-RULES 3); got %q", s.Country)
	if c(s.VATID != "", "vat_id", "is required") {
		if why := checkVATID(s.VATID, s.Country); why != "" {
			c(false, "vat_id", "%q %s", s.VATID, why)
		}
	}
	c(s.TaxNumber != "", "tax_number", "is required (BT-32 identifies the seller on invoices without VAT, BR-O-02)")
	c(emailFormat.MatchString(s.Email), "email", "%q is not an email address", s.Email)
	c(strings.TrimSpace(s.Contact) != "", "contact", "is required")
	if why := checkIBAN(s.IBAN); why != "" {
		c(false, "iban", "%q %s", s.IBAN, why)
	}
	c(bicPattern.MatchString(s.BIC), "bic", "%q is not a BIC (8 or 11 characters)", s.BIC)
	if why := checkCreditorID(s.CreditorID); why != "" {
		c(false, "sepa_creditor_id", "%q %s", s.CreditorID, why)
	}
	// A series is checked as it is in any year: {YYYY} is four digits.
	year := calendar.New(2026, 1, 1)
	c(seriesChars.MatchString(SeriesOf(s.InvoiceSeries, year)), "invoice_series", "%q must be 1-20 capital letters, digits and -, and may hold {YYYY}", s.InvoiceSeries)
	c(seriesChars.MatchString(SeriesOf(s.CreditNoteSeries, year)), "credit_note_series", "%q must be 1-20 capital letters, digits and -, and may hold {YYYY}", s.CreditNoteSeries)
	c(s.InvoiceSeries != s.CreditNoteSeries || s.InvoiceSeries == "", "credit_note_series", "must differ from invoice_series")
	c(s.PaymentTermsDays >= 0 && s.PaymentTermsDays <= 365, "payment_terms_days", "must be 0 to 365, got %d", s.PaymentTermsDays)
	l.letterhead(s)
	if s.TimeZone == "" {
		s.TimeZone = "Europe/Berlin"
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if c(err == nil, "time_zone", "%q is not a known IANA time zone", s.TimeZone) {
		s.Location = loc
	}
}

func (l *loader) address(file, record, prefix string, a Address) {
	l.jsonCheck(a.Street != "", file, record, prefix+"street", "is required")
	l.jsonCheck(a.Postcode != "", file, record, prefix+"postcode", "is required")
	l.jsonCheck(a.City != "", file, record, prefix+"city", "is required")
	l.jsonCheck(countryCodes[a.Country], file, record, prefix+"country", "%q is not an ISO 3166-1 alpha-2 country code", a.Country)
}

// upTo4Decimals reports whether d is >= 0 with at most 4 decimals, as prices, included
// units and limits must be (BILLING-RULES 3: unit prices may carry up to 4 decimals).
func upTo4Decimals(d decimal.Decimal) bool { return !d.IsNegative() && d.Equal(d.Round(4)) }

func (l *loader) catalog() {
	c := &l.ds.Catalog
	c.AppByID, c.UsageTypeByID, c.PlanByID = map[string]*App{}, map[string]*UsageType{}, map[string]*Plan{}
	if !l.readJSON(CatalogFile, c) {
		return
	}
	const f = CatalogFile
	for i, a := range c.Apps {
		rec := fmt.Sprintf("apps[%d]", i)
		if l.jsonCheck(a != nil && isID(a.ID), f, rec, "id", "is not an ID") {
			l.jsonCheck(c.AppByID[a.ID] == nil, f, rec, "id", "%q appears twice", a.ID)
			c.AppByID[a.ID] = a
			l.jsonCheck(strings.TrimSpace(a.Name) != "", f, rec, "name", "is required")
		}
	}
	for i, u := range c.UsageTypes {
		rec := fmt.Sprintf("usage_types[%d]", i)
		if !l.jsonCheck(u != nil && isID(u.ID), f, rec, "id", "is not an ID") {
			continue
		}
		rec += " " + u.ID
		l.jsonCheck(c.UsageTypeByID[u.ID] == nil, f, rec, "id", "%q appears twice", u.ID)
		c.UsageTypeByID[u.ID] = u
		l.jsonCheck(c.AppByID[u.App] != nil, f, rec, "app", "%q is not an app of the catalog", u.App)
		l.jsonCheck(strings.TrimSpace(u.Name) != "", f, rec, "name", "is required")
		if u.UnitCode == "" {
			u.UnitCode = "C62"
		}
		l.jsonCheck(unitCode.MatchString(u.UnitCode), f, rec, "unit_code", "%q is not a UN/ECE Rec 20 unit code", u.UnitCode)
		if u.PSPWeight.Valid {
			w := u.PSPWeight.Decimal
			l.jsonCheck(w.IsPositive() && w.LessThanOrEqual(decimal.NewFromInt(1)) && upTo4Decimals(w), f, rec, "psp_weight", "must be > 0 and <= 1 with at most 4 decimals, got %s", w)
		}
	}
	for i, p := range c.Plans {
		rec := fmt.Sprintf("plans[%d]", i)
		if !l.jsonCheck(p != nil && isID(p.ID), f, rec, "id", "is not an ID") {
			continue
		}
		rec += " " + p.ID
		l.jsonCheck(c.PlanByID[p.ID] == nil, f, rec, "id", "%q appears twice", p.ID)
		c.PlanByID[p.ID] = p
		l.jsonCheck(c.AppByID[p.App] != nil, f, rec, "app", "%q is not an app of the catalog", p.App)
		l.jsonCheck(strings.TrimSpace(p.Name) != "", f, rec, "name", "is required")
		l.jsonCheck(p.LicenseMethod == PerUser || p.LicenseMethod == PerCompany || p.LicenseMethod == PerTenant, f, rec, "license_method", "must be user, company or tenant, got %q", p.LicenseMethod)
		l.jsonCheck(p.Term == Monthly || p.Term == Annual, f, rec, "term", "must be monthly or annual, got %q", p.Term)
		l.jsonCheck(upTo4Decimals(p.UnitPrice), f, rec, "unit_price", "must be >= 0 with at most 4 decimals, got %s", p.UnitPrice)
		l.jsonCheck(currencyCodes[p.Currency], f, rec, "currency", "%q is not an ISO 4217 currency code", p.Currency)
		seen := map[string]bool{}
		for j, a := range p.Usage {
			arec := fmt.Sprintf("%s usage[%d]", rec, j)
			u := c.UsageTypeByID[a.Type]
			if !l.jsonCheck(u != nil, f, arec, "type", "%q is not a usage type of the catalog", a.Type) {
				continue
			}
			l.jsonCheck(u.App == p.App, f, arec, "type", "usage type %q belongs to app %q, the plan to %q", a.Type, u.App, p.App)
			l.jsonCheck(!seen[a.Type], f, arec, "type", "%q appears twice in this plan", a.Type)
			seen[a.Type] = true
			l.jsonCheck(upTo4Decimals(a.Included), f, arec, "included", "must be >= 0 with at most 4 decimals, got %s", a.Included)
			l.jsonCheck(upTo4Decimals(a.OverageUnitPrice), f, arec, "overage_unit_price", "must be >= 0 with at most 4 decimals, got %s", a.OverageUnitPrice)
		}
	}
}

var partyColumns = []string{"name", "street", "street2", "postcode", "city", "country", "vat_id", "email", "language", "payment_method", "mandate_reference", "debtor_iban", "mandate_date"}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// party reads the identity columns shared by customers.csv and partners.csv. Whether they
// are required depends on the channel and is checked in identities, once all is read.
func (l *loader) party(r *row) Party {
	p := Party{
		Name: r.str("name"),
		Address: Address{
			Street: r.str("street"), Street2: r.str("street2"),
			Postcode: r.str("postcode"), City: r.str("city"),
			Country: strings.ToUpper(r.str("country")),
		},
		VATID:            strings.ToUpper(strings.ReplaceAll(r.str("vat_id"), " ", "")),
		Email:            r.str("email"),
		Language:         strings.ToLower(r.str("language")),
		PaymentMethod:    PaymentMethod(r.str("payment_method")),
		MandateReference: r.str("mandate_reference"),
		DebtorIBAN:       strings.ToUpper(strings.ReplaceAll(r.str("debtor_iban"), " ", "")),
	}
	if d := r.str("mandate_date"); d != "" {
		var err error
		if p.MandateDate, err = calendar.Parse(d); err != nil {
			r.fail("mandate_date", "%q is not a date (YYYY-MM-DD)", d)
		}
	}
	if p.Country != "" && !countryCodes[p.Country] {
		r.fail("country", "%q is not an ISO 3166-1 alpha-2 country code", p.Country)
	}
	if p.VATID != "" && countryCodes[p.Country] {
		if why := checkVATID(p.VATID, p.Country); why != "" {
			r.fail("vat_id", "%q %s", p.VATID, why)
		}
	}
	if p.Email != "" && !emailFormat.MatchString(p.Email) {
		r.fail("email", "%q is not an email address", p.Email)
	}
	if p.Language != "" && p.Language != "de" && p.Language != "en" {
		r.fail("language", "must be de or en, got %q", p.Language)
	}
	if p.PaymentMethod == "" {
		p.PaymentMethod = SEPACreditTransfer
		if p.Country != "" && !IsEU(p.Country) {
			p.PaymentMethod = Card // BILLING-RULES 3: non-EU end customers pay by card in advance
		}
	}
	switch p.PaymentMethod {
	case SEPACreditTransfer, Card, ApplePay, GooglePay, PayPal, Link, OnlinePayment:
	case SEPADirectDebit:
		if p.MandateReference == "" {
			r.fail("mandate_reference", "is required for payment by SEPA direct debit")
		}
		if why := checkIBAN(p.DebtorIBAN); why != "" {
			r.fail("debtor_iban", "%q %s (required for payment by SEPA direct debit)", p.DebtorIBAN, why)
		}
	default:
		r.fail("payment_method", "must be one of %s, got %q", methodList(), p.PaymentMethod)
	}
	return p
}

// methodList is the payment methods for an error message.
func methodList() string {
	names := make([]string, len(PaymentMethods))
	for i, m := range PaymentMethods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

var (
	stripeCustomerID = regexp.MustCompile(`^cus_[A-Za-z0-9]{1,250}$`)
	stripeMethodID   = regexp.MustCompile(`^(pm|card|src|ba)_[A-Za-z0-9]{1,250}$`)
)

// stripeIDs reads a customer's optional Stripe customer and payment method IDs: both or
// neither, and only for a stored payment method.
func stripeIDs(r *row, m PaymentMethod) (cus, pm string) {
	cus, pm = r.str("stripe_customer_id"), r.str("stripe_payment_method_id")
	if cus == "" && pm == "" {
		return "", ""
	}
	if cus != "" && !stripeCustomerID.MatchString(cus) {
		r.fail("stripe_customer_id", "%q is not a Stripe customer ID (cus_…)", cus)
	}
	if pm != "" && !stripeMethodID.MatchString(pm) {
		r.fail("stripe_payment_method_id", "%q is not a Stripe payment method ID (pm_…)", pm)
	}
	switch {
	case cus == "":
		r.fail("stripe_customer_id", "is required with stripe_payment_method_id")
	case pm == "":
		r.fail("stripe_payment_method_id", "is required with stripe_customer_id")
	case !m.Stored():
		r.fail("payment_method", "%s is paid by the buyer, not charged: the Stripe IDs need a stored payment method", m)
	}
	return cus, pm
}

func (l *loader) customers() {
	optional := append([]string{"tenant_name", "dns_name", "stripe_customer_id", "stripe_payment_method_id"}, partyColumns...)
	found := l.readCSV(CustomersFile, []string{"id", "tenant_id"}, optional, func(r *row) {
		c := &Customer{ID: r.id("id"), Line: r.line}
		r.record = c.ID
		c.Party = l.party(r)
		c.StripeCustomerID, c.StripePaymentMethodID = stripeIDs(r, c.PaymentMethod)
		c.TenantID = r.required("tenant_id")
		if c.TenantID != "" && !guidPattern.MatchString(c.TenantID) {
			r.fail("tenant_id", "%q is not a GUID (the Entra tenant ID, or a generated GUID on-premises)", c.TenantID)
		}
		c.TenantName, c.DNSName = r.str("tenant_name"), r.str("dns_name")
		if c.ID == "" {
			return
		}
		if l.ds.CustomerByID[c.ID] != nil {
			r.fail("id", "customer %q appears twice (first on line %d)", c.ID, l.ds.CustomerByID[c.ID].Line)
			return
		}
		l.ds.CustomerByID[c.ID] = c
		l.ds.Customers = append(l.ds.Customers, c)
	})
	if !found {
		l.add(&Error{File: CustomersFile, Reason: "required file is missing"})
	}
}

func (l *loader) partners() {
	l.readCSV(PartnersFile, []string{"id", "microsoft_partner_id"}, partyColumns, func(r *row) {
		p := &Partner{ID: r.id("id"), Line: r.line}
		r.record = p.ID
		p.Party = l.party(r)
		p.MicrosoftPartnerID = r.required("microsoft_partner_id")
		if p.PaymentMethod != SEPACreditTransfer && p.PaymentMethod != SEPADirectDebit {
			r.fail("payment_method", "partners pay by invoice: sepa_credit_transfer or sepa_direct_debit, got %q", p.PaymentMethod)
		}
		if p.ID == "" {
			return
		}
		if l.ds.PartnerByID[p.ID] != nil {
			r.fail("id", "partner %q appears twice (first on line %d)", p.ID, l.ds.PartnerByID[p.ID].Line)
			return
		}
		l.ds.PartnerByID[p.ID] = p
		l.ds.Partners = append(l.ds.Partners, p)
	})
}

func (l *loader) subscriptions() {
	cat := &l.ds.Catalog
	found := l.readCSV(SubscriptionsFile,
		[]string{"id", "customer_id", "plan_id", "channel"},
		[]string{"partner_id", "trial_start", "trial_extensions", "activated_on", "cancelled_on", "billed_as_of"},
		func(r *row) {
			s := &Subscription{ID: r.id("id"), Line: r.line, SpendingLimits: map[string]decimal.Decimal{}}
			r.record = s.ID
			s.CustomerID = r.id("customer_id")
			if s.CustomerID != "" && l.ds.CustomerByID[s.CustomerID] == nil && !l.broken[CustomersFile] {
				r.fail("customer_id", "%q is not a customer in %s", s.CustomerID, CustomersFile)
			}
			s.PlanID = r.id("plan_id")
			if s.PlanID != "" && cat.PlanByID[s.PlanID] == nil {
				r.fail("plan_id", "%q is not a plan in %s", s.PlanID, CatalogFile)
			}
			s.Channel = Channel(r.required("channel"))
			s.PartnerID = r.str("partner_id")
			switch s.Channel {
			case EndCustomer, Marketplace:
				if s.PartnerID != "" {
					r.fail("partner_id", "must be empty for channel %s", s.Channel)
				}
			case ViaPartner:
				if s.PartnerID == "" {
					r.fail("partner_id", "is required for channel partner")
				} else if l.ds.PartnerByID[s.PartnerID] == nil && !l.broken[PartnersFile] {
					r.fail("partner_id", "%q is not a partner in %s", s.PartnerID, PartnersFile)
				}
			case "":
			default:
				r.fail("channel", "must be end_customer, partner or marketplace, got %q", s.Channel)
			}
			s.TrialStart = r.date("trial_start")
			if n := r.count("trial_extensions"); n > 1 {
				r.fail("trial_extensions", "%d: a trial can be extended once, by 10 days (BILLING-RULES 2.3)", n)
			} else if n == 1 {
				if s.TrialStart.IsZero() {
					r.fail("trial_extensions", "a trial extension needs a trial_start")
				}
				s.TrialExtensions = 1
			}
			s.ActivatedOn = r.date("activated_on")
			s.CancelledOn = r.date("cancelled_on")
			s.BilledAsOf = r.date("billed_as_of")
			if s.TrialStart.IsZero() && s.ActivatedOn.IsZero() && !r.failedOn("activated_on") && !r.failedOn("trial_start") {
				r.fail("activated_on", "a subscription needs an activated_on date or a trial_start")
			}
			if !s.TrialStart.IsZero() && !s.ActivatedOn.IsZero() && s.ActivatedOn.Before(s.TrialStart) {
				r.fail("activated_on", "%s is before trial_start %s", s.ActivatedOn, s.TrialStart)
			}
			first := s.TrialStart
			if first.IsZero() {
				first = s.ActivatedOn
			}
			if !s.CancelledOn.IsZero() && !first.IsZero() && s.CancelledOn.Before(first) {
				r.fail("cancelled_on", "%s is before the subscription started (%s)", s.CancelledOn, first)
			}
			if s.ID == "" {
				return
			}
			if l.ds.SubscriptionByID[s.ID] != nil {
				r.fail("id", "subscription %q appears twice (first on line %d)", s.ID, l.ds.SubscriptionByID[s.ID].Line)
				return
			}
			l.ds.SubscriptionByID[s.ID] = s
			l.ds.Subscriptions = append(l.ds.Subscriptions, s)
		})
	if !found {
		l.add(&Error{File: SubscriptionsFile, Reason: "required file is missing"})
	}
}

// planOf returns the plan of a subscription that was read without error, or nil.
func (l *loader) planOf(r *row, col, subID string) (*Subscription, *Plan) {
	s := l.ds.SubscriptionByID[subID]
	if s == nil {
		if subID != "" && !l.broken[SubscriptionsFile] {
			r.fail(col, "%q is not a subscription in %s", subID, SubscriptionsFile)
		}
		return nil, nil
	}
	return s, l.ds.Catalog.PlanByID[s.PlanID]
}

func (l *loader) spendingLimits() {
	l.readCSV(SpendingLimitsFile, []string{"subscription_id", "usage_type", "limit"}, nil, func(r *row) {
		subID := r.id("subscription_id")
		r.record = subID
		s, p := l.planOf(r, "subscription_id", subID)
		typ := r.required("usage_type")
		limit, ok := r.decimal("limit")
		if !ok && !r.bad {
			r.fail("limit", "is required (0 means no limit)")
		}
		if ok && !upTo4Decimals(limit) {
			r.fail("limit", "must be >= 0 with at most 4 decimals, got %s", limit)
		}
		if p == nil || typ == "" || r.bad {
			return
		}
		if _, ok := p.Allowance(typ); !ok {
			r.fail("usage_type", "%q is not a usage type of plan %s", typ, p.ID)
			return
		}
		if _, dup := s.SpendingLimits[typ]; dup {
			r.fail("usage_type", "a limit for %q is already set for this subscription", typ)
			return
		}
		s.SpendingLimits[typ] = limit
	})
}

func (l *loader) licenseReports() {
	l.readCSV(LicenseReportsFile, []string{"subscription_id", "reported_on"},
		[]string{"licensed_users", "licensable_users", "companies", "evaluation_companies"},
		func(r *row) {
			subID := r.id("subscription_id")
			r.record = subID
			s, p := l.planOf(r, "subscription_id", subID)
			rep := LicenseReport{
				SubscriptionID: subID, ReportedOn: r.date("reported_on"), Line: r.line,
				LicensedUsers: r.count("licensed_users"), LicensableUsers: r.count("licensable_users"),
				Companies: r.count("companies"), EvaluationCompanies: r.count("evaluation_companies"),
			}
			if rep.ReportedOn.IsZero() && !r.bad {
				r.fail("reported_on", "is required")
			}
			if p != nil {
				switch p.LicenseMethod {
				case PerUser:
					if l.ds.Catalog.AppByID[p.App].AllUsersMustBeLicensed {
						if rep.LicensableUsers < 0 && !r.bad {
							r.fail("licensable_users", "is required: app %s must be licensed for all licensable users (BILLING-RULES 2.1)", p.App)
						}
					} else if rep.LicensedUsers < 0 && !r.bad {
						r.fail("licensed_users", "is required for user-licensed plan %s", p.ID)
					}
				case PerCompany:
					if rep.Companies < 0 && !r.bad {
						r.fail("companies", "is required for company-licensed plan %s", p.ID)
					}
					if rep.EvaluationCompanies > rep.Companies && rep.Companies >= 0 {
						r.fail("evaluation_companies", "%d is more than companies (%d)", rep.EvaluationCompanies, rep.Companies)
					}
				case PerTenant: // one tenant: nothing to report
				}
			}
			if s == nil || r.bad {
				return
			}
			for _, prev := range l.ds.LicenseReports[subID] {
				if prev.ReportedOn == rep.ReportedOn {
					r.fail("reported_on", "subscription %s already has a report dated %s (line %d)", subID, rep.ReportedOn, prev.Line)
					return
				}
			}
			l.ds.LicenseReports[subID] = append(l.ds.LicenseReports[subID], rep)
		})
	for _, reps := range l.ds.LicenseReports {
		sort.Slice(reps, func(i, j int) bool { return reps[i].ReportedOn.Before(reps[j].ReportedOn) })
	}
}

// identities checks that every buyer has what an invoice needs: for end-customer licensing
// the customer, for partner licensing the partner (BILLING-RULES 1).
func (l *loader) identities() {
	checked := map[string]bool{}
	for _, s := range l.ds.Subscriptions {
		var file, rec string
		var p *Party
		var line int
		switch s.Channel {
		case EndCustomer:
			c := l.ds.CustomerByID[s.CustomerID]
			if c == nil {
				continue
			}
			file, rec, p, line = CustomersFile, c.ID, &c.Party, c.Line
		case ViaPartner:
			pt := l.ds.PartnerByID[s.PartnerID]
			if pt == nil {
				continue
			}
			file, rec, p, line = PartnersFile, pt.ID, &pt.Party, pt.Line
		default:
			continue
		}
		if l.broken[file] {
			continue // the file has its one error; its fields are not reported one by one
		}
		if checked[file+rec] {
			continue
		}
		checked[file+rec] = true
		need := func(v, field string) {
			if v == "" {
				l.add(&Error{File: file, Line: line, Record: rec, Field: field,
					Reason: fmt.Sprintf("is required: %s is invoiced for subscription %s (%s licensing)", rec, s.ID, s.Channel)})
			}
		}
		need(p.Name, "name")
		need(p.Street, "street")
		need(p.Postcode, "postcode")
		need(p.City, "city")
		need(p.Country, "country")
		need(p.Email, "email")
	}
}

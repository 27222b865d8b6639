// Package bookkeeping turns issued invoices and credit notes into what bookkeeping imports:
// a DATEV Buchungsstapel (EXTF format 700, category 21) and a plain CSV. It is pure: the
// documents, the configuration and the creation time come in, bytes go out.
package bookkeeping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

// DATEVConfig is the account mapping of a DATEV export: the client's numbers at the tax
// advisor, the chart of accounts, the receivable (debtor) accounts and the revenue account
// of each VAT category and rate.
type DATEVConfig struct {
	// ConsultantNumber (Beraternummer, 1001–9999999) and ClientNumber (Mandantennummer,
	// 1–99999) identify the books at the tax advisor.
	ConsultantNumber int `json:"consultant_number"`
	ClientNumber     int `json:"client_number"`
	// FiscalYearStart is the first day of the fiscal year as MM-DD (default 01-01).
	FiscalYearStart string `json:"fiscal_year_start"`
	// AccountLength is the length of general ledger accounts (Sachkontenlänge, 4–8;
	// default 4). Debtor accounts have one digit more.
	AccountLength int `json:"account_length"`
	// Chart is the standard chart of accounts, "03" (SKR03) or "04" (SKR04).
	Chart string `json:"chart"`
	// ReceivablesAccount is the debtor account of buyers without their own (a collective
	// debtor); Debtors maps "customer C-001" or "partner P-01" to a debtor account.
	ReceivablesAccount int            `json:"receivables_account"`
	Debtors            map[string]int `json:"debtors"`
	// Revenue maps each VAT category and rate to a revenue account and, where the account
	// is not an automatic VAT account, a BU key (Buchungsschlüssel).
	Revenue []RevenueAccount `json:"revenue"`
	// Rates are exchange rates for documents not in EUR: units of the currency per 1 EUR
	// (DATEV "Kurs"); the base amount in EUR is the amount divided by the rate.
	Rates map[string]decimal.Decimal `json:"rates"`
	// Dictation is the Diktatkürzel (two letters, optional); Name the batch's name.
	Dictation string `json:"dictation"`
	Name      string `json:"name"`
	// Locked asks DATEV to lock (festschreiben) the imported bookings.
	Locked bool `json:"locked"`
}

// RevenueAccount is the revenue account of one VAT category and rate.
type RevenueAccount struct {
	Category invoice.VATCategory `json:"category"`
	Rate     decimal.Decimal     `json:"rate"`
	Account  int                 `json:"account"`
	BUKey    string              `json:"bu_key,omitempty"`
}

// DefaultDATEVConfig is the mapping for SKR03 of kontor's VAT rules (BILLING-RULES 3):
// 8400 revenue 19 % VAT (automatic account), 8336 services taxable in another EU country
// with reverse charge (§ 13b UStG), 8338 services taxable outside the EU (not taxable in
// Germany), all booked against the collective debtor 10000. The consultant and client
// numbers must be set; have the tax advisor confirm the accounts.
func DefaultDATEVConfig() DATEVConfig {
	return DATEVConfig{
		FiscalYearStart: "01-01", AccountLength: 4, Chart: "03", ReceivablesAccount: 10000,
		Revenue: []RevenueAccount{
			{Category: invoice.StandardRate, Rate: decimal.NewFromInt(19), Account: 8400},
			{Category: invoice.ReverseCharge, Rate: decimal.Zero, Account: 8336},
			{Category: invoice.NotSubjectToVAT, Rate: decimal.Zero, Account: 8338},
		},
		Name: "kontor",
	}
}

// ReadDATEVConfig reads a JSON configuration over the defaults; unknown fields are errors.
func ReadDATEVConfig(r io.Reader) (DATEVConfig, error) {
	cfg := DefaultDATEVConfig()
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("datev config: %w", err)
	}
	return cfg, cfg.Check()
}

// Check reports every field of the configuration that DATEV would refuse.
func (c DATEVConfig) Check() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("datev config: field %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.ConsultantNumber < 1001 || c.ConsultantNumber > 9999999 {
		bad("consultant_number", "%d is not a DATEV consultant number (1001–9999999)", c.ConsultantNumber)
	}
	if c.ClientNumber < 1 || c.ClientNumber > 99999 {
		bad("client_number", "%d is not a DATEV client number (1–99999)", c.ClientNumber)
	}
	if _, err := c.fiscalYearStart(2000); err != nil {
		bad("fiscal_year_start", "%q is not MM-DD", c.FiscalYearStart)
	}
	if c.AccountLength < 4 || c.AccountLength > 8 {
		bad("account_length", "%d is not 4 to 8", c.AccountLength)
	}
	if c.Chart != "03" && c.Chart != "04" {
		bad("chart", "%q is not 03 (SKR03) or 04 (SKR04)", c.Chart)
	}
	debtor := func(field string, n int) {
		lo, hi := pow10(c.AccountLength), pow10(c.AccountLength+1)-1
		if n < lo || n > hi {
			bad(field, "%d is not a debtor account (%d digits: %d–%d)", n, c.AccountLength+1, lo, hi)
		}
	}
	debtor("receivables_account", c.ReceivablesAccount)
	for _, k := range sortedKeys(c.Debtors) {
		debtor("debtors."+k, c.Debtors[k])
	}
	for i, r := range c.Revenue {
		if !invoice.VATCategories.Valid(r.Category) {
			bad(fmt.Sprintf("revenue[%d].category", i), "%q is not a VAT category kontor applies (S, AE, O)", r.Category)
		}
		if r.Account < pow10(c.AccountLength-1) || r.Account >= pow10(c.AccountLength) {
			bad(fmt.Sprintf("revenue[%d].account", i), "%d is not a %d-digit account", r.Account, c.AccountLength)
		}
		if r.BUKey != "" && !digits(r.BUKey, 1, 4) {
			bad(fmt.Sprintf("revenue[%d].bu_key", i), "%q is not a BU key (up to 4 digits)", r.BUKey)
		}
	}
	for _, cur := range sortedKeys(c.Rates) {
		if r := c.Rates[cur]; !r.IsPositive() || r.Exponent() < -6 || r.GreaterThanOrEqual(decimal.NewFromInt(10000)) {
			bad("rates."+cur, "%s is not a positive exchange rate with at most 4 digits before and 6 after the point", r)
		}
	}
	if len([]rune(c.Dictation)) > 2 {
		bad("dictation", "%q is longer than 2 characters", c.Dictation)
	}
	return errors.Join(errs...)
}

// fiscalYearStart returns the first day of the fiscal year that begins in year.
func (c DATEVConfig) fiscalYearStart(year int) (calendar.Date, error) {
	s := c.FiscalYearStart
	if s == "" {
		s = "01-01"
	}
	return calendar.Parse(fmt.Sprintf("%04d-%s", year, s))
}

// fiscalYearOf returns the start of the fiscal year containing d.
func (c DATEVConfig) fiscalYearOf(d calendar.Date) (calendar.Date, error) {
	y, _, _ := d.Date()
	start, err := c.fiscalYearStart(y)
	if err != nil {
		return start, err
	}
	if d.Before(start) {
		return c.fiscalYearStart(y - 1)
	}
	return start, nil
}

// A DATEV Buchungsstapel may cover one fiscal year at most and 99,999 bookings.
const maxBookings = 99999

// Booking is one line of a Buchungsstapel: an amount (positive) moved between the debtor
// account and a revenue account.
type Booking struct {
	Amount     decimal.Decimal
	Debit      bool // S: invoice (debtor debited); H: credit note
	Currency   string
	Rate       decimal.Decimal // 0 for EUR
	BaseAmount decimal.Decimal // EUR, for other currencies
	Account    int             // debtor
	Contra     int             // revenue account
	BUKey      string
	Date       calendar.Date
	Document   string // Belegfeld 1: the document number
	Reference  string // Belegfeld 2: the invoice a credit note corrects
	Text       string
	EUVATID    string // EU-Land u. UStID (Bestimmung), for reverse charge
}

// Signed is the amount as it counts toward revenue: negative for a credit note.
func (b Booking) Signed() decimal.Decimal {
	if b.Debit {
		return b.Amount
	}
	return b.Amount.Neg()
}

// Bookings returns the bookings of the documents: one per document and VAT category and
// rate, its gross amount (basis plus VAT of the breakdown, BG-23) against the category's
// revenue account. The bookings of a document add up to its gross total (BT-112). Every
// document that cannot be booked is named in the error and nothing is returned.
func Bookings(docs []*invoice.Invoice, cfg DATEVConfig) ([]Booking, error) {
	var out []Booking
	var errs []error
	for _, d := range docs {
		bs, err := bookingsOf(d, cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, bs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func bookingsOf(d *invoice.Invoice, cfg DATEVConfig) ([]Booking, error) {
	credit := d.TypeCode == invoice.CreditNote
	account := cfg.ReceivablesAccount
	if n, ok := cfg.Debtors[string(d.BuyerKind)+" "+d.BuyerID]; ok {
		account = n
	}
	var rate decimal.Decimal
	if d.Currency != "EUR" {
		r, ok := cfg.Rates[d.Currency]
		if !ok {
			return nil, fmt.Errorf("%s: field currency: %s has no exchange rate (datev config rates.%s)", d.Number, d.Currency, d.Currency)
		}
		rate = r
	}
	kind := "Rechnung"
	if credit {
		kind = "Gutschrift"
	}
	var out []Booking
	total := decimal.Zero
	for _, v := range d.VAT {
		rev, ok := revenueFor(cfg, v.Category, v.Rate)
		if !ok {
			return nil, fmt.Errorf("%s: field vat: no revenue account for VAT category %s at %s %% (datev config revenue)", d.Number, v.Category, v.Rate)
		}
		gross := v.Basis.Add(v.Tax)
		total = total.Add(gross)
		if gross.IsZero() {
			continue
		}
		b := Booking{Amount: gross.Abs(), Debit: gross.IsPositive() != credit, Currency: d.Currency, Rate: rate,
			Account: account, Contra: rev.Account, BUKey: rev.BUKey, Date: d.IssueDate, Document: d.Number,
			Reference: d.Preceding, Text: text(kind+" "+d.Number+" "+d.Buyer.Name, 60)}
		if !rate.IsZero() {
			b.BaseAmount = b.Amount.Div(rate).Round(2)
		}
		if v.Category == invoice.ReverseCharge {
			b.EUVATID = d.Buyer.VATID
		}
		out = append(out, b)
	}
	if !total.Equal(d.Totals.GrandTotal) {
		return nil, fmt.Errorf("%s: field vat: the VAT breakdown adds up to %s, the gross total is %s", d.Number, total, d.Totals.GrandTotal)
	}
	return out, nil
}

func revenueFor(cfg DATEVConfig, category invoice.VATCategory, rate decimal.Decimal) (RevenueAccount, bool) {
	for _, r := range cfg.Revenue {
		if r.Category == category && r.Rate.Equal(rate) {
			return r, true
		}
	}
	return RevenueAccount{}, false
}

// DATEV writes the Buchungsstapel of the documents issued from `from` to `to` (which must
// lie in one fiscal year): DATEV's header line (EXTF, format 700, category 21, version 13),
// the column line of its 125 fields and one line per booking, semicolon-separated, CRLF,
// Windows-1252 (characters it lacks become "?"), amounts with a decimal comma.
func DATEV(docs []*invoice.Invoice, cfg DATEVConfig, from, to calendar.Date, created time.Time) ([]byte, []Booking, error) {
	if err := cfg.Check(); err != nil {
		return nil, nil, err
	}
	if to.Before(from) {
		return nil, nil, fmt.Errorf("datev export: period %s..%s ends before it starts", from, to)
	}
	fy, err := cfg.fiscalYearOf(from)
	if err != nil {
		return nil, nil, err
	}
	if next := fy.AddMonths(12); !to.Before(next) {
		return nil, nil, fmt.Errorf("datev export: period %s..%s spans two fiscal years (the one from %s ends %s): export each fiscal year on its own", from, to, fy, next.AddDays(-1))
	}
	for _, d := range docs {
		if d.IssueDate.Before(from) || d.IssueDate.After(to) {
			return nil, nil, fmt.Errorf("datev export: %s: field issue_date: %s is outside %s..%s", d.Number, d.IssueDate, from, to)
		}
	}
	bookings, err := Bookings(docs, cfg)
	if err != nil {
		return nil, nil, err
	}
	if len(bookings) > maxBookings {
		return nil, nil, fmt.Errorf("datev export: %d bookings; DATEV takes at most %d per file: export a shorter period", len(bookings), maxBookings)
	}
	var b bytes.Buffer
	q := quote
	header := []string{
		q("EXTF"), "700", "21", q("Buchungsstapel"), "13", created.UTC().Format("20060102150405") + fmt.Sprintf("%03d", created.Nanosecond()/1e6),
		"", q("RE"), q(""), q(""), strconv.Itoa(cfg.ConsultantNumber), strconv.Itoa(cfg.ClientNumber),
		ymd(fy), strconv.Itoa(cfg.AccountLength), ymd(from), ymd(to), q(text(cfg.Name, 30)), q(cfg.Dictation),
		"1", "0", boolDigit(cfg.Locked), q("EUR"), "", q(""), "", "", q(cfg.Chart), "", "", q(""), q(""),
	}
	b.WriteString(strings.Join(header, ";"))
	b.WriteString("\r\n")
	b.WriteString(strings.Join(datevColumns, ";"))
	b.WriteString("\r\n")
	for _, bk := range bookings {
		row := make([]string, len(datevColumns))
		row[0] = comma(bk.Amount)
		row[1] = q(map[bool]string{true: "S", false: "H"}[bk.Debit])
		row[2] = q(bk.Currency)
		if !bk.Rate.IsZero() {
			row[3] = strings.Replace(bk.Rate.String(), ".", ",", 1)
			row[4] = comma(bk.BaseAmount)
			row[5] = q("EUR")
		}
		row[6] = strconv.Itoa(bk.Account)
		row[7] = strconv.Itoa(bk.Contra)
		row[8] = q(bk.BUKey)
		_, m, day := bk.Date.Date()
		row[9] = fmt.Sprintf("%02d%02d", day, int(m))
		row[10] = q(belegfeld(bk.Document))
		row[11] = q(belegfeld(bk.Reference))
		row[13] = q(bk.Text)
		row[colEUVATID] = q(bk.EUVATID)
		b.WriteString(strings.Join(row, ";"))
		b.WriteString("\r\n")
	}
	enc, err := charmap.Windows1252.NewEncoder().Bytes(replaceUnencodable(b.Bytes()))
	if err != nil {
		return nil, nil, fmt.Errorf("datev export: %w", err)
	}
	return enc, bookings, nil
}

// replaceUnencodable replaces the characters Windows-1252 lacks with "?".
func replaceUnencodable(b []byte) []byte {
	return []byte(strings.Map(func(r rune) rune {
		if _, ok := charmap.Windows1252.EncodeRune(r); ok {
			return r
		}
		return '?'
	}, string(b)))
}

// quote writes a DATEV text field: in double quotes, inner quotes doubled, no line breaks.
func quote(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// belegfeld keeps the characters DATEV allows in Belegfeld 1 (letters, digits and
// $ & % * + - /), at most 36.
func belegfeld(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("$&%*+-/", r) {
			b.WriteRune(r)
		}
	}
	return text(b.String(), 36)
}

func text(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// comma writes an amount with a decimal comma and no thousands separators.
func comma(d decimal.Decimal) string {
	s := d.StringFixed(2)
	if d.Exponent() < -2 {
		s = d.String()
	}
	return strings.Replace(s, ".", ",", 1)
}

func ymd(d calendar.Date) string { return format(d, "20060102") }

func format(d calendar.Date, layout string) string { return d.Time(time.UTC).Format(layout) }

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

func digits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

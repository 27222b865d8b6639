package bank

import (
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// Sequence is a direct debit's sequence type: the first of a mandate, or a later one.
type Sequence string

const (
	First     Sequence = "FRST"
	Recurring Sequence = "RCUR"
)

// Creditor is the seller as its bank collects for it.
type Creditor struct {
	Name       string
	IBAN       string
	BIC        string
	CreditorID string // SEPA creditor identifier
}

// Debit is one direct debit: an invoice collected from the debtor's account.
type Debit struct {
	Invoice     string // the end-to-end ID and the remittance information
	Amount      decimal.Decimal
	Currency    string
	Debtor      string
	IBAN        string
	Mandate     string
	MandateDate calendar.Date
	Sequence    Sequence
	Collection  calendar.Date
}

// Check says what makes d unfit for a SEPA direct debit.
func (d Debit) Check() error {
	switch {
	case d.Currency != "EUR":
		return fmt.Errorf("invoice %s: SEPA direct debits are in EUR, not %s", d.Invoice, d.Currency)
	case !d.Amount.IsPositive() || d.Amount.GreaterThan(decimal.New(99999999999, -2)) || !d.Amount.Equal(d.Amount.Round(2)):
		return fmt.Errorf("invoice %s: amount %s is not 0.01 to 999999999.99", d.Invoice, d.Amount)
	case d.Mandate == "" || d.MandateDate.IsZero():
		return fmt.Errorf("invoice %s: the mandate's reference and date of signature are required (mandate_reference, mandate_date)", d.Invoice)
	case d.IBAN == "" || d.Debtor == "":
		return fmt.Errorf("invoice %s: the debtor's name and IBAN are required", d.Invoice)
	case d.Sequence != First && d.Sequence != Recurring:
		return fmt.Errorf("invoice %s: sequence type %q", d.Invoice, d.Sequence)
	}
	return nil
}

// DebitFile writes debits as a pain.008.001.08 message (SEPA Core direct debits) with
// message ID msgID created at created: one payment information block per sequence type
// and collection date, each with its number of transactions and control sum.
func DebitFile(msgID string, created time.Time, cdtr Creditor, debits []Debit) ([]byte, error) {
	if len(debits) == 0 {
		return nil, errors.New("debit file: no direct debits")
	}
	if cdtr.IBAN == "" || cdtr.CreditorID == "" || cdtr.Name == "" {
		return nil, errors.New("debit file: the seller's name, IBAN and SEPA creditor ID (seller.json sepa_creditor_id) are required")
	}
	var errs []error
	for _, d := range debits {
		if err := d.Check(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("debit file: %w", err)
	}
	doc := painDocument{Xmlns: painNamespace}
	m := &doc.Initiation
	m.Header = groupHeader{MsgID: sepaText(msgID, 35), Created: created.UTC().Format("2006-01-02T15:04:05"),
		Count: strconv.Itoa(len(debits)), Sum: sum(debits), Initiator: party{Name: sepaText(cdtr.Name, 70)}}
	for i, g := range groups(debits) {
		m.Payments = append(m.Payments, paymentInfo(fmt.Sprintf("%s-%d", sepaText(msgID, 30), i+1), cdtr, g))
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("debit file: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// groups splits debits by sequence type and collection date, in that order.
func groups(debits []Debit) [][]Debit {
	sorted := append([]Debit(nil), debits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Sequence != b.Sequence {
			return a.Sequence == First
		}
		if c := a.Collection.Compare(b.Collection); c != 0 {
			return c < 0
		}
		return a.Invoice < b.Invoice
	})
	var out [][]Debit
	for i, d := range sorted {
		if i == 0 || d.Sequence != sorted[i-1].Sequence || d.Collection != sorted[i-1].Collection {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], d)
	}
	return out
}

func sum(debits []Debit) string {
	s := decimal.Zero
	for _, d := range debits {
		s = s.Add(d.Amount)
	}
	return s.StringFixed(2)
}

// paymentInfo is the payment information block of debits of one sequence type and
// collection date.
func paymentInfo(id string, cdtr Creditor, debits []Debit) payment {
	p := payment{ID: id, Method: "DD", Batch: true, Count: strconv.Itoa(len(debits)), Sum: sum(debits),
		Type:       paymentType{Service: "SEPA", Instrument: "CORE", Sequence: string(debits[0].Sequence)},
		Collection: debits[0].Collection.String(), Creditor: party{Name: sepaText(cdtr.Name, 70)},
		CreditorAcct: account{IBAN: cdtr.IBAN}, CreditorAgent: agent{BIC: cdtr.BIC}, ChargeBearer: "SLEV",
		Scheme: scheme{ID: cdtr.CreditorID, Name: "SEPA"}}
	if cdtr.BIC == "" {
		p.CreditorAgent = notProvided
	}
	for _, d := range debits {
		p.Tx = append(p.Tx, transaction{EndToEnd: sepaText(d.Invoice, 35),
			Amount:      amountOut{Ccy: d.Currency, Value: d.Amount.StringFixed(2)},
			Mandate:     mandate{ID: sepaText(d.Mandate, 35), Signed: d.MandateDate.String()},
			DebtorAgent: notProvided, Debtor: party{Name: sepaText(d.Debtor, 70)},
			DebtorAcct: account{IBAN: d.IBAN}, Remittance: sepaText("Rechnung "+d.Invoice, 140)})
	}
	return p
}

// sepaText keeps s to the characters every SEPA bank accepts (EPC's Latin set), German
// umlauts and ß transliterated, and to at most n characters.
func sepaText(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("/-?:().,'+ ", r):
			b.WriteRune(r)
		case umlauts[r] != "":
			b.WriteString(umlauts[r])
		case r == '&':
			b.WriteString("+")
		default:
			b.WriteRune('.')
		}
	}
	out := strings.TrimSpace(b.String())
	if len(out) > n {
		out = strings.TrimSpace(out[:n])
	}
	return out
}

var umlauts = map[rune]string{'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "Ae", 'Ö': "Oe", 'Ü': "Ue", 'ß': "ss", 'é': "e", 'è': "e", 'à': "a", 'ç': "c"}

const painNamespace = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"

// The pain.008.001.08 elements kontor writes, in the schema's order.
type painDocument struct {
	XMLName    xml.Name   `xml:"Document"`
	Xmlns      string     `xml:"xmlns,attr"`
	Initiation initiation `xml:"CstmrDrctDbtInitn"`
}

type initiation struct {
	Header   groupHeader `xml:"GrpHdr"`
	Payments []payment   `xml:"PmtInf"`
}

type groupHeader struct {
	MsgID     string `xml:"MsgId"`
	Created   string `xml:"CreDtTm"`
	Count     string `xml:"NbOfTxs"`
	Sum       string `xml:"CtrlSum"`
	Initiator party  `xml:"InitgPty"`
}

type party struct {
	Name string `xml:"Nm"`
}

type payment struct {
	ID            string        `xml:"PmtInfId"`
	Method        string        `xml:"PmtMtd"`
	Batch         bool          `xml:"BtchBookg"`
	Count         string        `xml:"NbOfTxs"`
	Sum           string        `xml:"CtrlSum"`
	Type          paymentType   `xml:"PmtTpInf"`
	Collection    string        `xml:"ReqdColltnDt"`
	Creditor      party         `xml:"Cdtr"`
	CreditorAcct  account       `xml:"CdtrAcct"`
	CreditorAgent agent         `xml:"CdtrAgt"`
	ChargeBearer  string        `xml:"ChrgBr"`
	Scheme        scheme        `xml:"CdtrSchmeId"`
	Tx            []transaction `xml:"DrctDbtTxInf"`
}

type paymentType struct {
	Service    string `xml:"SvcLvl>Cd"`
	Instrument string `xml:"LclInstrm>Cd"`
	Sequence   string `xml:"SeqTp"`
}

type account struct {
	IBAN string `xml:"Id>IBAN"`
}

type agent struct {
	BIC   string `xml:"FinInstnId>BICFI,omitempty"`
	Other *other `xml:"FinInstnId>Othr,omitempty"`
}

type other struct {
	ID string `xml:"Id"`
}

// notProvided is the agent of a debtor whose bank is known by the IBAN alone.
var notProvided = agent{Other: &other{ID: "NOTPROVIDED"}}

type scheme struct {
	ID   string `xml:"Id>PrvtId>Othr>Id"`
	Name string `xml:"Id>PrvtId>Othr>SchmeNm>Prtry"`
}

type amountOut struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type mandate struct {
	ID     string `xml:"MndtId"`
	Signed string `xml:"DtOfSgntr"`
}

type transaction struct {
	EndToEnd    string    `xml:"PmtId>EndToEndId"`
	Amount      amountOut `xml:"InstdAmt"`
	Mandate     mandate   `xml:"DrctDbtTx>MndtRltdInf"`
	DebtorAgent agent     `xml:"DbtrAgt"`
	Debtor      party     `xml:"Dbtr"`
	DebtorAcct  account   `xml:"DbtrAcct"`
	Remittance  string    `xml:"RmtInf>Ustrd"`
}

// CollectionDay is the day a debit due on due can be collected when the file is sent on
// sent: its due date, or the next TARGET2 business day after sent when that is later
// (weekends, 1 January, 1 May, 25 and 26 December; Good Friday and Easter Monday are
// not computed: a bank moves such a date to the next business day itself).
func CollectionDay(due, sent calendar.Date) calendar.Date {
	d := sent.AddDays(1)
	for !businessDay(d) {
		d = d.AddDays(1)
	}
	if due.After(d) {
		d = due
		for !businessDay(d) {
			d = d.AddDays(1)
		}
	}
	return d
}

func businessDay(d calendar.Date) bool {
	if wd := d.Time(time.UTC).Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, m, day := d.Date()
	holiday := m == time.January && day == 1 || m == time.May && day == 1 || m == time.December && (day == 25 || day == 26)
	return !holiday
}

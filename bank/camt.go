// Package bank reads the seller's bank statements (ISO 20022 camt.053, and camt.054
// notifications, versions .001.02 and .001.08), finds the invoices their entries pay,
// and writes SEPA direct debits for the bank (pain.008.001.08). It is pure: files come
// in as bytes, documents go out as bytes.
package bank

import (
	"bytes"
	"encoding/xml"

	"fmt"
	"strings"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// Entry is one booked transaction of a statement: an entry, or one transaction of a batch
// booking.
type Entry struct {
	// Ref names the transaction at the bank, the same however often the statement is
	// imported: the account, the bank's entry reference and the transaction's position.
	Ref     string
	Account string
	Booked  calendar.Date
	// Amount is positive; Credit says which way it went.
	Amount   decimal.Decimal
	Currency string
	Credit   bool
	Reversal bool
	// Counterparty is the payer's (or, for a return, the debtor's) name.
	Counterparty string
	// Remittance is the remittance information, unstructured lines and structured
	// references, and the end-to-end ID, as the bank gave them.
	Remittance string
	// EndToEnd is the end-to-end ID (a direct debit's: the invoice number kontor gave it).
	EndToEnd string
	// ReturnReason is the ISO reason code of a returned direct debit (AM04, MD06, …).
	ReturnReason string
	// Path names the element in the file, for messages.
	Path string
}

// Statement is a camt.053 statement's (or camt.054 notification's) booked entries.
type Statement struct {
	Version string // camt.053.001.02, camt.053.001.08, camt.054.001.02, camt.054.001.08
	Entries []Entry
	// Pending counts entries not booked yet (status PDNG, INFO): not imported.
	Pending int
}

// ReadStatement reads a camt.053 or camt.054 file; file names it in errors. A file that
// is not well formed, of another message or version, or lacks what an entry needs is an
// error naming the element, and nothing of it is returned.
func ReadStatement(file string, data []byte) (Statement, error) {
	var doc document
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return Statement{}, fmt.Errorf("%s: not well-formed XML: %w", file, err)
	}
	v, ok := versions[doc.XMLName.Space]
	if doc.XMLName.Local != "Document" || !ok {
		return Statement{}, fmt.Errorf("%s: element Document: namespace %q is not camt.053 or camt.054 (.001.02 or .001.08)", file, doc.XMLName.Space)
	}
	st := Statement{Version: v}
	reports := append(doc.Stmt.Reports, doc.Ntfctn.Reports...)
	if len(reports) == 0 {
		return Statement{}, fmt.Errorf("%s: element Document/%s: no Stmt or Ntfctn", file, v)
	}
	for i, r := range reports {
		if err := r.read(&st, fmt.Sprintf("Stmt[%d]", i+1)); err != nil {
			return Statement{}, fmt.Errorf("%s: %w", file, err)
		}
	}
	return st, nil
}

var versions = map[string]string{
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": "camt.053.001.02",
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "camt.053.001.08",
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02": "camt.054.001.02",
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": "camt.054.001.08",
}

// The elements kontor reads; .001.02 and .001.08 differ where two fields are listed.
type document struct {
	XMLName xml.Name
	Stmt    struct {
		Reports []report `xml:"Stmt"`
	} `xml:"BkToCstmrStmt"`
	Ntfctn struct {
		Reports []report `xml:"Ntfctn"`
	} `xml:"BkToCstmrDbtCdtNtfctn"`
}

type report struct {
	ID   string `xml:"Id"`
	Acct struct {
		IBAN string `xml:"Id>IBAN"`
		Othr string `xml:"Id>Othr>Id"`
	} `xml:"Acct"`
	Entries []entry `xml:"Ntry"`
}

type amount struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

type entry struct {
	NtryRef     string  `xml:"NtryRef"`
	Amt         *amount `xml:"Amt"`
	CdtDbtInd   string  `xml:"CdtDbtInd"`
	RvslInd     bool    `xml:"RvslInd"`
	Sts         status  `xml:"Sts"`
	BookgDt     dateOr  `xml:"BookgDt"`
	AcctSvcrRef string  `xml:"AcctSvcrRef"`
	Details     []struct {
		Tx []txDetails `xml:"TxDtls"`
	} `xml:"NtryDtls"`
	AddtlNtryInf string `xml:"AddtlNtryInf"`
}

// status is Sts: text in .001.02, a code in .001.08.
type status struct {
	Text string `xml:",chardata"`
	Cd   string `xml:"Cd"`
}

func (s status) code() string { return strings.TrimSpace(s.Text + s.Cd) }

type dateOr struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

type txDetails struct {
	EndToEndID string  `xml:"Refs>EndToEndId"`
	TxRef      string  `xml:"Refs>AcctSvcrRef"`
	Amt        *amount `xml:"Amt"`               // .001.08
	TxAmt      *amount `xml:"AmtDtls>TxAmt>Amt"` // .001.02
	Parties    struct {
		DbtrNm   string `xml:"Dbtr>Nm"`     // .001.02
		DbtrPty  string `xml:"Dbtr>Pty>Nm"` // .001.08
		CdtrNm   string `xml:"Cdtr>Nm"`
		CdtrPty  string `xml:"Cdtr>Pty>Nm"`
		UltmtDbt string `xml:"UltmtDbtr>Nm"`
	} `xml:"RltdPties"`
	Ustrd  []string `xml:"RmtInf>Ustrd"`
	StrdRf []string `xml:"RmtInf>Strd>CdtrRefInf>Ref"`
	Return string   `xml:"RtrInf>Rsn>Cd"`
}

// read appends the report's booked entries to st; at names the report.
func (r report) read(st *Statement, at string) error {
	account := r.Acct.IBAN
	if account == "" {
		account = r.Acct.Othr
	}
	if account == "" {
		return fmt.Errorf("element %s/Acct/Id: no account", at)
	}
	for i, e := range r.Entries {
		path := fmt.Sprintf("%s/Ntry[%d]", at, i+1)
		switch e.Sts.code() {
		case "BOOK":
		case "PDNG", "INFO", "FUTR":
			st.Pending++
			continue
		default:
			return fmt.Errorf("element %s/Sts: %q is not BOOK, PDNG or INFO", path, e.Sts.code())
		}
		entries, err := e.read(account, r.ID, i+1, path)
		if err != nil {
			return err
		}
		st.Entries = append(st.Entries, entries...)
	}
	return nil
}

// read returns the transactions of entry n of the report with ID stmt: one, or one per
// TxDtls of a batch booking.
func (e entry) read(account, stmt string, n int, path string) ([]Entry, error) {
	amt, ccy, err := e.Amt.parse(path + "/Amt")
	if err != nil {
		return nil, err
	}
	base := Entry{Account: account, Amount: amt, Currency: ccy, Reversal: e.RvslInd, Path: path}
	switch e.CdtDbtInd {
	case "CRDT":
		base.Credit = true
	case "DBIT":
	default:
		return nil, fmt.Errorf("element %s/CdtDbtInd: %q is not CRDT or DBIT", path, e.CdtDbtInd)
	}
	day := e.BookgDt.Dt
	if day == "" && len(e.BookgDt.DtTm) >= 10 {
		day = e.BookgDt.DtTm[:10]
	}
	if base.Booked, err = calendar.Parse(day); err != nil {
		return nil, fmt.Errorf("element %s/BookgDt: %q is not a date", path, day)
	}
	ref := cmpOr(strings.TrimSpace(e.AcctSvcrRef), strings.TrimSpace(e.NtryRef), fmt.Sprintf("%s#%d", stmt, n))
	var txs []txDetails
	for _, d := range e.Details {
		txs = append(txs, d.Tx...)
	}
	if len(txs) == 0 {
		base.Ref = account + "/" + ref
		base.Remittance = e.AddtlNtryInf
		return []Entry{base}, nil
	}
	out := make([]Entry, 0, len(txs))
	sum := decimal.Zero
	for i, tx := range txs {
		x, err := tx.read(base, fmt.Sprintf("%s/NtryDtls/TxDtls[%d]", path, i+1), len(txs) == 1)
		if err != nil {
			return nil, err
		}
		x.Ref = fmt.Sprintf("%s/%s/%d", account, ref, i+1)
		sum = sum.Add(x.Amount)
		out = append(out, x)
	}
	if !sum.Equal(amt) {
		return nil, fmt.Errorf("element %s: the transactions add up to %s, the entry's Amt is %s", path, sum, amt)
	}
	return out, nil
}

// read is the transaction tx of entry base; alone says whether it is the entry's only
// one (whose amount may be left to the entry).
func (tx txDetails) read(base Entry, path string, alone bool) (Entry, error) {
	x := base
	x.Path = path
	a := tx.Amt
	if a == nil {
		a = tx.TxAmt
	}
	if a != nil {
		amt, ccy, err := a.parse(path + "/Amt")
		if err != nil {
			return x, err
		}
		x.Amount, x.Currency = amt, ccy
	} else if !alone {
		return x, fmt.Errorf("element %s/Amt: missing in a batch booking", path)
	}
	p := tx.Parties
	if x.Credit {
		x.Counterparty = cmpOr(p.DbtrNm, p.DbtrPty, p.UltmtDbt)
	} else {
		x.Counterparty = cmpOr(p.CdtrNm, p.CdtrPty, p.DbtrNm, p.DbtrPty)
	}
	x.EndToEnd = strings.TrimSpace(tx.EndToEndID)
	if x.EndToEnd == "NOTPROVIDED" {
		x.EndToEnd = ""
	}
	x.Remittance = strings.Join(append(append([]string{}, tx.Ustrd...), tx.StrdRf...), "\n")
	x.ReturnReason = strings.TrimSpace(tx.Return)
	return x, nil
}

// parse reads an amount element: a non-negative decimal with a currency.
func (a *amount) parse(path string) (decimal.Decimal, string, error) {
	if a == nil {
		return decimal.Zero, "", fmt.Errorf("element %s: missing", path)
	}
	v, err := decimal.NewFromString(strings.TrimSpace(a.Value))
	if err != nil || v.IsNegative() {
		return decimal.Zero, "", fmt.Errorf("element %s: %q is not an amount", path, a.Value)
	}
	if len(a.Ccy) != 3 {
		return decimal.Zero, "", fmt.Errorf("element %s: attribute Ccy %q is not a currency code", path, a.Ccy)
	}
	return v, a.Ccy, nil
}

// cmpOr is the first of ss that is not empty.
func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

package bank

import (
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func readFixture(t *testing.T, name string) Statement {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ReadStatement(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestReadStatement(t *testing.T) {
	type want struct {
		ref, amount, payer, endToEnd, returned string
		credit                                 bool
		remittance                             string // contained
	}
	for _, c := range []struct {
		file, version string
		pending       int
		entries       []want
	}{
		{"sparkasse-2026-11-18.camt053.001.02.xml", "camt.053.001.02", 1, []want{
			{"DE89370400440532013000/2026111800001/1", "244.19", "Mueller und Soehne GmbH", "", "", true, "RE-2026-00000\n1 vom"},
			{"DE89370400440532013000/2026111800002/1", "98.77", "Baeckerei Schmidt KG", "RE-2026-000002", "", true, "RE-2026-000002"},
			{"DE89370400440532013000/2026111800002/2", "38.25", "Boulangerie Dupont SARL", "RE-2026-000007", "", true, "RE-2026-000007"},
			{"DE89370400440532013000/2026111800002/3", "6.55", "Rheinland Pflege gGmbH", "RE-2026-000014", "", true, "RE-2026-000014"},
			{"DE89370400440532013000/2026111800003/1", "1000", "Hanse Logistik AG", "", "", true, "re 2026 000003"},
			{"DE89370400440532013000/2026111800004/1", "50", "Max Mustermann", "", "", true, "Lizenz"},
			{"DE89370400440532013000/2026111800005", "12.5", "", "", "", false, "Kontofuehrung"},
			{"DE89370400440532013000/2026111800006/1", "100", "Alpenblick Hotels GmbH", "", "", true, "RE-2026-000004"},
		}},
		{"volksbank-2026-11-25.camt053.001.08.xml", "camt.053.001.08", 0, []want{
			{"DE89370400440532013000/VB2026112500017/1", "98.77", "Baeckerei Schmidt KG", "RE-2026-000002", "AM04", false, "RE-2026-000002"},
			{"DE89370400440532013000/VB2026112500018/1", "481.43", "Hanse Logistik AG", "", "", true, "RE-2026-000003"},
			{"DE89370400440532013000/VB2026112500019/1", "113.46", "Sammelzahlung", "", "", true, "RE-2026-000013 und RE-2026-0\n00012"},
		}},
	} {
		st := readFixture(t, c.file)
		if st.Version != c.version || st.Pending != c.pending || len(st.Entries) != len(c.entries) {
			t.Fatalf("%s: version %s, %d pending, %d entries; want %s, %d, %d", c.file, st.Version, st.Pending, len(st.Entries), c.version, c.pending, len(c.entries))
		}
		for i, w := range c.entries {
			e := st.Entries[i]
			if e.Ref != w.ref || !e.Amount.Equal(decimal.RequireFromString(w.amount)) || e.Counterparty != w.payer || e.EndToEnd != w.endToEnd ||
				e.ReturnReason != w.returned || e.Credit != w.credit || !strings.Contains(e.Remittance, w.remittance) || e.Currency != "EUR" {
				t.Errorf("%s entry %d (%s):\n got %+v\nwant %+v", c.file, i+1, e.Path, e, w)
			}
		}
	}
}

// TestReadStatementRefusesBadFiles: a file that is not well formed, of another message,
// or lacks what an entry needs is refused with the element named, and nothing returned.
func TestReadStatementRefusesBadFiles(t *testing.T) {
	good, err := os.ReadFile("testdata/sparkasse-2026-11-18.camt053.001.02.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(good)
	for _, c := range []struct {
		name, xml, want string
	}{
		{"truncated", doc[:len(doc)/2], "not well-formed XML"},
		{"another message", strings.ReplaceAll(doc, "camt.053.001.02", "pain.001.001.03"), `namespace "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" is not camt.053`},
		{"amount missing", strings.Replace(doc, `<Amt Ccy="EUR">244.19</Amt><CdtDbtInd>`, `<CdtDbtInd>`, 1), "element Stmt[1]/Ntry[1]/Amt: missing"},
		{"amount not a number", strings.Replace(doc, `<Amt Ccy="EUR">1000.00</Amt>`, `<Amt Ccy="EUR">1.000,00</Amt>`, 1), `element Stmt[1]/Ntry[3]/Amt: "1.000,00" is not an amount`},
		{"credit or debit", strings.Replace(doc, `<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>`, `<CdtDbtInd>CREDIT</CdtDbtInd><Sts>BOOK</Sts>`, 1), `element Stmt[1]/Ntry[1]/CdtDbtInd: "CREDIT" is not CRDT or DBIT`},
		{"batch does not add up", strings.Replace(doc, `<Amt Ccy="EUR">38.25</Amt>`, `<Amt Ccy="EUR">38.52</Amt>`, 1), "element Stmt[1]/Ntry[2]: the transactions add up to 143.84, the entry's Amt is 143.57"},
		{"booking date", strings.Replace(doc, `<BookgDt><Dt>2026-11-18</Dt>`, `<BookgDt><Dt>18.11.2026</Dt>`, 1), `element Stmt[1]/Ntry[1]/BookgDt: "18.11.2026" is not a date`},
		{"no account", strings.Replace(doc, `<IBAN>DE89370400440532013000</IBAN>`, ``, 1), "element Stmt[1]/Acct/Id: no account"},
	} {
		st, err := ReadStatement("x.xml", []byte(c.xml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.xml: ") || len(st.Entries) != 0 {
			t.Errorf("%s: %v (%d entries), want an error naming the file and %q", c.name, err, len(st.Entries), c.want)
		}
	}
}

func TestIndexFindsNumbersAsBanksPassThemOn(t *testing.T) {
	ix := NewIndex([]string{"RE-2026-000001", "RE-2026-000012", "RE-2026-000120", "GS-2026-000001"})
	for _, c := range []struct {
		text string
		want string
	}{
		{"Rechnung RE-2026-000001 Danke", "RE-2026-000001"},
		{"rechnung re 2026 000001", "RE-2026-000001"},
		{"RE-2026-00000\n1 vom 01.11.2026", "RE-2026-000001"},
		{"RE2026000012", "RE-2026-000012"},
		{"RE-2026-000012 und RE-2026-000120", "RE-2026-000012 RE-2026-000120"},
		{"RE-2026-0000012", ""}, // another number, longer
		{"RE-2026-000001 RE-2026-000001", "RE-2026-000001"},
		{"Lizenz November", ""},
		{"GS-2026-000001", "GS-2026-000001"},
	} {
		if got := strings.Join(ix.Find(c.text), " "); got != c.want {
			t.Errorf("Find(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	d := decimal.RequireFromString
	open := func(n, amount string) Open { return Open{Number: n, Currency: "EUR", Amount: d(amount)} }
	for _, c := range []struct {
		name   string
		amount string
		named  []Open
		want   string // invoice:amount:result …, or the reason
	}{
		{"full", "244.19", []Open{open("A", "244.19")}, "A:244.19:full"},
		{"partial", "100", []Open{open("A", "244.19")}, "A:100:partial"},
		{"over", "300", []Open{open("A", "244.19")}, "A:300:over"},
		{"paid already", "10", []Open{open("A", "0")}, "A:10:over"},
		{"two, exactly", "113.46", []Open{open("A", "88.96"), open("B", "24.50")}, "A:88.96:full B:24.5:full"},
		{"two, not their sum", "100", []Open{open("A", "88.96"), open("B", "24.50")}, "names several invoices and is not what is open of them together (113.46)"},
		{"none", "50", nil, "no invoice number in the remittance information"},
		{"currency", "10", []Open{{Number: "A", Currency: "USD", Amount: d("10")}}, "invoice A is in USD, the transfer in EUR"},
	} {
		allocs, why := Allocate(d(c.amount), "EUR", c.named)
		var parts []string
		for _, a := range allocs {
			parts = append(parts, a.Invoice+":"+a.Amount.String()+":"+string(a.Result))
		}
		got := strings.Join(parts, " ")
		if got == "" {
			got = why
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestReadNotification: a camt.054 notification reads as a statement does.
func TestReadNotification(t *testing.T) {
	b, err := os.ReadFile("testdata/volksbank-2026-11-25.camt053.001.08.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(b), "camt.053.001.08", "camt.054.001.08")
	doc = strings.ReplaceAll(strings.ReplaceAll(doc, "BkToCstmrStmt>", "BkToCstmrDbtCdtNtfctn>"), "Stmt>", "Ntfctn>")
	st, err := ReadStatement("n.xml", []byte(doc))
	if err != nil || st.Version != "camt.054.001.08" || len(st.Entries) != 3 || st.Entries[0].ReturnReason != "AM04" {
		t.Errorf("camt.054: %v, %s, %d entries", err, st.Version, len(st.Entries))
	}
}

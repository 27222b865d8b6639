package bank

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
	"github.com/shopspring/decimal"
)

var seller = Creditor{Name: "Nordlicht Business Apps GmbH", IBAN: "DE89370400440532013000", BIC: "COBADEFFXXX", CreditorID: "DE98ZZZ09999999999"}

func debit(inv, amount string, seq Sequence, collection string) Debit {
	return Debit{Invoice: inv, Amount: decimal.RequireFromString(amount), Currency: "EUR", Debtor: "Bäckerei Schmidt KG",
		IBAN: "DE88370400440001000001", Mandate: "MANDATE-C-002", MandateDate: calendar.MustParse("2024-03-15"),
		Sequence: seq, Collection: calendar.MustParse(collection)}
}

// TestDebitFileValidates: the debit file passes the official pain.008.001.08 schema and
// says what the bank needs: per sequence type and collection date one block with its
// count and control sum, each invoice once with its mandate.
func TestDebitFileValidates(t *testing.T) {
	xmllint := zugferdtest.Tool(t, "xmllint", "libxml2-utils")
	debits := []Debit{
		debit("RE-2026-000002", "98.77", First, "2026-11-16"),
		debit("RE-2026-000007", "38.25", Recurring, "2026-11-16"),
		debit("RE-2026-000014", "6.55", Recurring, "2026-11-16"),
		debit("RE-2026-000025", "68.91", Recurring, "2026-11-20"),
	}
	data, err := DebitFile("KONTOR-20261103120000", time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC), seller, debits)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "debits.xml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/pain.008.001.08.xsd", file).CombinedOutput(); err != nil {
		t.Fatalf("the debit file does not validate against pain.008.001.08.xsd: %v\n%s\n%s", err, out, data)
	}
	doc := string(data)
	for _, want := range []string{
		"<NbOfTxs>4</NbOfTxs>", "<CtrlSum>212.48</CtrlSum>",
		"<PmtInfId>KONTOR-20261103120000-1</PmtInfId>", "<SeqTp>FRST</SeqTp>", "<SeqTp>RCUR</SeqTp>",
		"<PmtInfId>KONTOR-20261103120000-3</PmtInfId>", "<ReqdColltnDt>2026-11-20</ReqdColltnDt>",
		`<InstdAmt Ccy="EUR">98.77</InstdAmt>`, "<MndtId>MANDATE-C-002</MndtId>", "<DtOfSgntr>2024-03-15</DtOfSgntr>",
		"<EndToEndId>RE-2026-000014</EndToEndId>", "<Nm>Baeckerei Schmidt KG</Nm>", "<Id>DE98ZZZ09999999999</Id>",
		"<Ustrd>Rechnung RE-2026-000025</Ustrd>",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("debit file lacks %s", want)
		}
	}
	if n := strings.Count(doc, "<PmtInf>"); n != 3 {
		t.Errorf("%d payment blocks, want 3 (FRST 16th, RCUR 16th, RCUR 20th)", n)
	}
}

func TestDebitFileRefusesWhatABankWould(t *testing.T) {
	noDate := debit("RE-1", "1", First, "2026-11-16")
	noDate.MandateDate = calendar.Date{}
	usd := debit("RE-2", "1", First, "2026-11-16")
	usd.Currency = "USD"
	for _, c := range []struct {
		name string
		d    Debit
		want string
	}{
		{"no mandate date", noDate, "invoice RE-1: the mandate's reference and date of signature are required"},
		{"not EUR", usd, "invoice RE-2: SEPA direct debits are in EUR, not USD"},
		{"nothing", debit("RE-3", "0", First, "2026-11-16"), "invoice RE-3: amount 0 is not 0.01 to 999999999.99"},
	} {
		if _, err := DebitFile("M", time.Now(), seller, []Debit{c.d}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestCollectionDay(t *testing.T) {
	for _, c := range []struct{ due, sent, want string }{
		{"2026-11-16", "2026-11-03", "2026-11-16"}, // due later: the due date
		{"2026-11-15", "2026-11-03", "2026-11-16"}, // due on a Sunday: Monday
		{"2026-11-16", "2026-11-20", "2026-11-23"}, // overdue, sent on a Friday: Monday
		{"2026-12-20", "2026-12-23", "2026-12-24"}, // overdue: the next business day
		{"2026-12-20", "2026-12-24", "2026-12-28"}, // over Christmas
		{"2026-12-31", "2026-12-30", "2026-12-31"},
	} {
		if got := CollectionDay(calendar.MustParse(c.due), calendar.MustParse(c.sent)).String(); got != c.want {
			t.Errorf("due %s, sent %s: %s, want %s", c.due, c.sent, got, c.want)
		}
	}
}

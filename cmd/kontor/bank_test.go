package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
)

const statements = "../../bank/testdata/"

// TestBankStatementsSettleInvoices imports two statements shaped as German banks send
// them into the demo's first run: transfers pay invoices in full, in part and over,
// the direct-debit batch pays three, a return reopens one and starts its grace with a
// notice, what names no invoice is listed; importing again changes nothing; a malformed
// file imports nothing. Then the open items and the debit file for the bank.
func TestBankStatementsSettleInvoices(t *testing.T) {
	url, st := storetest.New(t)
	db := "--database-url=" + url
	arc := "--archive=file://" + t.TempDir()
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	debits := filepath.Join(t.TempDir(), "debits.xml")
	out := cli(t, 0, "payments", "debit-file", db, "--as-of", "2026-11-03", "--out", debits)
	if !strings.Contains(out, "4 direct debits, 212.48 EUR") {
		t.Errorf("debit file: %s", out)
	}
	xmllint := zugferdtest.Tool(t, "xmllint", "libxml2-utils")
	if b, err := exec.Command(xmllint, "--noout", "--schema", "../../bank/testdata/pain.008.001.08.xsd", debits).CombinedOutput(); err != nil {
		t.Errorf("debit file does not validate: %v\n%s", err, b)
	}
	if out := cli(t, 0, "payments", "debit-file", db, "--as-of", "2026-11-04", "--out", debits+".2"); !strings.Contains(out, "no direct debits due") {
		t.Errorf("a second debit file took invoices again: %s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	good, _ := os.ReadFile(statements + "sparkasse-2026-11-18.camt053.001.02.xml")
	os.WriteFile(bad, []byte(strings.Replace(string(good), `<Amt Ccy="EUR">50.00</Amt>`, `<Amt Ccy="EUR">fifty</Amt>`, 1)), 0o644)
	out = cli(t, 1, "payments", "import", db, "--camt", statements+"sparkasse-2026-11-18.camt053.001.02.xml", "--camt", bad)
	if !strings.Contains(out, `bad.xml: element Stmt[1]/Ntry[4]/Amt: "fifty" is not an amount; nothing imported`) {
		t.Errorf("malformed statement: %s", out)
	}
	count := func(q string) int {
		var n int
		if err := st.Pool().QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`select count(*) from payments`) + count(`select count(*) from bank_entries`); n != 0 {
		t.Fatalf("a malformed file among the statements stored %d rows", n)
	}
	out = cli(t, 0, "payments", "import", db, "--camt", statements+"sparkasse-2026-11-18.camt053.001.02.xml")
	for _, want := range []string{"8 entries booked, 0 imported before, 1 not for kontor, 1 pending",
		"full      2026-11-18       244.19 EUR  Mueller und Soehne GmbH      RE-2026-000001",
		"full      2026-11-18        38.25 EUR", "partial   2026-11-18      1000.00 EUR  Hanse Logistik AG            RE-2026-000003",
		"unmatched 2026-11-18        50.00 EUR  Max Mustermann               could not match: no invoice number",
		"over      2026-11-18       100.00 EUR  Alpenblick Hotels GmbH       RE-2026-000004"} {
		if !strings.Contains(out, want) {
			t.Errorf("first statement: output lacks %q:\n%s", want, out)
		}
	}
	out = cli(t, 0, "payments", "import", db, "--camt", statements+"sparkasse-2026-11-18.camt053.001.02.xml")
	if !strings.Contains(out, "8 entries booked, 7 imported before") || strings.Contains(out, "full ") {
		t.Errorf("importing again changed something:\n%s", out)
	}
	out = cli(t, 0, "payments", "import", db, "--camt", statements+"volksbank-2026-11-25.camt053.001.08.xml")
	for _, want := range []string{"camt.053.001.08", "returned  2026-11-25        98.77 EUR  Baeckerei Schmidt KG         RE-2026-000002",
		"full      2026-11-25       481.43 EUR  Hanse Logistik AG            RE-2026-000003",
		"full      2026-11-25       113.46 EUR  Sammelzahlung                RE-2026-000013, RE-2026-000012"} {
		if !strings.Contains(out, want) {
			t.Errorf("second statement: output lacks %q:\n%s", want, out)
		}
	}
	if n := count(`select count(*) from outbox where invoice_number = 'RE-2026-000002' and kind = 'payment_failed'`); n != 1 {
		t.Errorf("the returned debit queued %d notices, want 1", n)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-12-02"); !strings.Contains(out, "customer C-002: active -> deactivated: invoice RE-2026-000002 unpaid since 2026-11-25") {
		t.Errorf("the returned debit's grace ended on 2026-12-02:\n%s", out)
	}
	csv := cli(t, 0, "receivables", db, "--as-of", "2026-12-02", "--format", "csv")
	for _, want := range []string{"invoice,customer,issue_date,due_date,gross,paid,open,days_overdue\n",
		"RE-2026-000002,C-002,2026-11-01,2026-11-15,98.77,0.00,98.77,17\n",
		"RE-2026-000004,C-004,2026-11-01,2026-11-15,82.63,100.00,-17.37,17\n"} {
		if !strings.Contains(csv, want) {
			t.Errorf("receivables lack %q:\n%s", want, csv)
		}
	}
	for _, paid := range []string{"RE-2026-000001,", "RE-2026-000003,", "RE-2026-000007,", "RE-2026-000012,", "RE-2026-000013,"} {
		if strings.Contains(csv, paid) {
			t.Errorf("paid invoice %s is listed as open:\n%s", paid, csv)
		}
	}
	table := cli(t, 0, "receivables", db, "--as-of", "2026-12-02")
	if !strings.Contains(table, "0–30 days") || !strings.Contains(table, "> 90 days") {
		t.Errorf("the table lacks the ageing:\n%s", table)
	}
}

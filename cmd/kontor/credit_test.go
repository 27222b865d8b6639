package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/kontor-billing/kontor/zugferd/zugferdtest"
	"github.com/shopspring/decimal"
)

func TestCreditNotesFullPartialAndOverCredit(t *testing.T) {
	url, st := storetest.New(t)
	db := "--database-url=" + url
	dir := t.TempDir()
	arc := "--archive=file://" + dir
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	ctx := context.Background()
	// RE-2026-000001 is C-001's: 3 lines, net 205.20, VAT 38.99, gross 244.19.
	var before, net string
	if err := st.Pool().QueryRow(ctx, `select md5(model::text), net::text from invoices where number = 'RE-2026-000001'`).Scan(&before, &net); err != nil {
		t.Fatal(err)
	}
	out := cli(t, 0, "credit-note", db, arc, "RE-2026-000001", "--lines", "1", "--reason", "wrong number of users", "--date", "2026-11-10")
	if !strings.Contains(out, "issued GS-2026-000001 (type 381) for RE-2026-000001") {
		t.Fatalf("partial credit:\n%s", out)
	}
	out = cli(t, 1, "credit-note", db, arc, "RE-2026-000001", "--lines", "1,2", "--reason", "again", "--date", "2026-11-10")
	if !strings.Contains(out, "line 1 (credited by GS-2026-000001)") || !strings.Contains(out, "exceeds what was invoiced") {
		t.Errorf("crediting line 1 twice:\n%s", out)
	}
	out = cli(t, 0, "credit-note", db, arc, "RE-2026-000001", "--full", "--reason", "contract cancelled", "--date", "2026-11-12")
	if !strings.Contains(out, "issued GS-2026-000002") {
		t.Fatalf("full credit of the rest:\n%s", out)
	}
	out = cli(t, 1, "credit-note", db, arc, "RE-2026-000001", "--full", "--reason", "once more", "--date", "2026-11-12")
	if !strings.Contains(out, "every line is credited already") {
		t.Errorf("over-credit:\n%s", out)
	}
	out = cli(t, 1, "credit-note", db, arc, "GS-2026-000001", "--full", "--reason", "x", "--date", "2026-11-12")
	if !strings.Contains(out, "only a commercial invoice (380) can be credited") {
		t.Errorf("crediting a credit note:\n%s", out)
	}
	cli(t, 1, "credit-note", db, arc, "RE-2099-000001", "--full", "--reason", "x")
	// The two credit notes together credit exactly the invoice; the invoice is unchanged.
	var after, sum string
	if err := st.Pool().QueryRow(ctx, `select md5(model::text) from invoices where number = 'RE-2026-000001'`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool().QueryRow(ctx, `select sum(net)::text from invoices where type_code = '381'`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Error("crediting changed the original invoice")
	}
	if !decimal.RequireFromString(sum).Equal(decimal.RequireFromString(net)) {
		t.Errorf("credit notes net %s, invoice net %s", sum, net)
	}
	// Numbered in their own series; archived; verifiable; valid Factur-X.
	cli(t, 0, "archive", "verify", db, arc)
	kit := zugferdtest.Kit(t)
	pdfs, _ := filepath.Glob(filepath.Join(dir, "invoices/2026/11/GS-2026-*.pdf"))
	if len(pdfs) != 2 {
		t.Fatalf("%d credit note PDFs archived", len(pdfs))
	}
	res, err := exec.Command(filepath.Join(kit, "validate-facturx-pdf"), pdfs...).CombinedOutput()
	if err != nil || strings.Count(string(res), "=> PASS") != 2 || strings.Contains(string(res), "[WARN]") {
		t.Errorf("credit notes fail the validator: %v\n%s", err, res)
	}
}

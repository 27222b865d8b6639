package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/archive/archivetest"
	"github.com/kontor-billing/kontor/store/storetest"
)

// cli runs a kontor command in-process against a database and returns its stdout.
func cli(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != wantCode {
		t.Fatalf("kontor %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, stdout.String(), stderr.String())
	}
	return stdout.String() + stderr.String()
}

func TestCardPaymentFailureGraceAndDeactivation(t *testing.T) {
	// BILLING-RULES 4: a card that cannot be charged: the customer is notified; after a
	// 7-day grace period the license is deactivated. Payment within the grace keeps it.
	url, st := storetest.New(t)
	db := "--database-url=" + url
	arc := "--archive=file://" + t.TempDir()
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	number := func(customer string) string {
		var n string
		if err := st.Pool().QueryRow(context.Background(), `select number from invoices where buyer_id = $1`, customer).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ch, no, de := number("C-010"), number("C-013"), number("C-001")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("invoice,attempted_at,outcome\nRE-2099-000001,2026-11-01T10:00:00+01:00,failed\n"+de+",2026-11-01T10:00:00+01:00,failed\n"+ch+",yesterday,bounced\n"), 0o644)
	out := cli(t, 1, "payments", db, "--file", bad)
	for _, w := range []string{"bad.csv:4: field attempted_at", "bad.csv:4: field outcome", "nothing imported"} {
		if !strings.Contains(out, w) {
			t.Errorf("bad file: output lacks %q:\n%s", w, out)
		}
	}
	os.WriteFile(bad, []byte("invoice,attempted_at,outcome\nRE-2099-000001,2026-11-01T10:00:00+01:00,failed\n"+de+",2026-11-01T10:00:00+01:00,failed\n"), 0o644)
	out = cli(t, 1, "payments", db, "--file", bad)
	if !strings.Contains(out, "RE-2099-000001 is not a finalized invoice") || !strings.Contains(out, "is not paid by a stored payment method") {
		t.Errorf("bad invoices: %s", out)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("invoice,attempted_at,outcome,reference\n"+
		ch+",2026-11-01T10:00:00+01:00,failed,psp-1\n"+
		no+",2026-11-01T10:00:00+01:00,failed,psp-2\n"+
		no+",2026-11-05T10:00:00+01:00,paid,psp-3\n"), 0o644)
	out = cli(t, 0, "payments", db, "--file", good)
	if !strings.Contains(out, "imported 3 payment results, 2 customers notified") {
		t.Errorf("payments: %s", out)
	}
	cli(t, 0, "payments", db, "--file", good) // idempotent
	// The runs' summaries list the license changes; a dry run lists them and saves none.
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-07"); !strings.Contains(out,
		"customer C-010: active -> grace: invoice "+ch+" unpaid since 2026-11-01, deactivated on 2026-11-08 unless paid") {
		t.Errorf("day 7: the run's summary lacks C-010's grace:\n%s", out)
	}
	if out := cli(t, 0, "status", db, "C-010", "--as-of", "2026-11-07"); !strings.Contains(out, "license: grace") {
		t.Errorf("day 7: still in grace expected:\n%s", out)
	}
	deactivation := "customer C-010: grace -> deactivated: invoice " + ch + " unpaid since 2026-11-01, the grace ended: deactivated on 2026-11-08"
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-08", "--dry-run"); !strings.Contains(out, "licenses would change: 1") || !strings.Contains(out, deactivation) {
		t.Errorf("day 8, dry run: the deactivation is not listed:\n%s", out)
	}
	if out := cli(t, 0, "status", db, "C-010", "--as-of", "2026-11-08"); !strings.Contains(out, "license: grace") {
		t.Errorf("day 8 after the dry run: the license changed:\n%s", out)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-08"); !strings.Contains(out, "licenses changed: 1") || !strings.Contains(out, deactivation) {
		t.Errorf("day 8: the run's summary lacks the deactivation:\n%s", out)
	}
	out = cli(t, 0, "status", db, "C-010", "--as-of", "2026-11-08")
	for _, w := range []string{"license: deactivated", "payment_failed", "license_deactivated", ch, "Die Zahlung (Karte) zur Rechnung " + ch + " ist am 01.11.2026 fehlgeschlagen (psp-1)", "S-012  address-tenant-m  end_customer  active since 2026-01-01"} {
		if !strings.Contains(out, w) {
			t.Errorf("C-010 on day 8: status lacks %q:\n%s", w, out)
		}
	}
	if out := cli(t, 0, "status", db, "C-013", "--as-of", "2026-11-08"); !strings.Contains(out, "license: active") {
		t.Errorf("paid within the grace: license must stay active:\n%s", out)
	}
	os.WriteFile(good, []byte("invoice,attempted_at,outcome\n"+ch+",2026-11-10T10:00:00+01:00,paid\n"), 0o644)
	cli(t, 0, "payments", db, "--file", good)
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-10")
	if out := cli(t, 0, "status", db, "C-010"); !strings.Contains(out, "license: active") || !strings.Contains(out, "license_reactivated") {
		t.Errorf("paid after deactivation: reactivated expected:\n%s", out)
	}
	// Blocked usage: C-007's sanction checks over the 1500 limit.
	if out := cli(t, 0, "status", db, "C-007"); !strings.Contains(out, "S-009  list-checks  2026-10-01..2026-10-31  300 units") {
		t.Errorf("C-007 status lacks the blocked usage:\n%s", out)
	}
}

func TestArchiveVerifyCatchesDeletedAndTamperedFiles(t *testing.T) {
	url, _ := storetest.New(t)
	db := "--database-url=" + url
	dir := t.TempDir()
	arc := "--archive=file://" + dir
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	if out := cli(t, 0, "archive", "verify", db, arc); !strings.Contains(out, "25 invoices, 75 archived files checked, 0 problems") {
		t.Fatalf("clean archive:\n%s", out)
	}
	os.Remove(filepath.Join(dir, "invoices/2026/11/RE-2026-000003.pdf"))
	os.WriteFile(filepath.Join(dir, "invoices/2026/11/RE-2026-000007.xml"), []byte("<tampered/>"), 0o644)
	out := cli(t, 1, "archive", "verify", db, arc)
	for _, w := range []string{"MISSING RE-2026-000003 invoices/2026/11/RE-2026-000003.pdf", "DIFFERS RE-2026-000007 invoices/2026/11/RE-2026-000007.xml", "2 problems"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q:\n%s", w, out)
		}
	}
	if out := cli(t, 0, "archive", "verify", db, arc, "--from", "2026-12-01"); !strings.Contains(out, "0 invoices") {
		t.Errorf("date filter:\n%s", out)
	}
}

func TestArchiveVerifyOnS3(t *testing.T) {
	srv := archivetest.Start(t)
	srv.Bucket(t, "invoices")
	archivetest.SetEnv(t)
	url, _ := storetest.New(t)
	db := "--database-url=" + url
	arc := "--archive=" + srv.URL("invoices", "demo")
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	cli(t, 0, "archive", "verify", db, arc)
	obj := filepath.Join(srv.Dir, "invoices/demo/invoices/2026/11")
	os.Remove(filepath.Join(obj, "RE-2026-000002.json"))
	os.WriteFile(filepath.Join(obj, "RE-2026-000009.pdf"), []byte("%PDF-tampered"), 0o644)
	out := cli(t, 1, "archive", "verify", db, arc)
	if !strings.Contains(out, "MISSING RE-2026-000002") || !strings.Contains(out, "DIFFERS RE-2026-000009") {
		t.Errorf("verify on S3:\n%s", out)
	}
}

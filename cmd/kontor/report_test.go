package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
)

func TestReportRunWritesTheArchivedReport(t *testing.T) {
	url, _ := storetest.New(t)
	db := "--database-url=" + url
	dir := t.TempDir()
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	out := cli(t, 0, "run", db, "--archive=file://"+dir, "--as-of", "2026-11-01")
	if !strings.Contains(out, "report: reports/run-000001.html in the archive (kontor report run 1)") {
		t.Errorf("run summary does not name the report:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "r.html")
	cli(t, 0, "report", "run", db, "1", "--out", file)
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	archived, err := os.ReadFile(filepath.Join(dir, "reports/run-000001.html"))
	if err != nil || !bytes.Equal(got, archived) {
		t.Errorf("report run 1 differs from the archived report (%v)", err)
	}
	if out := cli(t, 1, "report", "run", db, "2"); !strings.Contains(out, "run 2: no such run") {
		t.Errorf("unknown run:\n%s", out)
	}
	cli(t, 2, "report", "run", db, "x")

	// License reports from the imported dataset equal those from the dataset directory.
	fromDB := cli(t, 0, "report", "licenses", db, "--from", "2026-09-01", "--to", "2026-11-01", "--by", "app", "--format", "csv")
	fromDir := cli(t, 0, "report", "licenses", "--data", "../../fixtures/demo", "--from", "2026-09-01", "--to", "2026-11-01", "--by", "app", "--format", "csv")
	if fromDB != fromDir || !strings.Contains(fromDB, "date,app,unit,subscriptions,trials,provisioned,assigned,licensable,unreported\n") ||
		!strings.Contains(fromDB, "2026-10-31,print-agent,users,7,0,81,47,81,0\n") {
		t.Errorf("license report from the database:\n%s\nfrom the directory:\n%s", fromDB, fromDir)
	}
	html := filepath.Join(t.TempDir(), "licenses.html")
	cli(t, 0, "report", "licenses", db, "--from", "2026-09-01", "--to", "2026-11-01", "--by", "country", "--format", "html", "--out", html)
	if b, err := os.ReadFile(html); err != nil || !bytes.Contains(b, []byte(`<svg xmlns="http://www.w3.org/2000/svg" class="chart"`)) {
		t.Errorf("html license report without charts (%v)", err)
	}
	cli(t, 2, "report", "licenses", db, "--from", "2026-09-01", "--to", "2026-11-01", "--by", "plan")
}

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
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
)

func TestPreviewDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "preview.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"preview", "--data", "../../fixtures/demo", "--json", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"kontor preview as of 2026-11-01", "DRAFT-0001", "skipped: 2", "C-009", "without a VAT ID", "usage events:"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Batch struct {
			Invoices []struct{ Number string } `json:"invoices"`
		} `json:"batch"`
	}
	if err := json.Unmarshal(b, &model); err != nil || len(model.Batch.Invoices) == 0 {
		t.Fatalf("JSON model unreadable or empty: %v", err)
	}
}

func TestPreviewInvalidDatasetExits1WithEveryError(t *testing.T) {
	dir := t.TempDir()
	src := "../../fixtures/scenarios/domestic-19"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "subscriptions.csv" {
			b = bytes.Replace(b, []byte("2026-10-15"), []byte("2026-10-32"), 1)
			b = bytes.Replace(b, []byte("address-tenant-m"), []byte("no-such-plan"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"preview", "--data", dir}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	msg := stderr.String()
	for _, want := range []string{"subscriptions.csv:2: S-1: field activated_on", "subscriptions.csv:3: S-2: field plan_id"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("something was computed from an invalid dataset:\n%s", stdout.String())
	}
}

func TestPreviewBadArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"preview", "--data", "../../fixtures/demo", "--as-of", "1.11.2026"}, &stdout, &stderr); code == 0 {
		t.Error("a malformed --as-of was accepted")
	}
	if code := run(context.Background(), []string{"preview", "--data", "/nonexistent"}, &stdout, &stderr); code != 1 {
		t.Errorf("missing dataset: exit %d, want 1", code)
	}
}

func TestResolveAsOfDefaultsToTodayInTheBillingTimeZone(t *testing.T) {
	ds, err := dataset.LoadDir("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC) // 1 December, 00:30 in Berlin
	if d, err := resolveAsOf("", ds, now); err != nil || d.String() != "2026-11-01" {
		t.Errorf("dataset as_of: got %s, %v; want 2026-11-01", d, err)
	}
	ds.Manifest.AsOf = calendar.Date{}
	if d, err := resolveAsOf("", ds, now); err != nil || d.String() != "2026-12-01" {
		t.Errorf("no as_of: got %s, %v; want today in Europe/Berlin, 2026-12-01", d, err)
	}
	if d, err := resolveAsOf("2026-10-01", ds, now); err != nil || d.String() != "2026-10-01" {
		t.Errorf("flag: got %s, %v", d, err)
	}
}

func TestVerifyFixturesPass(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify", "../../fixtures"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "0 problems") {
		t.Errorf("output:\n%s", stdout.String())
	}
}

func TestVerifyReportsDifferencesByBusinessTerm(t *testing.T) {
	dir := datasettest.CopyDir(t, "../../fixtures/scenarios/domestic-19")
	golden := filepath.Join(dir, "expected", "DRAFT-0001.xml")
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("<ram:GrandTotalAmount>110.67</ram:GrandTotalAmount>"), []byte("<ram:GrandTotalAmount>110.66</ram:GrandTotalAmount>"), 1)
	b = bytes.Replace(b, []byte("<ram:LineTotalAmount>21.50</ram:LineTotalAmount>"), []byte("<ram:LineTotalAmount>21.49</ram:LineTotalAmount>"), 1)
	if err := os.WriteFile(golden, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "expected", "DRAFT-0009.xml"), b, 0o644)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"verify", dir}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	out := stdout.String()
	for _, want := range []string{
		"DRAFT-0001: BT-112 total with VAT expected 110.66 got 110.67",
		"DRAFT-0001: BT-131 line net (line 1) expected 21.49 got 21.50",
		"reviewed DRAFT-0009.xml, but the run issues no such document",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

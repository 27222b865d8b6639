package synthetic_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/synthetic"
)

func TestSyntheticDatasetLoadsAndBills(t *testing.T) {
	dir := t.TempDir()
	n, err := synthetic.Write(dir, synthetic.Options{Customers: 400, Events: 20000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatalf("a synthetic dataset must pass the loader: %v", err)
	}
	if len(ds.Customers) != 400 || len(ds.Usage)+ds.Duplicates != n || ds.Duplicates == 0 {
		t.Errorf("%d customers, %d events + %d duplicates, wrote %d", len(ds.Customers), len(ds.Usage), ds.Duplicates, n)
	}
	p, err := jobs.RunPreview(ds, calendar.MustParse("2026-11-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Batch.Invoices) < 300 || len(p.Rating.Problems) != 0 || p.Rating.Counts.Late == 0 || p.Rating.Counts.Marketplace == 0 {
		t.Errorf("%d invoices, %d problems, counts %+v", len(p.Batch.Invoices), len(p.Rating.Problems), p.Rating.Counts)
	}
	// The same seed writes the same files.
	dir2 := t.TempDir()
	synthetic.Write(dir2, synthetic.Options{Customers: 400, Events: 20000, Seed: 7})
	for _, f := range []string{"customers.csv", "usage.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(dir2, f))
		if string(a) != string(b) {
			t.Errorf("%s differs for the same seed", f)
		}
	}
}

package rating_test

import (
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/synthetic"
)

// BenchmarkRating rates a synthetic dataset of 2,000 customers and 1,000,000 usage events
// as of 2026-11-01 (opening state included) and reports usage events per second.
func BenchmarkRating(b *testing.B) {
	dir := b.TempDir()
	if _, err := synthetic.Write(dir, synthetic.Options{Customers: 2000, Events: 1_000_000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	ds, err := dataset.LoadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	asOf := calendar.MustParse("2026-11-01")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res := rating.Run(ds, asOf)
		if len(res.Charges) == 0 {
			b.Fatal("nothing rated")
		}
	}
	b.ReportMetric(float64(len(ds.Usage))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

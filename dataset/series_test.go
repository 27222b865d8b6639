package dataset_test

import (
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
)

func TestSeriesOf(t *testing.T) {
	for _, tt := range []struct {
		template, issue, want string
	}{
		{"RE-{YYYY}-", "2026-12-31", "RE-2026-"},
		{"RE-{YYYY}-", "2027-01-01", "RE-2027-"},
		{"{YYYY}-GS-", "2027-06-30", "2027-GS-"},
		{"RE-2026-", "2027-01-01", "RE-2026-"}, // a fixed prefix stays
	} {
		if got := dataset.SeriesOf(tt.template, calendar.MustParse(tt.issue)); got != tt.want {
			t.Errorf("SeriesOf(%q, %s) = %q, want %q", tt.template, tt.issue, got, tt.want)
		}
	}
}

// TestSeriesChecked: a series may hold {YYYY}; otherwise it is capital letters, digits
// and -, checked as it reads in any year.
func TestSeriesChecked(t *testing.T) {
	for _, tt := range []struct {
		series string
		ok     bool
	}{
		{"RE-{YYYY}-", true},
		{"RE-2026-", true},
		{"re-{YYYY}-", false},
		{"RE-{YY}-", false},
		{"RE-{YYYY}-ABCDEFGHIJKLMNOP", false}, // 21 characters in any year
	} {
		w := datasettest.World{}
		f := w.FS()
		f["seller.json"].Data = []byte(strings.Replace(datasettest.Seller, `"invoice_series": "RE-"`, `"invoice_series": "`+tt.series+`"`, 1))
		_, err := dataset.Load(f)
		if got := err == nil || !strings.Contains(err.Error(), "invoice_series"); got != tt.ok {
			t.Errorf("series %q: accepted %v, want %v (%v)", tt.series, got, tt.ok, err)
		}
	}
}

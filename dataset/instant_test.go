package dataset_test

import (
	"testing"
	"time"

	"github.com/kontor-billing/kontor/dataset"
)

// TestInstant: an instant keeps its time to the nanosecond, and its Unix seconds round
// down, before 1970 too (the date of an instant depends on it).
func TestInstant(t *testing.T) {
	for _, tt := range []struct {
		in   string
		unix int64
	}{
		{"1970-01-01T00:00:00Z", 0},
		{"1970-01-01T00:00:00.999999999Z", 0},
		{"1969-12-31T23:59:59.5Z", -1},
		{"1969-12-31T23:59:59Z", -1},
		{"2026-10-03T10:00:00.25+02:00", 1791014400},
		{"1678-01-01T00:00:00Z", -9214560000},
		{"2261-12-31T23:59:59Z", 9214646399},
	} {
		at, err := time.Parse(time.RFC3339Nano, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		i := dataset.InstantOf(at)
		if !i.Time().Equal(at) || i.Time().Location() != time.UTC {
			t.Errorf("%s: Time() = %v, want the same instant in UTC", tt.in, i.Time())
		}
		if i.Unix() != tt.unix || i.Unix() != at.Unix() {
			t.Errorf("%s: Unix() = %d, want %d (time.Time says %d)", tt.in, i.Unix(), tt.unix, at.Unix())
		}
	}
	if dataset.MinInstant.Year() != 1677 || dataset.MaxInstant.Year() != 2262 {
		t.Errorf("instants from %v to %v", dataset.MinInstant, dataset.MaxInstant)
	}
}

package calendar

import (
	"testing"
	"time"
)

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  Date
		want string
	}{
		{"parse roundtrip", MustParse("2026-11-01"), "2026-11-01"},
		{"add days across year", MustParse("2026-12-31").AddDays(1), "2027-01-01"},
		{"leap day", MustParse("2028-02-28").AddDays(1), "2028-02-29"},
		{"month end february", MustParse("2027-02-10").MonthEnd(), "2027-02-28"},
		{"month end leap february", MustParse("2028-02-10").MonthEnd(), "2028-02-29"},
		{"month start", MustParse("2026-10-15").MonthStart(), "2026-10-01"},
		{"add 12 months", MustParse("2026-11-01").AddMonths(12), "2027-11-01"},
		{"before epoch", MustParse("1969-12-31").AddDays(1), "1970-01-01"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestOfTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-10-31T23:30Z is already 1 November in Berlin (CET, UTC+1).
	ts := time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC)
	if got := Of(ts, berlin).String(); got != "2026-11-01" {
		t.Errorf("Berlin date of %s = %s, want 2026-11-01", ts, got)
	}
	if got := Of(ts, time.UTC).String(); got != "2026-10-31" {
		t.Errorf("UTC date of %s = %s, want 2026-10-31", ts, got)
	}
}

func TestPeriod(t *testing.T) {
	p := Period{MustParse("2026-10-15"), MustParse("2026-10-31")}
	if p.Days() != 17 {
		t.Errorf("days = %d, want 17", p.Days())
	}
	if !p.Contains(MustParse("2026-10-31")) || p.Contains(MustParse("2026-11-01")) || p.Contains(MustParse("2026-10-14")) {
		t.Error("Contains is wrong at the edges")
	}
	if _, err := Parse("2026-13-01"); err == nil {
		t.Error("Parse accepted month 13")
	}
	var z Date
	if !z.IsZero() || z.String() != "" {
		t.Error("zero Date is not unset")
	}
}

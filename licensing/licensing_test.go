package licensing

import (
	"testing"

	"github.com/kontor-billing/kontor/calendar"
)

func TestGracePeriod(t *testing.T) {
	d := calendar.MustParse
	fail := func(inv, on string) Attempt { return Attempt{Invoice: inv, On: d(on)} }
	paid := func(inv, on string) Attempt { return Attempt{Invoice: inv, On: d(on), Paid: true} }
	tests := []struct {
		name     string
		attempts []Attempt
		asOf     string
		want     State
		invoice  string
	}{
		// BILLING-RULES 4: the customer is notified; after a 7-day grace period the license
		// is deactivated; payment within the grace period keeps it active.
		{"no failure", []Attempt{paid("A", "2026-11-01")}, "2026-11-20", Active, ""},
		{"failed: grace on the day", []Attempt{fail("A", "2026-11-01")}, "2026-11-01", Grace, "A"},
		{"still grace on day 7", []Attempt{fail("A", "2026-11-01")}, "2026-11-07", Grace, "A"},
		{"deactivated on day 8 (1 Nov + 7)", []Attempt{fail("A", "2026-11-01")}, "2026-11-08", Deactivated, "A"},
		{"retries do not restart the grace", []Attempt{fail("A", "2026-11-01"), fail("A", "2026-11-05")}, "2026-11-08", Deactivated, "A"},
		{"paid within the grace keeps it active", []Attempt{fail("A", "2026-11-01"), paid("A", "2026-11-06")}, "2026-11-20", Active, ""},
		{"paid after deactivation reactivates", []Attempt{fail("A", "2026-11-01"), paid("A", "2026-11-10")}, "2026-11-10", Active, ""},
		{"a payment not known yet does not count", []Attempt{fail("A", "2026-11-01"), paid("A", "2026-11-10")}, "2026-11-09", Deactivated, "A"},
		{"worst invoice decides", []Attempt{fail("A", "2026-11-01"), paid("A", "2026-11-02"), fail("B", "2026-11-03")}, "2026-11-12", Deactivated, "B"},
		{"failure after a payment starts a new grace", []Attempt{fail("A", "2026-10-01"), paid("A", "2026-10-03"), fail("A", "2026-11-01")}, "2026-11-05", Grace, "A"},
	}
	for _, tt := range tests {
		got := Evaluate(tt.attempts, d(tt.asOf))
		if got.State != tt.want || got.Invoice != tt.invoice {
			t.Errorf("%s: %+v, want %s for %q", tt.name, got, tt.want, tt.invoice)
		}
	}
}

package rating_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
	"github.com/kontor-billing/kontor/rating"
)

// describe writes a charge as "SUB kind period qty x price = net [late] [final]".
func describe(c rating.Charge) string {
	s := fmt.Sprintf("%s %s %s %s x %s = %s", c.SubscriptionID, c.Kind, c.Service, c.Quantity, c.UnitPrice, c.Net.StringFixed(2))
	if c.Late {
		s += " late"
	}
	if c.Final {
		s += " final"
	}
	return s
}

// describeAll describes charges in a stable order (the order of charges is not a rule).
func describeAll(cs []rating.Charge) string {
	var out []string
	for _, c := range cs {
		out = append(out, describe(c))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// sub writes a subscriptions.csv row for customer C-DE; more is trial_start,
// trial_extensions, cancelled_on.
func sub(id, plan, activated string, more ...string) string {
	// id,customer_id,plan_id,channel,partner_id,trial_start,trial_extensions,activated_on,cancelled_on
	trial, ext, cancelled := "", "", ""
	if len(more) > 0 {
		trial = more[0]
	}
	if len(more) > 1 {
		ext = more[1]
	}
	if len(more) > 2 {
		cancelled = more[2]
	}
	return strings.Join([]string{id, "C-DE", plan, "end_customer", "", trial, ext, activated, cancelled}, ",")
}

// TestRules checks each rule of shared/spec/BILLING-RULES.md on a small dataset. Every
// expected amount is worked out by hand in the comment beside it.
func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		world datasettest.World
		asOf  string
		want  []string
	}{
		// 2.1 License methods.
		{
			name:  "2.1 user: licensed users are billed",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-m", "2026-11-01")}, Reports: []string{"S1,2026-10-28,7,12,,"}},
			asOf:  "2026-11-01",
			// 7 licensed users × 10.00 = 70.00
			want: []string{"S1 advance 2026-11-01..2026-11-30 7 x 10 = 70.00"},
		},
		{
			name:  "2.1 user, all_users_must_be_licensed: licensable active users are billed whatever was assigned",
			world: datasettest.World{Subscriptions: []string{sub("S1", "all-m", "2026-11-01")}, Reports: []string{"S1,2026-10-28,5,12,,"}},
			asOf:  "2026-11-01",
			// 12 licensable users (not the 5 assigned) × 10.00 = 120.00
			want: []string{"S1 advance 2026-11-01..2026-11-30 12 x 10 = 120.00"},
		},
		{
			name:  "2.1 company: evaluation companies are never counted",
			world: datasettest.World{Subscriptions: []string{sub("S1", "co-m", "2026-11-01")}, Reports: []string{"S1,2026-10-28,,,5,1"}},
			asOf:  "2026-11-01",
			// 5 companies − 1 evaluation company = 4 × 10.00 = 40.00
			want: []string{"S1 advance 2026-11-01..2026-11-30 4 x 10 = 40.00"},
		},
		{
			name:  "2.1 tenant: quantity 1, no report needed",
			world: datasettest.World{Subscriptions: []string{sub("S1", "t-m", "2026-11-01")}},
			asOf:  "2026-11-01",
			want:  []string{"S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		// 2.2 Subscription charges.
		{
			name:  "2.2 first monthly period prorated by days, then the full month",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-m", "2026-10-15")}, Reports: []string{"S1,2026-10-15,3,,,"}},
			asOf:  "2026-11-01",
			want: []string{
				// 3 × 10.00 × 17/31 (15–31 Oct) = 510/31 = 16.4516… → 16.45
				"S1 advance 2026-10-15..2026-10-31 3 x 10 = 16.45",
				"S1 advance 2026-11-01..2026-11-30 3 x 10 = 30.00",
			},
		},
		{
			name:  "2.2 proration rounds once, half away from zero",
			world: datasettest.World{Subscriptions: []string{sub("S1", "cheap-m", "2026-11-30")}},
			asOf:  "2026-11-30",
			// 0.15 × 1/30 = 0.005 exactly → 0.01 (half away from zero; half-even would give 0.00)
			want: []string{"S1 advance 2026-11-30..2026-11-30 1 x 0.15 = 0.01"},
		},
		{
			name:  "2.2 annual: first period to the end of the month prorated over the 12-month period, then 12 months",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-a", "2026-10-20")}, Reports: []string{"S1,2026-10-20,1,,,"}},
			asOf:  "2026-11-01",
			want: []string{
				// 120.00 × 12/365 (20–31 Oct over 1 Oct 2026–30 Sep 2027) = 3.9452… → 3.95
				"S1 advance 2026-10-20..2026-10-31 1 x 120 = 3.95",
				"S1 advance 2026-11-01..2027-10-31 1 x 120 = 120.00",
			},
		},
		{
			name:  "2.2 annual starting on the 1st: one full 12-month period; nothing due mid-period",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-a", "2026-03-01")}, Reports: []string{"S1,2026-02-20,2,,,"}},
			asOf:  "2027-02-28",
			want:  []string{"S1 advance 2026-03-01..2027-02-28 2 x 120 = 240.00"},
		},
		{
			name:  "2.2 the advance charge is invoiced by the first run on or after the period's first day",
			world: datasettest.World{Subscriptions: []string{sub("S1", "t-m", "2026-12-01")}},
			asOf:  "2026-11-30",
			want:  nil,
		},
		{
			name:  "2.2 a quantity increase within a paid period is charged pro rata for the remaining days",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "u-m", "2026-01-01")}, Reports: []string{"S1,2025-12-20,10,,,", "S1,2026-10-20,14,,,"}},
			asOf:  "2026-11-01",
			want: []string{
				// +4 users × 10.00 × 12/31 (20–31 Oct) = 480/31 = 15.4838… → 15.48
				"S1 increase 2026-10-20..2026-10-31 4 x 10 = 15.48",
				"S1 advance 2026-11-01..2026-11-30 14 x 10 = 140.00",
			},
		},
		{
			name: "2.2 decreases take effect from the next period, no credit; an increase counts from what was billed",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "u-m", "2026-01-01")},
				Reports: []string{"S1,2025-12-20,10,,,", "S1,2026-10-10,12,,,", "S1,2026-10-15,9,,,", "S1,2026-10-20,13,,,", "S1,2026-10-25,8,,,"}},
			asOf: "2026-11-01",
			want: []string{
				// 10→12 on 10 Oct: +2 × 10.00 × 22/31 = 440/31 = 14.1935… → 14.19
				"S1 increase 2026-10-10..2026-10-31 2 x 10 = 14.19",
				// 12→9 on 15 Oct: no credit; 9→13 on 20 Oct: +1 over the 12 billed × 10.00 × 12/31 = 3.8709… → 3.87
				"S1 increase 2026-10-20..2026-10-31 1 x 10 = 3.87",
				// 13→8 on 25 Oct: November is billed at 8
				"S1 advance 2026-11-01..2026-11-30 8 x 10 = 80.00",
			},
		},
		// 2.3 Trials.
		{
			name:  "2.3 billing starts the day after a 30-day trial",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-m", "2026-10-05", "2026-09-20")}, Reports: []string{"S1,2026-10-19,2,,,"}},
			asOf:  "2026-11-01",
			want: []string{
				// trial 20 Sep + 29 days = 19 Oct; billing from 20 Oct: 2 × 10.00 × 12/31 = 7.7419… → 7.74
				"S1 advance 2026-10-20..2026-10-31 2 x 10 = 7.74",
				"S1 advance 2026-11-01..2026-11-30 2 x 10 = 20.00",
			},
		},
		{
			name:  "2.3 a trial extended once runs 40 days; nothing is charged during it",
			world: datasettest.World{Subscriptions: []string{sub("S1", "t-m", "2026-10-01", "2026-09-25", "1")}},
			asOf:  "2026-11-03",
			// 25 Sep + 39 days = 3 Nov: still in trial
			want: nil,
		},
		{
			name:  "2.3 after an extended trial billing starts on day 41",
			world: datasettest.World{Subscriptions: []string{sub("S1", "t-m", "2026-10-01", "2026-09-25", "1")}},
			asOf:  "2026-11-04",
			// 10.00 × 27/30 (4–30 Nov) = 9.00
			want: []string{"S1 advance 2026-11-04..2026-11-30 1 x 10 = 9.00"},
		},
		{
			name: "2.3 a trial that ends without activation invoices nothing; its usage is not billed",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-m", "", "2026-09-01")}, Reports: []string{"S1,2026-09-01,3,,,"},
				Usage: []string{"E1,S1,calls,5000,2026-09-10T10:00:00+02:00,,"}},
			asOf: "2026-11-01",
			want: nil,
		},
		{
			name: "2.3 usage during the trial is not billed",
			world: datasettest.World{Subscriptions: []string{sub("S1", "u-m", "2026-09-15", "2026-09-15")}, Reports: []string{"S1,2026-09-15,1,,,"},
				Usage: []string{"E1,S1,calls,5000,2026-10-14T10:00:00+02:00,,", "E2,S1,calls,600,2026-10-15T10:00:00+02:00,,"}},
			asOf: "2026-11-01",
			want: []string{
				// trial 15 Sep–14 Oct; billing from 15 Oct: 10.00 × 17/31 = 5.4838… → 5.48
				"S1 advance 2026-10-15..2026-10-31 1 x 10 = 5.48",
				// only E2 counts (E1 is trial usage): 600 − 500 included = 100 × 0.05 = 5.00
				"S1 overage 2026-10-15..2026-10-31 100 x 0.05 = 5.00",
				"S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00",
			},
		},
		// 2.4 Usage and overage.
		{
			name: "2.4 overage beyond the included units is billed with the following period's invoice",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Usage: []string{"E1,S1,checks,700,2026-10-03T10:00:00+02:00,,", "E2,S1,checks,600,2026-10-30T10:00:00+01:00,,"}},
			asOf: "2026-11-01",
			want: []string{
				// 1300 − 1000 included = 300 × 0.0275 = 8.25
				"S1 overage 2026-10-01..2026-10-31 300 x 0.0275 = 8.25",
				"S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00",
			},
		},
		{
			name: "2.4 usage of a period that has not ended is not billed yet",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Usage: []string{"E1,S1,checks,1700,2026-10-03T10:00:00+02:00,,"}},
			asOf: "2026-10-31",
			want: nil,
		},
		{
			name: "2.4 PSP orders initiated via the app count 1/10, as exact decimals",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "bank-m", "2026-01-01")},
				Usage: []string{
					"E1,S1,payments,15,2026-10-03T10:00:00+02:00,,true", // 15 PSP orders = 1.5
					"E2,S1,payments,5,2026-10-04T10:00:00+02:00,,false", // SEPA transfers count 1 each
					"E3,S1,payments,3,2026-10-05T10:00:00+02:00,,",      // PSP orders not via the app count 1
				}},
			asOf: "2026-11-01",
			want: []string{
				// 1.5 + 5 + 3 = 9.5 units, none included, × 1.00 = 9.50
				"S1 overage 2026-10-01..2026-10-31 9.5 x 1 = 9.50",
				"S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00",
			},
		},
		{
			name: "2.4 a duplicate event ID is counted once",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "bank-m", "2026-01-01")},
				Usage:  []string{"E1,S1,payments,4,2026-10-03T10:00:00+02:00,,", "E1,S1,payments,4,2026-10-03T10:00:00+02:00,,"},
				Usage2: []string{"E1,S1,payments,4,2026-10-03T10:00:00+02:00,2026-10-05T00:00:00+02:00,"}},
			asOf: "2026-11-01",
			// E1 three times = 4 units, × 1.00 = 4.00
			want: []string{"S1 overage 2026-10-01..2026-10-31 4 x 1 = 4.00", "S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		{
			name: "2.4 an event belongs to the period of its local time in the billing time zone",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "bank-m", "2026-01-01")},
				Usage: []string{
					"E1,S1,payments,1,2026-10-31T23:30:00+01:00,,", // 31 Oct in Berlin: October
					"E2,S1,payments,2,2026-10-31T23:30:00Z,,",      // 1 Nov 00:30 in Berlin: November, not billed yet
					"E3,S1,payments,4,2026-09-30T22:30:00Z,,",      // 1 Oct 00:30 in Berlin: October
				}},
			asOf: "2026-11-01",
			// E1 + E3 = 5 units × 1.00
			want: []string{"S1 overage 2026-10-01..2026-10-31 5 x 1 = 5.00", "S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		{
			name: "2.4 an event that arrives after its period was billed is billed on the next invoice, marked late",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Usage: []string{
					"E1,S1,checks,1020,2026-09-10T10:00:00+02:00,,",                        // billed on 1 Oct: 20 over
					"E2,S1,checks,40,2026-09-29T10:00:00+02:00,2026-10-06T08:00:00+02:00,", // arrived 6 Oct: late
				}},
			asOf: "2026-11-01",
			want: []string{
				// September: 1020 counted before; with the late 40, 1060 − 1000 = 60 overage, 20 billed
				// before → 40 × 0.0275 = 1.10
				"S1 overage 2026-09-01..2026-09-30 40 x 0.0275 = 1.10 late",
				"S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00",
			},
		},
		{
			name: "2.4 late events fill the included units first",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Usage: []string{
					"E1,S1,checks,900,2026-09-10T10:00:00+02:00,,",
					"E2,S1,checks,150,2026-09-29T10:00:00+02:00,2026-10-06T08:00:00+02:00,",
				}},
			asOf: "2026-11-01",
			// 900 + 150 = 1050 − 1000 included = 50 × 0.0275 = 1.375 → 1.38
			want: []string{"S1 overage 2026-09-01..2026-09-30 50 x 0.0275 = 1.38 late", "S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		// 2.5 Spending limits.
		{
			name: "2.5 usage is billed at most up to the spending limit, included usages counted",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Limits: []string{"S1,checks,1500"},
				Usage:  []string{"E1,S1,checks,1800,2026-10-03T10:00:00+02:00,,"}},
			asOf: "2026-11-01",
			// min(1800, 1500) − 1000 = 500 × 0.0275 = 13.75; 300 blocked
			want: []string{"S1 overage 2026-10-01..2026-10-31 500 x 0.0275 = 13.75", "S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		{
			name: "2.5 a limit of 0 means no limit",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Limits: []string{"S1,checks,0.00"},
				Usage:  []string{"E1,S1,checks,1800,2026-10-03T10:00:00+02:00,,"}},
			asOf: "2026-11-01",
			// 1800 − 1000 = 800 × 0.0275 = 22.00
			want: []string{"S1 overage 2026-10-01..2026-10-31 800 x 0.0275 = 22.00", "S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		{
			name: "2.5 late usage is billed only up to the limit too",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
				Limits: []string{"S1,checks,1500"},
				Usage: []string{
					"E1,S1,checks,1400,2026-09-10T10:00:00+02:00,,",
					"E2,S1,checks,300,2026-09-29T10:00:00+02:00,2026-10-06T08:00:00+02:00,",
				}},
			asOf: "2026-11-01",
			// before: 400 overage; now min(1700, 1500) − 1000 = 500: +100 × 0.0275 = 2.75; 200 blocked
			want: []string{"S1 overage 2026-09-01..2026-09-30 100 x 0.0275 = 2.75 late", "S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00"},
		},
		// 4 Cancellation.
		{
			name: "4 cancellation takes effect at the end of the period: no further advance, pending overage on a final invoice",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01", "", "", "2026-10-12")},
				Usage: []string{"E1,S1,checks,1100,2026-10-20T10:00:00+02:00,,", "E2,S1,checks,5,2026-11-02T10:00:00+01:00,,"}},
			asOf: "2026-12-01",
			// October: 100 × 0.0275 = 2.75, final; no advance for November or December; E2 is after the end
			want: []string{"S1 overage 2026-10-01..2026-10-31 100 x 0.0275 = 2.75 final"},
		},
		{
			name:  "4 a cancellation on the 1st still bills that month",
			world: datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01", "", "", "2026-11-01")}},
			asOf:  "2026-11-01",
			want:  []string{"S1 advance 2026-11-01..2026-11-30 1 x 10 = 10.00 final"},
		},
		{
			name:  "4 cancelled during the trial: nothing is billed",
			world: datasettest.World{Subscriptions: []string{sub("S1", "t-m", "2026-10-01", "2026-09-25", "", "2026-10-10")}},
			asOf:  "2026-12-01",
			want:  nil,
		},
		// 5 Runs.
		{
			name:  "5 a run as of the date already billed bills nothing again",
			world: datasettest.World{BilledAsOf: "2026-11-01", Subscriptions: []string{sub("S1", "u-m", "2026-10-15")}, Reports: []string{"S1,2026-10-15,3,,,"}},
			asOf:  "2026-11-01",
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := tt.world.Load(t)
			res := rating.Run(ds, calendar.MustParse(tt.asOf))
			if len(res.Problems) > 0 {
				t.Fatalf("problems: %v", res.Problems)
			}
			want := append([]string(nil), tt.want...)
			sort.Strings(want)
			got := describeAll(res.Charges)
			if got != strings.Join(want, "\n") {
				t.Errorf("charges as of %s:\ngot:\n%s\nwant:\n%s", tt.asOf, got, strings.Join(want, "\n"))
			}
			for _, c := range res.Charges {
				if c.Net.IsNegative() {
					t.Errorf("negative charge %s", describe(c))
				}
			}
		})
	}
}

func TestSpendingLimitReportsBlockedUnits(t *testing.T) {
	// BILLING-RULES 2.5: usage beyond the limit is not billed and is reported as blocked.
	w := datasettest.World{BilledAsOf: "2026-10-01", Subscriptions: []string{sub("S1", "t-m", "2026-01-01")},
		Limits: []string{"S1,checks,1500"}, Usage: []string{"E1,S1,checks,1800,2026-10-03T10:00:00+02:00,,"}}
	res := rating.Run(w.Load(t), calendar.MustParse("2026-11-01"))
	if len(res.Usage) != 1 {
		t.Fatalf("usage summaries: %+v", res.Usage)
	}
	u := res.Usage[0]
	if u.Blocked.String() != "300" || u.Overage.String() != "500" || u.Units.String() != "1800" {
		t.Errorf("units %s overage %s blocked %s, want 1800, 500, 300", u.Units, u.Overage, u.Blocked)
	}
	if res.Counts.UnitsBlocked.String() != "300" {
		t.Errorf("run reports %s blocked units, want 300", res.Counts.UnitsBlocked)
	}
}

func TestMissingLicenseReportIsAProblemForThatSubscriptionOnly(t *testing.T) {
	// BILLING-RULES 2.1: only counts leave the customer's environment; without a report the
	// quantity is unknown. The subscription is reported; the others are rated.
	w := datasettest.World{Subscriptions: []string{sub("S1", "u-m", "2026-11-01"), sub("S2", "t-m", "2026-11-01")}}
	res := rating.Run(w.Load(t), calendar.MustParse("2026-11-01"))
	if len(res.Problems) != 1 || res.Problems[0].SubscriptionID != "S1" || !strings.Contains(res.Problems[0].Reason, "no license report") {
		t.Fatalf("problems = %v, want one for S1 naming the missing license report", res.Problems)
	}
	if got := describeAll(res.Charges); got != "S2 advance 2026-11-01..2026-11-30 1 x 10 = 10.00" {
		t.Errorf("charges = %s", got)
	}
}

func TestExtendTrialOnce(t *testing.T) {
	// BILLING-RULES 2.3: a trial can be extended once by 10 days; a second extension is refused.
	s := dataset.Subscription{ID: "S1", TrialStart: calendar.MustParse("2026-10-01")}
	once, err := rating.ExtendTrial(s, calendar.MustParse("2026-10-20"))
	if err != nil {
		t.Fatalf("first extension refused: %v", err)
	}
	if got := rating.TrialEnd(&once).String(); got != "2026-11-09" {
		t.Errorf("extended trial ends %s, want 2026-11-09 (1 Oct + 39 days)", got)
	}
	_, err = rating.ExtendTrial(once, calendar.MustParse("2026-10-25"))
	if err == nil || !strings.Contains(err.Error(), "already extended once") {
		t.Errorf("second extension: err = %v, want a refusal", err)
	}
	if _, err := rating.ExtendTrial(s, calendar.MustParse("2026-11-01")); err == nil {
		t.Error("extension after the trial ended was accepted")
	}
	if _, err := rating.ExtendTrial(dataset.Subscription{ID: "S2"}, calendar.MustParse("2026-11-01")); err == nil {
		t.Error("extension of a subscription without trial was accepted")
	}
}

func TestCountsSubscriptionsNotBilledYet(t *testing.T) {
	// BILLING-RULES 2.3: an activated subscription still in its (extended) trial has a billing
	// start in the future: nothing is billed as of the run date, and the run says so.
	w := datasettest.World{Subscriptions: []string{
		sub("S1", "t-m", "2026-10-20", "2026-09-25", "1"), // trial to 3 Nov, billing from 4 Nov
		sub("S2", "t-m", "", "2026-09-01"),                // lapsed trial
		sub("S3", "t-m", "2026-11-01"),
	}}
	res := rating.Run(w.Load(t), calendar.MustParse("2026-11-01"))
	if res.Counts.NotBilled != 2 || res.Counts.Subscriptions != 3 || len(res.Charges) != 1 {
		t.Errorf("counts %+v, %d charges; want 2 of 3 not billed, 1 charge", res.Counts, len(res.Charges))
	}
}

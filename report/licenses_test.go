package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset/datasettest"
	"github.com/kontor-billing/kontor/report"
	"github.com/kontor-billing/kontor/report/reporttest"
)

func world(t *testing.T) datasettest.World {
	return datasettest.World{
		Subscriptions: []string{
			"S-U,C-DE,u-m,end_customer,,,,2026-09-01,",           // users, paid from September
			"S-ALL,C-AT,all-m,end_customer,,,,2026-09-01,",       // must license all users: provisioned = licensable
			"S-CO,C-DE,co-m,end_customer,,,,2026-10-15,",         // companies, from 15 October
			"S-T,C-CH,t-m,end_customer,,,,2026-09-01,2026-10-10", // tenant, cancelled: ends 31 October
			"S-TR,C-AT,u-m,end_customer,,2026-10-20,,,",          // trial from 20 October (30 days)
			"S-NR,C-DE,u-m,end_customer,,,,2026-09-01,",          // paid, never reported
		},
		Reports: []string{
			"S-U,2026-08-28,5,9,,",
			"S-U,2026-10-05,7,9,,",
			"S-ALL,2026-08-30,3,12,,",
			"S-CO,2026-10-15,,,4,1",
			"S-TR,2026-10-20,2,4,,",
		},
	}
}

func TestLicenses(t *testing.T) {
	ds := world(t).Load(t)
	type count struct{ subs, trials, prov, assigned, licensable, unreported int }
	tests := []struct {
		by   string
		want map[string]count // "date group unit"
	}{
		{"app", map[string]count{
			"2026-09-30 plain users":     {2, 0, 5, 5, 9, 1},
			"2026-09-30 print users":     {1, 0, 12, 3, 12, 0},
			"2026-09-30 plain tenants":   {1, 0, 1, 1, 1, 0},
			"2026-10-31 plain users":     {2, 1, 7, 7, 9, 1},
			"2026-10-31 print users":     {1, 0, 12, 3, 12, 0},
			"2026-10-31 plain companies": {1, 0, 3, 3, 3, 0},
			"2026-10-31 plain tenants":   {1, 0, 1, 1, 1, 0},
			"2026-11-15 plain users":     {2, 1, 7, 7, 9, 1},
			"2026-11-15 print users":     {1, 0, 12, 3, 12, 0},
			"2026-11-15 plain companies": {1, 0, 3, 3, 3, 0},
		}},
		{"country", map[string]count{
			"2026-09-30 DE users":     {2, 0, 5, 5, 9, 1},
			"2026-09-30 AT users":     {1, 0, 12, 3, 12, 0},
			"2026-09-30 CH tenants":   {1, 0, 1, 1, 1, 0},
			"2026-10-31 DE users":     {2, 0, 7, 7, 9, 1},
			"2026-10-31 AT users":     {1, 1, 12, 3, 12, 0},
			"2026-10-31 DE companies": {1, 0, 3, 3, 3, 0},
			"2026-10-31 CH tenants":   {1, 0, 1, 1, 1, 0},
			"2026-11-15 DE users":     {2, 0, 7, 7, 9, 1},
			"2026-11-15 AT users":     {1, 1, 12, 3, 12, 0},
			"2026-11-15 DE companies": {1, 0, 3, 3, 3, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.by, func(t *testing.T) {
			rows, err := report.Licenses(ds, calendar.MustParse("2026-09-10"), calendar.MustParse("2026-11-15"), tc.by)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]count{}
			for _, r := range rows {
				got[r.On.String()+" "+r.Group+" "+r.Unit] = count{r.Subscriptions, r.Trials, int(r.Provisioned), int(r.Assigned), int(r.Licensable), r.Unreported}
			}
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s: %+v, want %+v", k, got[k], w)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d rows, want %d: %v", len(got), len(tc.want), got)
			}
		})
	}
	if _, err := report.Licenses(ds, calendar.MustParse("2026-09-10"), calendar.MustParse("2026-11-15"), "plan"); err == nil {
		t.Error("--by plan accepted")
	}
}

func TestLicensesOutputs(t *testing.T) {
	ds := world(t).Load(t)
	from, to := calendar.MustParse("2026-09-01"), calendar.MustParse("2026-11-30")
	rows, err := report.Licenses(ds, from, to, "country")
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := report.LicensesTable(&table, rows, "country"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "2026-09-30       AT      users") {
		t.Errorf("table:\n%s", table.String())
	}
	csv, err := report.LicensesCSV(rows, "country")
	if err != nil || !strings.HasPrefix(string(csv), "date,country,unit,subscriptions,trials,provisioned,assigned,licensable,unreported\n2026-09-30,AT,users,1,0,12,3,12,0\n") {
		t.Errorf("csv (%v):\n%s", err, csv)
	}
	html, err := report.LicensesHTML(rows, "country", from, to)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "licenses.html")
	if err := os.WriteFile(path, html, 0o644); err != nil {
		t.Fatal(err)
	}
	page := reporttest.Open(t, path)
	if len(page.Problems) > 0 {
		t.Errorf("problems in Chromium: %v", page.Problems)
	}
	page.Save(t, "licenses.png")
	var charts int
	page.Evaluate(t, `document.querySelectorAll('svg.chart').length`, &charts)
	if charts != 5 { // users, companies, tenants over time; users and companies per country (no tenant is left on 30 November)
		t.Errorf("%d charts, want 5", charts)
	}
}

package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"

	_ "embed"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// LicenseRow counts the licenses of one group (a country or an app) in one unit (users,
// companies, tenants) on one day.
type LicenseRow struct {
	On    calendar.Date
	Group string // country code or app ID
	Unit  string // users, companies, tenants
	// Subscriptions are the paid subscriptions (in a billing period on the day); Trials
	// those in their trial.
	Subscriptions, Trials int
	// Provisioned is what is billed: the quantity the latest license report gives under
	// the plan's license method (BILLING-RULES 2.1). Assigned is what customers assigned:
	// licensed users, licensed companies (without evaluation companies), tenants.
	// Licensable is what could be licensed: licensable users, companies, tenants.
	Provisioned, Assigned, Licensable int64
	// Unreported are paid subscriptions without a license report on or before the day.
	Unreported int
}

// LicenseGroups are the groupings of the license report.
var LicenseGroups = []string{"country", "app"}

// Licenses counts provisioned and assigned licenses from the license reports, on the last
// day of each month from `from` to `to` (and on `to`), grouped by the customer's country
// or by app. Subscriptions of every channel count, marketplace ones too: their licenses
// are provisioned even though Microsoft bills them.
func Licenses(ds *dataset.Dataset, from, to calendar.Date, by string) ([]LicenseRow, error) {
	if by != "country" && by != "app" {
		return nil, fmt.Errorf("license report: --by %q: want country or app", by)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("license report: %s..%s ends before it starts", from, to)
	}
	var days []calendar.Date
	for d := from.MonthEnd(); ; d = d.AddDays(1).MonthEnd() {
		if !d.Before(to) {
			days = append(days, to)
			break
		}
		days = append(days, d)
	}
	rows := map[licenseKey]*LicenseRow{}
	for _, s := range ds.Subscriptions {
		p, ok := ds.Catalog.PlanByID[s.PlanID]
		if !ok {
			continue
		}
		group := p.App
		if by == "country" {
			group = "?"
			if c, ok := ds.CustomerByID[s.CustomerID]; ok {
				group = c.Country
			}
		}
		unit := licenseUnits[p.LicenseMethod]
		for _, on := range days {
			countLicenses(rows, ds, s, p, on, licenseKey{on, group, unit})
		}
	}
	out := make([]LicenseRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.On != b.On {
			return a.On.Before(b.On)
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Unit < b.Unit
	})
	return out, nil
}

// licenseUnits names what a plan's license method counts.
var licenseUnits = map[dataset.LicenseMethod]string{dataset.PerUser: "users", dataset.PerCompany: "companies", dataset.PerTenant: "tenants"}

// licenseKey is a row of the license report: a day, a group and a unit.
type licenseKey struct {
	on          calendar.Date
	group, unit string
}

// countLicenses adds subscription s (of plan p) to row k on day on, if it is paid or in
// its trial then: its licenses as its latest license report on or before the day gives.
func countLicenses(rows map[licenseKey]*LicenseRow, ds *dataset.Dataset, s *dataset.Subscription, p *dataset.Plan, on calendar.Date, k licenseKey) {
	sc := rating.ScheduleOf(s, p, on)
	_, paid := sc.PeriodAt(on)
	trial := !paid && !s.TrialStart.IsZero() && !s.TrialStart.After(on) && !sc.TrialEnd.Before(on)
	if !paid && !trial {
		return
	}
	r := rows[k]
	if r == nil {
		r = &LicenseRow{On: on, Group: k.group, Unit: k.unit}
		rows[k] = r
	}
	if trial {
		r.Trials++
		return
	}
	r.Subscriptions++
	if p.LicenseMethod == dataset.PerTenant {
		r.Provisioned++
		r.Assigned++
		r.Licensable++
		return
	}
	var latest *dataset.LicenseReport
	reports := ds.LicenseReports[s.ID]
	for i := range reports {
		if !reports[i].ReportedOn.After(on) {
			latest = &reports[i]
		}
	}
	if latest == nil {
		r.Unreported++
		return
	}
	r.Provisioned += rating.LicenseQuantity(p, ds.Catalog.AppByID[p.App], *latest)
	if p.LicenseMethod == dataset.PerUser {
		r.Assigned += int64(max(latest.LicensedUsers, 0))
		r.Licensable += int64(max(latest.LicensableUsers, 0))
	} else {
		n := int64(max(latest.Companies, 0) - max(latest.EvaluationCompanies, 0))
		r.Assigned += n
		r.Licensable += n
	}
}

var licenseColumns = []string{"date", "group", "unit", "subscriptions", "trials", "provisioned", "assigned", "licensable", "unreported"}

func (r LicenseRow) fields() []string {
	return []string{r.On.String(), r.Group, r.Unit, strconv.Itoa(r.Subscriptions), strconv.Itoa(r.Trials),
		strconv.FormatInt(r.Provisioned, 10), strconv.FormatInt(r.Assigned, 10), strconv.FormatInt(r.Licensable, 10), strconv.Itoa(r.Unreported)}
}

// LicensesTable writes the rows as an aligned text table.
func LicensesTable(w io.Writer, rows []LicenseRow, by string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := append([]string(nil), licenseColumns...)
	head[1] = by
	for _, h := range head {
		fmt.Fprintf(tw, "%s\t", h)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		for _, f := range r.fields() {
			fmt.Fprintf(tw, "%s\t", f)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// LicensesCSV writes the rows as CSV with a header.
func LicensesCSV(rows []LicenseRow, by string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := append([]string(nil), licenseColumns...)
	head[1] = by
	w.Write(head)
	for _, r := range rows {
		w.Write(r.fields())
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

//go:embed licenses.html
var licensesHTML string

var licensesTemplate = template.Must(template.New("licenses").Parse(styleHTML + licensesHTML))

// LicensesHTML renders the rows as a self-contained HTML page: for each unit, a chart of
// provisioned and assigned licenses over time and one per group on the last day, and the
// table.
func LicensesHTML(rows []LicenseRow, by string, from, to calendar.Date) ([]byte, error) {
	units := map[string]bool{}
	var last calendar.Date
	for _, r := range rows {
		units[r.Unit] = true
		if r.On.After(last) {
			last = r.On
		}
	}
	var charts []template.HTML
	for _, unit := range sortedKeys(units) {
		over := chart{Title: fmt.Sprintf("Licensed %s over time (all %ss)", unit, by), Series: []string{"provisioned", "assigned"}}
		byDay := map[calendar.Date][2]int64{}
		var days []calendar.Date
		for _, r := range rows {
			if r.Unit != unit {
				continue
			}
			v, seen := byDay[r.On]
			if !seen {
				days = append(days, r.On)
			}
			byDay[r.On] = [2]int64{v[0] + r.Provisioned, v[1] + r.Assigned}
		}
		for _, d := range days {
			v := byDay[d]
			over.Rows = append(over.Rows, countRow(d.String(), v[0], v[1]))
		}
		charts = append(charts, over.svg())
		now := chart{Title: fmt.Sprintf("Licensed %s per %s on %s", unit, by, last), Series: []string{"provisioned", "assigned"}}
		for _, r := range rows {
			if r.Unit == unit && r.On == last {
				now.Rows = append(now.Rows, countRow(r.Group, r.Provisioned, r.Assigned))
			}
		}
		if len(now.Rows) > 0 {
			charts = append(charts, now.svg())
		}
	}
	var b bytes.Buffer
	err := licensesTemplate.Execute(&b, map[string]any{"Rows": rows, "By": by, "From": from, "To": to, "Charts": charts})
	if err != nil {
		return nil, fmt.Errorf("license report: %w", err)
	}
	return b.Bytes(), nil
}

func countRow(label string, values ...int64) chartRow {
	r := chartRow{Label: label}
	for _, v := range values {
		r.Values = append(r.Values, decimal.NewFromInt(v))
		r.Texts = append(r.Texts, strconv.FormatInt(v, 10))
	}
	return r
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

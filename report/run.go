// Package report turns what a run did, and what the license reports say, into documents
// for finance: a self-contained HTML run report with inline SVG charts, and license tables.
// It is pure: its inputs are gathered by jobs, its outputs are bytes.
package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/openitems"
	"github.com/kontor-billing/kontor/rating"
	"github.com/shopspring/decimal"
)

// Document is a document a run issued.
type Document struct {
	Number string
	Type   invoice.DocumentType
	Buyer  string // kind and ID: customer C-001
	// BuyerName is the buyer's name as invoiced.
	BuyerName string
	Currency  string
	Net       decimal.Decimal
	VAT       decimal.Decimal
	Gross     decimal.Decimal
}

// Usage is the usage of one type a run rated, in weighted units.
type Usage struct {
	Type    string
	Events  int64
	Units   decimal.Decimal
	Overage decimal.Decimal
	Blocked decimal.Decimal
	Late    decimal.Decimal
}

// LicenseChange is a license state a run changed.
type LicenseChange struct {
	Customer, State, Invoice string
}

// RunFacts are the facts of one run.
type RunFacts struct {
	ID      int64
	AsOf    calendar.Date
	Started time.Time
	Seconds float64
	// Totals are the run summary's totals per currency.
	Totals    []invoice.CurrencyTotal
	Documents []Document
	// Charges are the charges on Documents, summed by plan, currency and kind.
	Charges  []Charges
	Usage    []Usage
	Counts   rating.Counts
	Skipped  []invoice.Skipped
	Licenses []LicenseChange
	// StripeCharges are the run's charges of stored payment methods; CannotCharge the invoices
	// it could not charge for want of Stripe IDs; ChargingOff how many it left open
	// because charging is off.
	StripeCharges []Charge
	CannotCharge  []Charge
	ChargingOff   int
	// Ageing is what was open after the run, by age band and currency.
	Ageing []openitems.Bucket
}

// Charge is an invoice's charge through Stripe, or one that could not be made.
type Charge struct {
	Invoice, Customer, Method, Status, Failure string
}

// Charges sums the charges of one plan, currency and kind.
type Charges struct {
	PlanID   string
	Currency string
	Kind     rating.Kind
	Net      decimal.Decimal
	Count    int
}

// RunInput is what the run report shows: the run, the one before it (if any) and the
// dataset the subscriptions and app names come from.
type RunInput struct {
	Run      RunFacts
	Previous *RunFacts
	// Dataset gives the app names (its catalog) and, unless Changes is set, the
	// subscription changes.
	Dataset *dataset.Dataset
	// Changes, when set, are the subscription changes in ChangesWindow, gathered from
	// the dataset part by part (a run does not hold the whole dataset).
	Changes *Changes
}

// Changes are the subscriptions whose billing started in a window, those cancelled in it
// and the trials running on its last day.
type Changes struct {
	New, Cancelled, Trials []SubRow
}

// ChangesWindow returns the window whose subscription changes the report of a run as of
// asOf lists: since the previous run (as of previous; zero: none), or the month before
// the as-of date for the first run.
func ChangesWindow(asOf, previous calendar.Date) calendar.Period {
	w := calendar.Period{Start: asOf.AddMonths(-1).AddDays(1), End: asOf}
	if !previous.IsZero() && previous.Before(asOf) {
		w.Start = previous.AddDays(1)
	}
	return w
}

// Add adds the changes in window w of the subscriptions of ds (the whole dataset or a
// part of it; ds must hold each subscription's customer). The report lists them in the
// order of the subscriptions' lines in the dataset, whatever order the parts came in.
func (c *Changes) Add(ds *dataset.Dataset, w calendar.Period) {
	in := func(d calendar.Date) bool { return !d.IsZero() && !d.Before(w.Start) && !d.After(w.End) }
	for _, s := range ds.Subscriptions {
		p, ok := ds.Catalog.PlanByID[s.PlanID]
		if !ok {
			continue
		}
		row := SubRow{ID: s.ID, Customer: s.CustomerID, Plan: p.Name, App: p.App, line: s.Line}
		if c, ok := ds.CustomerByID[s.CustomerID]; ok {
			row.Customer = c.Name
		}
		sc := rating.ScheduleOf(s, p, w.End)
		if in(sc.Start) {
			r := row
			r.Date = sc.Start
			c.New = append(c.New, r)
		}
		if in(s.CancelledOn) {
			r := row
			r.Date = s.CancelledOn
			c.Cancelled = append(c.Cancelled, r)
		}
		if !s.TrialStart.IsZero() && !s.TrialStart.After(w.End) && !sc.TrialEnd.Before(w.End) {
			r := row
			r.Date = sc.TrialEnd
			c.Trials = append(c.Trials, r)
		}
	}
}

//go:embed run.html
var runHTML string

//go:embed style.html
var styleHTML string

var runTemplate = template.Must(template.New("run").Funcs(template.FuncMap{
	"money": func(d decimal.Decimal) string { return d.StringFixed(2) },
	"units": func(d decimal.Decimal) string { return d.String() },
	// docType names a document type, its code beside: "Invoice (380)".
	"docType": func(t invoice.DocumentType) string {
		name := invoice.DocumentTypes.Name(t)
		if name == "" {
			return string(t)
		}
		return strings.ToUpper(name[:1]) + name[1:] + " (" + string(t) + ")"
	},
}).Parse(styleHTML + runHTML))

// RunHTML renders the run report: one HTML file with inline CSS and SVG, no scripts and no
// external resources (its Content-Security-Policy forbids them), so it opens offline.
func RunHTML(in RunInput) ([]byte, error) {
	v := runView(in)
	var b bytes.Buffer
	if err := runTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("run report %d: %w", in.Run.ID, err)
	}
	return b.Bytes(), nil
}

type view struct {
	Run       RunFacts
	Previous  *RunFacts
	Window    calendar.Period
	Currency  []currencyRow
	Apps      []appRow
	Usage     []usageRow
	New       []SubRow
	Cancelled []SubRow
	Trials    []SubRow
	// Charts, each shown in its section.
	TotalsChart template.HTML
	AppCharts   []template.HTML
	UsageChart  template.HTML
	Invoices    int
	Credits     int
}

type currencyRow struct {
	invoice.CurrencyTotal
	Prev        invoice.CurrencyTotal
	HasPrev     bool
	Change      decimal.Decimal // gross, this run minus the previous one
	ChangeShare string          // Change as a percentage of the previous gross ("" when undefined)
}

type appRow struct {
	App, Name, Currency      string
	Advance, Increase, Usage decimal.Decimal
	Net, PrevNet             decimal.Decimal
	Charges                  int
}

type usageRow struct {
	Usage
	Included decimal.Decimal // units within the included units: Units − Overage − Blocked
}

// SubRow is a subscription in the report's lists of changes.
type SubRow struct {
	ID, Customer, Plan, App string
	Date                    calendar.Date
	line                    int // the subscription's line in the dataset: the lists' order
}

func runView(in RunInput) view {
	r := in.Run
	v := view{Run: r, Previous: in.Previous}
	for _, d := range r.Documents {
		if d.Type == invoice.CreditNote {
			v.Credits++
		} else {
			v.Invoices++
		}
	}
	var prevAsOf calendar.Date
	if in.Previous != nil {
		prevAsOf = in.Previous.AsOf
	}
	v.Window = ChangesWindow(r.AsOf, prevAsOf)

	prevTotals := map[string]invoice.CurrencyTotal{}
	if in.Previous != nil {
		for _, t := range in.Previous.Totals {
			prevTotals[t.Currency] = t
		}
	}
	seen := map[string]bool{}
	for _, t := range r.Totals {
		row := currencyRow{CurrencyTotal: t}
		row.Prev, row.HasPrev = prevTotals[t.Currency]
		seen[t.Currency] = true
		v.Currency = append(v.Currency, row)
	}
	for _, t := range sortedTotals(prevTotals) {
		if !seen[t.Currency] {
			v.Currency = append(v.Currency, currencyRow{CurrencyTotal: invoice.CurrencyTotal{Currency: t.Currency,
				Net: decimal.Zero, VAT: decimal.Zero, Gross: decimal.Zero}, Prev: t, HasPrev: true})
		}
	}
	for i := range v.Currency {
		c := &v.Currency[i]
		if c.HasPrev {
			c.Change = c.Gross.Sub(c.Prev.Gross)
			if !c.Prev.Gross.IsZero() {
				c.ChangeShare = c.Change.Mul(decimal.NewFromInt(100)).Div(c.Prev.Gross).StringFixed(1) + " %"
			}
		}
	}

	v.Apps = appRows(in.Dataset, r.Charges, in.Previous)
	for _, u := range r.Usage {
		v.Usage = append(v.Usage, usageRow{Usage: u, Included: u.Units.Sub(u.Overage).Sub(u.Blocked)})
	}
	changes := in.Changes
	if changes == nil {
		changes = &Changes{}
		if in.Dataset != nil {
			changes.Add(in.Dataset, v.Window)
		}
	}
	for _, rows := range [][]SubRow{changes.New, changes.Cancelled, changes.Trials} {
		slices.SortFunc(rows, func(a, b SubRow) int { return cmp.Or(cmp.Compare(a.line, b.line), strings.Compare(a.ID, b.ID)) })
	}
	v.New, v.Cancelled, v.Trials = changes.New, changes.Cancelled, changes.Trials
	charts(&v)
	return v
}

func sortedTotals(m map[string]invoice.CurrencyTotal) []invoice.CurrencyTotal {
	out := make([]invoice.CurrencyTotal, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}

// appOf returns the app of a charge's plan ("" when the plan is no longer in the catalog).
func appOf(ds *dataset.Dataset, planID string) (id, name string) {
	if ds == nil {
		return "", ""
	}
	p, ok := ds.Catalog.PlanByID[planID]
	if !ok {
		return "", ""
	}
	if a, ok := ds.Catalog.AppByID[p.App]; ok {
		return a.ID, a.Name
	}
	return p.App, p.App
}

func appRows(ds *dataset.Dataset, charges []Charges, prev *RunFacts) []appRow {
	type key struct{ app, cur string }
	rows := map[key]*appRow{}
	get := func(c Charges) *appRow {
		id, name := appOf(ds, c.PlanID)
		if id == "" {
			id, name = "plan "+c.PlanID, "plan "+c.PlanID
		}
		k := key{id, c.Currency}
		if rows[k] == nil {
			rows[k] = &appRow{App: id, Name: name, Currency: c.Currency}
		}
		return rows[k]
	}
	for _, c := range charges {
		r := get(c)
		switch c.Kind {
		case rating.Advance:
			r.Advance = r.Advance.Add(c.Net)
		case rating.Increase:
			r.Increase = r.Increase.Add(c.Net)
		default:
			r.Usage = r.Usage.Add(c.Net)
		}
		r.Net = r.Net.Add(c.Net)
		r.Charges += c.Count
	}
	if prev != nil {
		for _, c := range prev.Charges {
			r := get(c)
			r.PrevNet = r.PrevNet.Add(c.Net)
		}
	}
	out := make([]appRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Currency != out[j].Currency {
			return out[i].Currency < out[j].Currency
		}
		return out[i].App < out[j].App
	})
	return out
}

func charts(v *view) {
	series := []string{fmt.Sprintf("run %d (%s)", v.Run.ID, v.Run.AsOf)}
	if v.Previous != nil {
		series = append(series, fmt.Sprintf("run %d (%s)", v.Previous.ID, v.Previous.AsOf))
	}
	if len(v.Currency) > 0 {
		c := chart{Title: "Gross invoiced per currency", Series: series}
		for _, r := range v.Currency {
			row := chartRow{Label: r.Currency, Values: []decimal.Decimal{r.Gross}, Texts: []string{r.Gross.StringFixed(2)}}
			if v.Previous != nil {
				row.Values = append(row.Values, r.Prev.Gross)
				row.Texts = append(row.Texts, r.Prev.Gross.StringFixed(2))
			}
			c.Rows = append(c.Rows, row)
		}
		v.TotalsChart = c.svg()
	}
	byCur := map[string][]appRow{}
	var curs []string
	for _, a := range v.Apps {
		if byCur[a.Currency] == nil {
			curs = append(curs, a.Currency)
		}
		byCur[a.Currency] = append(byCur[a.Currency], a)
	}
	for _, cur := range curs {
		c := chart{Title: "Net per app, " + cur, Series: series}
		for _, a := range byCur[cur] {
			row := chartRow{Label: a.Name, Values: []decimal.Decimal{a.Net}, Texts: []string{a.Net.StringFixed(2)}}
			if v.Previous != nil {
				row.Values = append(row.Values, a.PrevNet)
				row.Texts = append(row.Texts, a.PrevNet.StringFixed(2))
			}
			c.Rows = append(c.Rows, row)
		}
		v.AppCharts = append(v.AppCharts, c.svg())
	}
	if len(v.Usage) > 0 {
		c := chart{Title: "Usage per type (weighted units)", Series: []string{"included", "overage", "blocked"}, Stacked: true}
		for _, u := range v.Usage {
			c.Rows = append(c.Rows, chartRow{Label: u.Type,
				Values: []decimal.Decimal{u.Included, u.Overage, u.Blocked},
				Texts:  []string{u.Included.String(), u.Overage.String(), u.Blocked.String()}})
		}
		v.UsageChart = c.svg()
	}
}

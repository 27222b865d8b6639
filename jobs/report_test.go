package jobs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/dataset/datasettest"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/report/reporttest"
	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"
)

// table reads the rows of the table with the given id: for each row, the value of its
// attribute keyAttr and the texts of its cells by data-field.
func table(t *testing.T, doc []byte, id, keyAttr string) map[string]map[string]string {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, name string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == name {
				return a.Val, true
			}
		}
		return "", false
	}
	var tbl *html.Node
	for n := range root.Descendants() {
		if v, _ := attr(n, "id"); n.Type == html.ElementNode && n.Data == "table" && v == id {
			tbl = n
		}
	}
	if tbl == nil {
		t.Fatalf("report has no table #%s", id)
	}
	rows := map[string]map[string]string{}
	for n := range tbl.Descendants() {
		key, ok := attr(n, keyAttr)
		if n.Type != html.ElementNode || n.Data != "tr" || !ok {
			continue
		}
		cells := map[string]string{}
		for c := range n.Descendants() {
			if f, ok := attr(c, "data-field"); ok {
				var b strings.Builder
				for tn := range c.Descendants() {
					if tn.Type == html.TextNode {
						b.WriteString(tn.Data)
					}
				}
				cells[f] = strings.TrimSpace(b.String())
			}
		}
		rows[key] = cells
	}
	return rows
}

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("report number %q: %v", s, err)
	}
	return d
}

func TestRunReportShowsTheRunSummaryAndComparesWithThePreviousRun(t *testing.T) {
	_, st := storetest.New(t)
	dir := datasettest.CopyDir(t, "../fixtures/demo")
	if _, err := st.Import(context.Background(), load(t, dir)); err != nil {
		t.Fatal(err)
	}
	arc := t.TempDir()
	first := runOnce(t, st, arc, "2026-11-01")
	if first.Report != jobs.ReportKey(first.RunID) {
		t.Fatalf("summary names report %q", first.Report)
	}
	path := filepath.Join(arc, first.Report)
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the run archived no report: %v", err)
	}
	// kontor report run ID renders the same bytes from what the run stored.
	again, err := jobs.RunReport(context.Background(), st, first.RunID)
	if err != nil || !bytes.Equal(again, doc) {
		t.Fatalf("report run %d differs from the archived report (%v)", first.RunID, err)
	}

	totals := table(t, doc, "totals", "data-currency")
	if len(totals) != len(first.Totals) {
		t.Errorf("report shows %d currencies, summary %d", len(totals), len(first.Totals))
	}
	for _, want := range first.Totals {
		got := totals[want.Currency]
		for field, w := range map[string]string{"invoices": decimal.NewFromInt(int64(want.Invoices)).String(),
			"net": want.Net.StringFixed(2), "vat": want.VAT.StringFixed(2), "gross": want.Gross.StringFixed(2)} {
			if got[field] != w {
				t.Errorf("%s %s: report %q, summary %s", want.Currency, field, got[field], w)
			}
		}
	}
	docs := table(t, doc, "documents", "data-number")
	if len(docs) != len(first.Issued) {
		t.Errorf("report lists %d documents, summary %d", len(docs), len(first.Issued))
	}
	for _, is := range first.Issued {
		if docs[is.Number]["gross"] != is.Gross.StringFixed(2) {
			t.Errorf("document %s gross: report %q, summary %s", is.Number, docs[is.Number]["gross"], is.Gross.StringFixed(2))
		}
		// Documents by type name and buyer name, not by code and ID alone.
		if want := "Invoice (380)"; docs[is.Number]["type"] != want {
			t.Errorf("document %s type: report %q, want %q", is.Number, docs[is.Number]["type"], want)
		}
		if want := is.BuyerName + " (" + is.Buyer + ")"; is.BuyerName == "" || docs[is.Number]["buyer"] != want {
			t.Errorf("document %s buyer: report %q, want %q", is.Number, docs[is.Number]["buyer"], want)
		}
	}
	skipped := table(t, doc, "skipped", "data-buyer")
	for _, s := range first.Skipped {
		if _, ok := skipped[string(s.BuyerKind)+" "+s.BuyerID]; !ok {
			t.Errorf("skipped buyer %s %s not in the report", s.BuyerKind, s.BuyerID)
		}
	}
	if len(skipped) != len(first.Skipped) {
		t.Errorf("report lists %d skipped, summary %d", len(skipped), len(first.Skipped))
	}
	// Per app, the nets add up to each currency's net: every invoice line is a charge.
	apps := table(t, doc, "apps", "data-app")
	if len(apps) == 0 {
		t.Error("no per-app rows")
	}
	perCur := map[string]decimal.Decimal{}
	charges := 0
	root, _ := html.Parse(bytes.NewReader(doc))
	for n := range root.Descendants() {
		var app, cur string
		for _, a := range n.Attr {
			switch a.Key {
			case "data-app":
				app = a.Val
			case "data-currency":
				cur = a.Val
			}
		}
		if app == "" {
			continue
		}
		for c := range n.Descendants() {
			for _, a := range c.Attr {
				if a.Key == "data-field" && a.Val == "net" {
					perCur[cur] = perCur[cur].Add(dec(t, strings.TrimSpace(c.FirstChild.Data)))
				}
				if a.Key == "data-field" && a.Val == "charges" {
					charges += int(dec(t, strings.TrimSpace(c.FirstChild.Data)).IntPart())
				}
			}
		}
	}
	for _, want := range first.Totals {
		if !perCur[want.Currency].Equal(want.Net) {
			t.Errorf("%s: per-app nets add up to %s, total net %s", want.Currency, perCur[want.Currency], want.Net)
		}
	}
	var stored int
	if err := st.Pool().QueryRow(context.Background(), `select count(*) from charges where run_id = $1`, first.RunID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if charges != stored || stored == 0 {
		t.Errorf("per-app charges add up to %d, the run stored %d", charges, stored)
	}
	// Usage: included + overage + blocked = units, and October's usage is there.
	usage := table(t, doc, "usage", "data-usage-type")
	if len(usage) == 0 {
		t.Fatal("no usage rows")
	}
	for typ, u := range usage {
		sum := dec(t, u["included"]).Add(dec(t, u["overage"])).Add(dec(t, u["blocked"]))
		if !sum.Equal(dec(t, u["units"])) || dec(t, u["events"]).IsZero() {
			t.Errorf("usage %s: %v", typ, u)
		}
	}
	if n := bytes.Count(doc, []byte("<svg ")); n < 3 {
		t.Errorf("report has %d charts, want totals, apps and usage", n)
	}

	// The next run compares with this one.
	importLateUsage(t, st, dir)
	second := runOnce(t, st, arc, "2026-11-05")
	doc2, err := os.ReadFile(filepath.Join(arc, second.Report))
	if err != nil {
		t.Fatal(err)
	}
	eur := table(t, doc2, "totals", "data-currency")["EUR"]
	var firstEUR decimal.Decimal
	for _, tot := range first.Totals {
		if tot.Currency == "EUR" {
			firstEUR = tot.Gross
		}
	}
	if eur["gross"] != "4.00" || eur["previous-gross"] != firstEUR.StringFixed(2) ||
		!strings.HasPrefix(eur["change"], decimal.RequireFromString("4.00").Sub(firstEUR).StringFixed(2)) {
		t.Errorf("second run's EUR row %v; first run's EUR gross %s", eur, firstEUR.StringFixed(2))
	}
	if u := table(t, doc2, "usage", "data-usage-type")["einvoices"]; u["units"] != "50" || u["overage"] != "50" {
		t.Errorf("second run's usage row %v, want the 50 late units as overage", u)
	}
}

func TestRunReportOpensInChromiumWithoutErrors(t *testing.T) {
	reporttest.Chromium(t) // skips loudly (fails on CI) before the run when there is no browser
	_, st := storetest.New(t)
	if _, err := st.Import(context.Background(), load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	arc := t.TempDir()
	sum := runOnce(t, st, arc, "2026-11-01")
	page := reporttest.Open(t, filepath.Join(arc, sum.Report))
	if len(page.Problems) > 0 {
		t.Errorf("the report logged problems in Chromium:\n%s", strings.Join(page.Problems, "\n"))
	}
	t.Logf("screenshot: %s", page.Save(t, "run-report.png"))
	if len(page.Screenshot) < 10_000 {
		t.Errorf("screenshot of %d bytes: nothing rendered?", len(page.Screenshot))
	}
	// The numbers as the browser shows them equal the summary.
	var shown map[string]string
	page.Evaluate(t, `Object.fromEntries([...document.querySelectorAll('#totals tr[data-currency]')].map(r =>
		[r.dataset.currency, r.querySelector('[data-field=gross]').innerText]))`, &shown)
	for _, tot := range sum.Totals {
		if shown[tot.Currency] != tot.Gross.StringFixed(2) {
			t.Errorf("%s gross shown %q, summary %s", tot.Currency, shown[tot.Currency], tot.Gross.StringFixed(2))
		}
	}
	var invoices string
	page.Evaluate(t, `document.getElementById('kpi-invoices').innerText`, &invoices)
	if invoices != "25" {
		t.Errorf("invoices shown %q, want 25", invoices)
	}
	// Every chart is laid out with a size and draws bars.
	var charts []struct{ Width, Bars float64 }
	page.Evaluate(t, `[...document.querySelectorAll('svg.chart')].map(s => ({width: s.getBoundingClientRect().width,
		bars: [...s.querySelectorAll('rect')].filter(r => r.getBBox().width > 0).length}))`, &charts)
	if len(charts) < 3 {
		t.Fatalf("%d charts rendered", len(charts))
	}
	for i, c := range charts {
		if c.Width < 300 || c.Bars < 2 {
			t.Errorf("chart %d: width %.0f, %0.f bars drawn", i+1, c.Width, c.Bars)
		}
	}
}

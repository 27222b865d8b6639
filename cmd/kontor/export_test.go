package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

func TestExportOfTheDemoRunBalances(t *testing.T) {
	url, st := storetest.New(t)
	db := "--database-url=" + url
	arc := "--archive=file://" + t.TempDir()
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	cli(t, 0, "credit-note", db, arc, "RE-2026-000001", "--lines", "1", "--reason", "wrong number of users", "--date", "2026-11-10")
	cli(t, 0, "credit-note", db, arc, "RE-2026-000010", "--full", "--reason", "cancelled", "--date", "2026-11-12") // the USD invoice

	// What the books must show: gross invoiced minus gross credited, per currency.
	want := map[string]decimal.Decimal{}
	rows, err := st.Pool().Query(context.Background(), `select currency, sum(case when type_code = '381' then -gross else gross end)
		from invoices where number is not null group by currency`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var cur string
		var sum decimal.Decimal
		if err := rows.Scan(&cur, &sum); err != nil {
			t.Fatal(err)
		}
		want[cur] = sum
	}
	if len(want) != 2 {
		t.Fatalf("want EUR and USD documents, have %v", want)
	}

	dir := t.TempDir()
	datev := filepath.Join(dir, "EXTF_Buchungsstapel.csv")
	cli(t, 0, "export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "datev",
		"--datev-config", "../../docs/datev-config.example.json", "--out", datev)
	raw, err := os.ReadFile(datev)
	if err != nil {
		t.Fatal(err)
	}
	text, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\r\n"), "\r\n")
	header := strings.Split(lines[0], ";")
	if !strings.HasPrefix(lines[0], `"EXTF";700;21;"Buchungsstapel";13;`) || len(header) != 31 ||
		header[10] != "29098" || header[11] != "55003" || header[12] != "20260101" || header[14] != "20261101" || header[15] != "20261130" {
		t.Errorf("DATEV header line:\n%s", lines[0])
	}
	if !strings.HasPrefix(lines[1], "Umsatz (ohne Soll/Haben-Kz);Soll/Haben-Kennzeichen;WKZ Umsatz;Kurs;") {
		t.Errorf("column line: %.80s", lines[1])
	}
	got := map[string]decimal.Decimal{}
	documents := map[string]bool{}
	for _, l := range lines[2:] {
		f := strings.Split(l, ";")
		if len(f) != 125 {
			t.Fatalf("booking with %d fields: %s", len(f), l)
		}
		amount := decimal.RequireFromString(strings.Replace(f[0], ",", ".", 1))
		if !amount.IsPositive() {
			t.Errorf("booking amount %s is not positive", f[0])
		}
		if f[1] == `"H"` {
			amount = amount.Neg()
		}
		cur := strings.Trim(f[2], `"`)
		got[cur] = got[cur].Add(amount)
		documents[strings.Trim(f[10], `"`)] = true
		if cur == "USD" && (f[3] != "1,085" || f[5] != `"EUR"`) {
			t.Errorf("USD booking without the exchange rate: %.120s", l)
		}
	}
	for cur, w := range want {
		if !got[cur].Equal(w) {
			t.Errorf("%s: bookings add up to %s, invoices minus credit notes %s", cur, got[cur], w)
		}
	}
	if len(documents) != 27 {
		t.Errorf("%d documents booked, want 25 invoices and 2 credit notes", len(documents))
	}

	// The CSV has every document, and its signed gross balances the same way.
	csvFile := filepath.Join(dir, "documents.csv")
	cli(t, 0, "export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "--out", csvFile)
	f, err := os.Open(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 28 {
		t.Fatalf("csv has %d rows, want a header and 27 documents", len(recs))
	}
	sums := map[string]decimal.Decimal{}
	for _, r := range recs[1:] {
		sums[r[11]] = sums[r[11]].Add(decimal.RequireFromString(r[15]))
	}
	for cur, w := range want {
		if !sums[cur].Equal(w) {
			t.Errorf("csv %s: signed gross adds up to %s, want %s", cur, sums[cur], w)
		}
	}

	// Refusals: no rate for USD, a period across fiscal years, no config.
	noRate := filepath.Join(dir, "no-rate.json")
	os.WriteFile(noRate, []byte(`{"consultant_number": 29098, "client_number": 55003}`), 0o644)
	if out := cli(t, 1, "export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "datev", "--datev-config", noRate, "--out", filepath.Join(dir, "x.csv")); !strings.Contains(out, "field currency: USD has no exchange rate") {
		t.Errorf("export without a USD rate:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); err == nil {
		t.Error("a refused export wrote a file")
	}
	cli(t, 1, "export", db, "--from", "2026-11-01", "--to", "2027-01-31", "--format", "datev", "--datev-config", "../../docs/datev-config.example.json")
	cli(t, 2, "export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "datev")
}

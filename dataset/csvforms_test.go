package dataset_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kontor-billing/kontor/dataset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// TestCSVAsPeopleMakeThem: the demo dataset's CSV files as spreadsheets export them.
// Semicolon-separated (German Excel), with or without a byte order mark, load as the
// comma-separated files do; a file in Windows-1252 and a file without a required column
// are one error each, naming the file (and, for the encoding, the fix).
func TestCSVAsPeopleMakeThem(t *testing.T) {
	demo := demoFS(t)
	want := loadJSON(t, demo)
	semicolons := func(b []byte) []byte { return resplit(t, b, ';') }
	for _, tt := range []struct {
		name   string
		change func(file string, b []byte) []byte
		errors []string // each error's text, in order; none: loads like the demo
	}{
		{"semicolons", func(_ string, b []byte) []byte { return semicolons(b) }, nil},
		{"semicolons and a byte order mark", func(_ string, b []byte) []byte {
			return append([]byte("\ufeff"), semicolons(b)...)
		}, nil},
		{"customers in Windows-1252", func(file string, b []byte) []byte {
			if file != dataset.CustomersFile {
				return b
			}
			// As a spreadsheet saves it: what Windows-1252 lacks becomes "?".
			out, err := encoding.ReplaceUnsupported(charmap.Windows1252.NewEncoder()).Bytes(b)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}, []string{`customers.csv:2: is not UTF-8 text (first on this line): save it as UTF-8 (in Excel: Save As, "CSV UTF-8") or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 customers.csv`}},
		{"subscriptions without the channel column", func(file string, b []byte) []byte {
			if file != dataset.SubscriptionsFile {
				return b
			}
			return dropColumn(t, b, "channel")
		}, []string{"subscriptions.csv:1: field channel: required column is missing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, f := range demo {
				data := f.Data
				if strings.HasSuffix(name, ".csv") {
					data = tt.change(name, data)
				}
				fsys[name] = &fstest.MapFile{Data: data}
			}
			ds, err := dataset.Load(fsys)
			if len(tt.errors) == 0 {
				if err != nil {
					t.Fatalf("not loaded: %v", err)
				}
				if got := marshal(t, ds); got != want {
					g := marshal(t, ds)
					i := 0
					for i < len(g) && i < len(want) && g[i] == want[i] {
						i++
					}
					t.Errorf("loaded otherwise than the comma-separated demo, from: %.200s\nwant %.200s", g[i:], want[i:])
				}
				return
			}
			var errs dataset.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("loaded, or not with dataset errors: %v", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.errors, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.errors, "\n"))
			}
		})
	}
}

func demoFS(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	dir := "../fixtures/demo"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func loadJSON(t *testing.T, fsys fstest.MapFS) string {
	t.Helper()
	ds, err := dataset.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return marshal(t, ds)
}

func marshal(t *testing.T, ds *dataset.Dataset) string {
	t.Helper()
	b, err := json.Marshal([]any{ds.Customers, ds.Partners, ds.Subscriptions, ds.LicenseReports, ds.Usage})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dropColumn removes a column (header and fields) from comma-separated b; the demo's
// files quote no field.
func dropColumn(t *testing.T, b []byte, col string) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	i := -1
	for j, h := range strings.Split(lines[0], ",") {
		if h == col {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no column %s", col)
	}
	for n, l := range lines {
		f := strings.Split(l, ",")
		lines[n] = strings.Join(append(f[:i:i], f[i+1:]...), ",")
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// resplit writes comma-separated b again with another delimiter, quoting as needed.
func resplit(t *testing.T, b []byte, comma rune) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.Comma = comma
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store"
)

// Fingerprint describes the billing state of a database and an archive directory: every
// invoice (number, buyer, totals, model), every document's hash and archive key, every
// archived file's hash, the charges, the ledger and what became of each usage event. Two
// histories that end in the same state have the same fingerprint; run IDs and timestamps
// are left out. It also fails the test on a gap in a number series.
func Fingerprint(t testing.TB, st *store.Store, archiveDir string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	query := func(title, sql string) {
		rows, err := st.Pool().Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", title, err)
		}
		defer rows.Close()
		fmt.Fprintf(&b, "== %s\n", title)
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", title, err)
		}
	}
	query("invoices", `select number, series, seq, status, type_code, buyer_kind, buyer_id, currency, net::text, vat::text, gross::text, md5(model::text)
		from invoices order by series, seq, buyer_kind, buyer_id`)
	query("documents", `select i.number, d.kind, d.sha256, d.archive_key, d.archived_at is not null from documents d join invoices i on i.id = d.invoice_id order by i.number, d.kind`)
	query("charges", `select c.key, c.kind, c.net::text, i.number from charges c join invoices i on i.id = c.invoice_id order by c.key`)
	query("ledger advance", `select l.subscription_id, a.start::text, a.quantity from ledger l, unnest(l.advance_starts, l.advance_quantities) as a(start, quantity) order by 1, 2`)
	query("ledger usage", `select l.subscription_id, u.type, u.start::text, u.units::text from ledger l, unnest(l.usage_types, l.usage_starts, l.usage_units) as u(type, start, units) order by 1, 2, 3`)
	query("ledger subscriptions", `select subscription_id from ledger order by 1`)
	query("usage", `select u.event_id, coalesce(s.fate, -1), h.seq is not null from usage_events u
		left join (select unnest(seqs) as seq, unnest(fates) as fate from usage_settled) s using (seq)
		left join usage_held h using (seq) order by u.event_id`)
	query("usage cursor", `select seq from usage_cursor`)
	var gappy []string
	rows, err := st.Pool().Query(ctx, `select series from invoices where seq is not null group by series having count(*) <> max(seq)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var series string
		if err := rows.Scan(&series); err != nil {
			t.Fatal(err)
		}
		gappy = append(gappy, series)
	}
	rows.Close()
	if len(gappy) > 0 {
		t.Errorf("number series with gaps: %s", strings.Join(gappy, ", "))
	}
	fmt.Fprintf(&b, "== archive\n")
	if archiveDir != "" {
		err := filepath.WalkDir(archiveDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".tmp" {
				return fs.SkipDir // files being written: not part of the archive
			}
			if d.IsDir() && p == filepath.Join(archiveDir, "reports") {
				return fs.SkipDir // run reports name run IDs and times; the report tests check them
			}
			if d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(archiveDir, p)
			sum := sha256.Sum256(data)
			fmt.Fprintln(&b, rel, hex.EncodeToString(sum[:]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// FirstDifference names the first line where two fingerprints (or any texts) differ.
func FirstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %s\n  got  %s", i+1, w, g)
		}
	}
	return ""
}

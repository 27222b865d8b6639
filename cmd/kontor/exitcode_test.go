package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
)

// TestExitCodes holds every command to the exit statuses the README states: 2 for bad
// arguments (nothing done), 1 for invalid input or a failed command, 0 on success. (3, a
// run stopped by a signal, is tested where runs are stopped: worker_test.go.) The cases
// run in order against one database: migrated, imported, run, then credited.
func TestExitCodes(t *testing.T) {
	url, _ := storetest.New(t)
	tmp := t.TempDir()
	db := "--database-url=" + url
	arc := "--archive=file://" + filepath.Join(tmp, "archive")
	demo := "../../fixtures/demo"
	for _, tt := range []struct {
		name  string
		args  []string
		want  int
		stdin string
	}{
		{"unknown command", []string{"frobnicate"}, 2, ""},
		{"unknown flag", []string{"run", db, "--frobnicate"}, 2, ""},
		{"preview: not a date", []string{"preview", "--data", demo, "--as-of", "2026-11-31"}, 2, ""},
		{"preview: an argument", []string{"preview", "extra"}, 2, ""},
		{"preview: no dataset", []string{"preview", "--data", filepath.Join(tmp, "none")}, 1, ""},
		{"preview", []string{"preview", "--data", demo}, 0, ""},
		{"verify: a scenario directory that does not exist", []string{"verify", filepath.Join(tmp, "none")}, 1, ""},
		{"migrate: an argument", []string{"migrate", db, "extra"}, 2, ""},
		{"migrate", []string{"migrate", db}, 0, ""},
		{"import: an argument", []string{"import", db, "extra"}, 2, ""},
		{"import: no dataset", []string{"import", db, "--data", filepath.Join(tmp, "none")}, 1, ""},
		{"import", []string{"import", db, "--data", demo}, 0, ""},
		{"run: not a date", []string{"run", db, arc, "--as-of", "2026-11-31"}, 2, ""},
		{"run: an unknown archive scheme", []string{"run", db, "--archive=ftp://example.com/x", "--as-of", "2026-11-01"}, 1, ""},
		{"run --dry-run", []string{"run", db, arc, "--as-of", "2026-11-01", "--dry-run"}, 0, ""},
		{"run", []string{"run", db, arc, "--as-of", "2026-11-01"}, 0, ""},
		{"schedule: not a cron schedule", []string{"schedule", db, arc, "--cron", "every day"}, 2, ""},
		{"worker: an argument", []string{"worker", db, "extra"}, 2, ""},
		{"payments: no --file", []string{"payments", db}, 2, ""},
		{"payments: a file that does not exist", []string{"payments", db, "--file", filepath.Join(tmp, "none.csv")}, 1, ""},
		{"status: no customer", []string{"status", db}, 2, ""},
		{"status: not a date", []string{"status", db, "C-001", "--as-of", "2026-11-31"}, 2, ""},
		{"status: an unknown customer", []string{"status", db, "C-999"}, 1, ""},
		{"status", []string{"status", db, "C-001", "--as-of", "2026-11-01"}, 0, ""},
		{"archive verify: not a date", []string{"archive", "verify", db, arc, "--from", "yesterday"}, 2, ""},
		{"archive verify", []string{"archive", "verify", db, arc}, 0, ""},
		{"gen-dataset: an argument", []string{"gen-dataset", "extra"}, 2, ""},
		{"gen-dataset", []string{"gen-dataset", "--customers", "3", "--events", "10", "--out", filepath.Join(tmp, "gen")}, 0, ""},
		{"credit-note: no invoice", []string{"credit-note", db, arc, "--full", "--reason", "x"}, 2, ""},
		{"credit-note: no --reason", []string{"credit-note", db, arc, "RE-2026-000001", "--full"}, 2, ""},
		{"credit-note: neither --full nor --lines", []string{"credit-note", db, arc, "RE-2026-000001", "--reason", "x"}, 2, ""},
		{"credit-note: not a date", []string{"credit-note", db, arc, "RE-2026-000001", "--full", "--reason", "x", "--date", "2026-02-30"}, 2, ""},
		{"credit-note: an invoice that was not issued", []string{"credit-note", db, arc, "RE-2026-999999", "--full", "--reason", "x"}, 1, ""},
		{"credit-note", []string{"credit-note", db, arc, "RE-2026-000001", "--full", "--reason", "wrong plan", "--date", "2026-11-02"}, 0, ""},
		{"credit-note: the same lines again", []string{"credit-note", db, arc, "RE-2026-000001", "--full", "--reason", "x", "--date", "2026-11-02"}, 1, ""},
		{"credit-note: --amount without --line", []string{"credit-note", db, arc, "RE-2026-000002", "--amount", "1", "--reason", "x"}, 2, ""},
		{"credit-note: --line and --full", []string{"credit-note", db, arc, "RE-2026-000002", "--full", "--line", "1", "--amount", "1", "--reason", "x"}, 2, ""},
		{"credit-note: part of a line", []string{"credit-note", db, arc, "RE-2026-000002", "--line", "1", "--amount", "1.00", "--reason", "x", "--date", "2026-11-02"}, 0, ""},
		{"credit-note: more than is left", []string{"credit-note", db, arc, "RE-2026-000002", "--line", "1", "--amount", "100000", "--reason", "x", "--date", "2026-11-02"}, 1, ""},
		{"payments import: nothing to import", []string{"payments", "import", db}, 2, ""},
		{"payments import: --camt and --file", []string{"payments", "import", db, "--camt", "a.xml", "--file", "b.csv"}, 2, ""},
		{"payments import: a statement that does not exist", []string{"payments", "import", db, "--camt", filepath.Join(tmp, "none.xml")}, 1, ""},
		{"payments import", []string{"payments", "import", db, "--camt", "../../bank/testdata/volksbank-2026-11-25.camt053.001.08.xml"}, 0, ""},
		{"payments debit-file: no --out", []string{"payments", "debit-file", db}, 2, ""},
		{"payments debit-file", []string{"payments", "debit-file", db, "--as-of", "2026-11-03", "--out", filepath.Join(tmp, "debits.xml")}, 0, ""},
		{"receivables: unknown format", []string{"receivables", db, "--format", "xlsx"}, 2, ""},
		{"receivables", []string{"receivables", db, "--as-of", "2026-12-01", "--format", "csv"}, 0, ""},
		{"outbox resend: not an ID", []string{"outbox", "resend", db, "x"}, 2, ""},
		{"outbox resend: nothing to resend", []string{"outbox", "resend", db, "1"}, 1, ""},
		{"outbox list", []string{"outbox", "list", db}, 0, ""},
		{"report run: not a run ID", []string{"report", "run", db, "first"}, 2, ""},
		{"report run: a run that does not exist", []string{"report", "run", db, "999"}, 1, ""},
		{"report run", []string{"report", "run", db, "1", "--out", filepath.Join(tmp, "run.html")}, 0, ""},
		{"report licenses: no --from", []string{"report", "licenses", db, "--to", "2026-11-30"}, 2, ""},
		{"report licenses: an unknown format", []string{"report", "licenses", db, "--from", "2026-10-01", "--to", "2026-11-30", "--format", "pdf"}, 2, ""},
		{"report licenses", []string{"report", "licenses", db, "--from", "2026-10-01", "--to", "2026-11-30"}, 0, ""},
		{"export: no --to", []string{"export", db, "--from", "2026-11-01"}, 2, ""},
		{"export: an unknown format", []string{"export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xls"}, 2, ""},
		{"export: DATEV without its configuration", []string{"export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "datev"}, 2, ""},
		{"export", []string{"export", db, "--from", "2026-11-01", "--to", "2026-11-30", "--out", filepath.Join(tmp, "export.csv")}, 0, ""},
		{"user: no subcommand", []string{"user", db}, 2, ""},
		{"user add: no name", []string{"user", "add", db, "--role", "admin"}, 2, ""},
		{"user add: no --role", []string{"user", "add", db, "ada"}, 2, ""},
		{"user add: an unknown role", []string{"user", "add", db, "ada", "--role", "boss"}, 2, ""},
		{"user add: a short password", []string{"user", "add", db, "ada", "--role", "admin"}, 1, "short\n"},
		{"user add: a name the database refuses", []string{"user", "add", db, "Ada Lovelace", "--role", "admin"}, 1, "a-long-password-1\n"},
		{"user add", []string{"user", "add", db, "ada", "--role", "admin"}, 0, "a-long-password-1\n"},
		{"user add: the name is taken", []string{"user", "add", db, "ada", "--role", "viewer"}, 1, "a-long-password-2\n"},
		{"user list: an argument", []string{"user", "list", db, "extra"}, 2, ""},
		{"user list", []string{"user", "list", db}, 0, ""},
		{"user remove: no name", []string{"user", "remove", db}, 2, ""},
		{"user remove: an unknown user", []string{"user", "remove", db, "nobody"}, 1, ""},
		{"user remove", []string{"user", "remove", db, "ada"}, 0, ""},
		{"serve: an argument", []string{"serve", db, "extra"}, 2, ""},
		{"serve: --tls-cert without --tls-key", []string{"serve", db, arc, "--tls-cert", filepath.Join(tmp, "cert.pem")}, 2, ""},
		{"serve: an address it cannot listen on", []string{"serve", db, arc, "--addr", "127.0.0.1:99999"}, 2, ""},
	} {
		var stdout, stderr bytes.Buffer
		if got := runInput(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr); got != tt.want {
			t.Errorf("%s: kontor %v exited %d, want %d\n%s", tt.name, tt.args, got, tt.want, stderr.String())
		}
	}
}

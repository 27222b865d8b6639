package main

import (
	"context"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
)

// TestStatusOfPartnersAndSkippedBuyers: status finds a partner (its subscriptions for its
// customers and its invoices) as well as a customer, and says why the latest run did not
// invoice a buyer it skipped.
func TestStatusOfPartnersAndSkippedBuyers(t *testing.T) {
	url, st := storetest.New(t)
	db := "--database-url=" + url
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, "--archive=file://"+t.TempDir(), "--as-of", "2026-11-01")
	var p01 string
	if err := st.Pool().QueryRow(context.Background(), `select number from invoices where buyer_kind = 'partner' and buyer_id = 'P-01'`).Scan(&p01); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		buyer string
		want  []string
		not   []string
	}{
		{"P-01", []string{"partner P-01  Dynamics Partner Süd GmbH (DE)  Microsoft Partner ID 5012345",
			"S-025  address-tenant-m  partner", "for customer C-023", p01 + "  2026-11-01"}, []string{"license:", "skipped"}},
		{"C-009", []string{"customer C-009", "skipped by run 1 as of 2026-11-01: customer C-009 (Rossi Meccanica S.r.l.): buyer in another EU member state without a VAT ID"}, nil},
		{"C-001", []string{"customer C-001", "license: active"}, []string{"skipped"}},
	} {
		out := cli(t, 0, "status", db, tt.buyer, "--as-of", "2026-11-01")
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("status %s lacks %q:\n%s", tt.buyer, w, out)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out, w) {
				t.Errorf("status %s shows %q:\n%s", tt.buyer, w, out)
			}
		}
	}
	if out := cli(t, 1, "status", db, "P-99"); !strings.Contains(out, `no customer or partner "P-99"`) {
		t.Errorf("unknown buyer: %s", out)
	}
}

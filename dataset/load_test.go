package dataset_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
)

func TestDemoDatasetLoads(t *testing.T) {
	ds, err := dataset.LoadDir("../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Customers) < 30 || len(ds.Subscriptions) < 30 || len(ds.Usage) < 100 || ds.Duplicates == 0 {
		t.Errorf("demo dataset is smaller than documented: %d customers, %d subscriptions, %d events, %d duplicates",
			len(ds.Customers), len(ds.Subscriptions), len(ds.Usage), ds.Duplicates)
	}
}

// TestMalformedDatasetReportsEveryError breaks one field per line across the files and
// expects each problem, with its file, line and field, in one report.
func TestMalformedDatasetReportsEveryError(t *testing.T) {
	w := datasettest.World{
		Customers: []string{
			"C-BAD,Bad GmbH,Weg 1,10115,Berlin,XX,,bad@example,,,,not-a-guid,", // line 9: country, email, tenant_id
			"C-VAT,Vat GmbH,Weg 1,10115,Berlin,FR,DE811111111,ap@vat.example,,,,88888888-8888-4888-8888-888888888888,",
			"C-DD2,DD GmbH,Weg 1,10115,Berlin,DE,,ap@dd.example,sepa_direct_debit,,DE00123,99999999-9999-4999-8999-999999999999,",
		},
		Subscriptions: []string{
			"S1,C-NOPE,t-m,end_customer,,,,2026-01-01,",         // line 2: unknown customer
			"S2,C-DE,nope,end_customer,,,,2026-01-01,",          // line 3: unknown plan
			"S3,C-DE,t-m,reseller,,,,2026-01-01,",               // line 4: channel
			"S4,C-DE,t-m,end_customer,,2026-09-01,2,,",          // line 5: second trial extension
			"S5,C-DE,t-m,end_customer,,,,2026-13-01,",           // line 6: date
			"S6,C-DE,t-m,partner,,,,2026-01-01,",                // line 7: partner missing
			"S7,C-DE,t-m,end_customer,,,,2026-01-01,",           // fine
			"S7,C-DE,t-m,end_customer,,,,2026-01-01,",           // line 9: duplicate ID
			"S8,C-DE,u-m,end_customer,,,,,",                     // line 10: neither activation nor trial
			"S9,C-DE,t-m,end_customer,,,,2026-05-01,2026-04-01", // line 11: cancelled before start
		},
		Reports: []string{
			"S7,2026-10-01,-3,,,", // line 2: negative count
			"S7,yesterday,1,,,",   // line 3: date
		},
		Usage: []string{
			"E1,S7,checks,0,2026-10-03T10:00:00+02:00,,",                      // line 2: quantity
			"E2,S7,checks,1,2026-10-03 10:00,,",                               // line 3: timestamp
			"E3,S7,calls,1,2026-10-03T10:00:00+02:00,,",                       // line 4: type not in plan
			"E4,S7,checks,1,2026-10-03T10:00:00+02:00,,true",                  // line 5: PSP on a non-payment type
			"E5,S7,checks,1,2026-10-03T10:00:00+02:00,,",                      // fine
			"E5,S7,checks,2,2026-10-03T10:00:00+02:00,,",                      // line 7: same ID, other event
			"E6,S7,checks,1.5,2026-10-03T10:00:00+02:00,,",                    // line 8: fraction
			"E7,S7,checks,1,2026-10-03T10:00:00+02:00,2026-10-01T00:00:00Z,",  // line 9: received before occurred
			"E8,S7,checks,1\x01,2026-10-03T10:00:00+02:00,,",                  // line 10: control character, reported once
			"E9,S7,checks,1e3,2026-10-03T10:00:00+02:00,,",                    // line 11: exponent
			"E10,S7,checks,1,2026-10-03T10:00:00+02:00,2300-01-01T00:00:00Z,", // line 12: beyond 2261
			"E11,S7,checks,1,1600-10-03T10:00:00+02:00,,",                     // line 13: before 1678 (once: received_at defaults to it)
		},
		Limits: []string{"S7,checks,-1"}, // line 2
	}
	fsys := w.FS()
	fsys["seller.json"].Data = []byte(strings.Replace(datasettest.Seller, `"DE89370400440532013000"`, `"DE89370400440532013001"`, 1))
	_, err := dataset.Load(fsys)
	var errs dataset.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want dataset.Errors", err)
	}
	want := []struct {
		file  string
		line  int
		field string
		words string
	}{
		{"seller.json", 0, "iban", "check digits"},
		{"customers.csv", 9, "country", "ISO 3166"},
		{"customers.csv", 9, "email", "not an email address"},
		{"customers.csv", 9, "tenant_id", "GUID"},
		{"customers.csv", 10, "vat_id", "country prefix FR"},
		{"customers.csv", 11, "mandate_reference", "required"},
		{"customers.csv", 11, "debtor_iban", "SEPA direct debit"},
		{"subscriptions.csv", 2, "customer_id", "not a customer"},
		{"subscriptions.csv", 3, "plan_id", "not a plan"},
		{"subscriptions.csv", 4, "channel", "end_customer, partner or marketplace"},
		{"subscriptions.csv", 5, "trial_extensions", "extended once"},
		{"subscriptions.csv", 6, "activated_on", "not a date"},
		{"subscriptions.csv", 7, "partner_id", "required"},
		{"subscriptions.csv", 9, "id", "appears twice"},
		{"subscriptions.csv", 10, "activated_on", "needs an activated_on"},
		{"subscriptions.csv", 11, "cancelled_on", "before the subscription started"},
		{"license_reports.csv", 2, "licensed_users", "whole number"},
		{"license_reports.csv", 3, "reported_on", "not a date"},
		{"spending_limits.csv", 2, "limit", ">= 0"},
		{"usage.csv", 2, "quantity", "whole number"},
		{"usage.csv", 3, "occurred_at", "RFC 3339"},
		{"usage.csv", 4, "usage_type", "not a usage type of plan t-m"},
		{"usage.csv", 5, "via_psp", "no PSP weighting"},
		{"usage.csv", 7, "event_id", "different event"},
		{"usage.csv", 8, "quantity", "whole number"},
		{"usage.csv", 9, "received_at", "before occurred_at"},
		{"usage.csv", 10, "quantity", "control character"},
		{"usage.csv", 11, "quantity", "no exponent"},
		{"usage.csv", 12, "received_at", "outside the years 1678 to 2261"},
		{"usage.csv", 13, "occurred_at", "outside the years 1678 to 2261"},
	}
	for _, w := range want {
		found := false
		for _, e := range errs {
			if e.File == w.file && e.Line == w.line && e.Field == w.field && strings.Contains(e.Reason, w.words) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing error %s:%d field %s (%q)", w.file, w.line, w.field, w.words)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(errs), len(want), err)
	}
	// The message names file, line, record and field.
	if msg := err.Error(); !strings.Contains(msg, "subscriptions.csv:5: S4: field trial_extensions: 2: a trial can be extended once") {
		t.Errorf("message does not read as documented:\n%s", msg)
	}
}

func TestStructuralProblems(t *testing.T) {
	base := datasettest.World{Subscriptions: []string{"S1,C-DE,t-m,end_customer,,,,2026-01-01,"}}.FS()
	tests := []struct {
		name  string
		edit  func(fstest.MapFS)
		wants string
	}{
		{"missing file", func(f fstest.MapFS) { delete(f, "catalog.json") }, "catalog.json: required file is missing"},
		{"malformed JSON", func(f fstest.MapFS) { f["catalog.json"].Data = []byte("{\n\"apps\": [\n}") }, "catalog.json:3: malformed JSON"},
		{"unknown JSON field", func(f fstest.MapFS) {
			f["seller.json"].Data = []byte(strings.Replace(datasettest.Seller, `"phone"`, `"fax"`, 1))
		}, "seller.json: field fax: unknown field"},
		{"wrong JSON type", func(f fstest.MapFS) {
			f["seller.json"].Data = []byte(strings.Replace(datasettest.Seller, `"payment_terms_days": 14`, `"payment_terms_days": "14"`, 1))
		}, "field payment_terms_days: want a int"},
		{"unknown column", func(f fstest.MapFS) {
			f["usage.csv"].Data = []byte("event_id,subscription_id,usage_type,qty,occurred_at\n")
		}, "usage.csv:1: field qty: unknown column"},
		{"missing column", func(f fstest.MapFS) {
			f["usage.csv"].Data = []byte("event_id,subscription_id,usage_type,occurred_at\n")
		}, "usage.csv:1: field quantity: required column is missing"},
		{"ragged row", func(f fstest.MapFS) {
			f["usage.csv"].Data = []byte(datasettest.UsageHeader + "\nE1,S1\n")
		}, "usage.csv:2: has 2 fields, the header has 7"},
		{"bare quote", func(f fstest.MapFS) {
			f["usage.csv"].Data = []byte(datasettest.UsageHeader + "\nE\"1,S1,checks,1,2026-10-03T10:00:00+02:00,,\n")
		}, "usage.csv:2: malformed CSV"},
		{"control character", func(f fstest.MapFS) {
			f["usage.csv"].Data = []byte(datasettest.UsageHeader + "\nE\x011,S1,checks,1,2026-10-03T10:00:00+02:00,,\n")
		}, "field event_id: contains a control character"},
		{"unit price with 5 decimals", func(f fstest.MapFS) {
			// BILLING-RULES 3: unit prices may carry up to 4 decimals.
			f["catalog.json"].Data = []byte(strings.Replace(datasettest.Catalog, `"unit_price": "0.15"`, `"unit_price": "0.15001"`, 1))
		}, "plans[6] cheap-m: field unit_price: must be >= 0 with at most 4 decimals, got 0.15001"},
		{"format version", func(f fstest.MapFS) {
			f["dataset.json"].Data = []byte(`{"format": "kontor-dataset", "version": 2}`)
		}, "dataset.json: field version: this kontor reads version 1, got 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fstest.MapFS{}
			for k, v := range base {
				c := *v
				f[k] = &c
			}
			tt.edit(f)
			ds, err := dataset.Load(f)
			if ds != nil || err == nil || !strings.Contains(err.Error(), tt.wants) {
				t.Errorf("err = %v\nwant it to contain %q (and no dataset)", err, tt.wants)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	// Identity checks: the reference IBAN and creditor ID pass, a changed digit fails.
	w := datasettest.World{Subscriptions: []string{"S1,C-DE,t-m,end_customer,,,,2026-01-01,"}}
	if _, err := dataset.Load(w.FS()); err != nil {
		t.Fatalf("valid dataset rejected: %v", err)
	}
	for _, bad := range []string{`"DE98ZZZ09999999998"`} {
		f := w.FS()
		f["seller.json"].Data = []byte(strings.Replace(datasettest.Seller, `"DE98ZZZ09999999999"`, bad, 1))
		if _, err := dataset.Load(f); err == nil || !strings.Contains(err.Error(), "sepa_creditor_id") {
			t.Errorf("creditor ID %s accepted: %v", bad, err)
		}
	}
}

func TestEndCustomerIdentityIsRequired(t *testing.T) {
	// BILLING-RULES 1: end customer licensing needs billing email, company name and address.
	w := datasettest.World{
		Customers:     []string{"C-X,,,,,DE,,,,,,12121212-1212-4212-8212-121212121212,"},
		Subscriptions: []string{"S1,C-X,t-m,end_customer,,,,2026-01-01,", "S2,C-X,t-m,marketplace,,,,2026-01-01,"},
	}
	_, err := dataset.Load(w.FS())
	if err == nil {
		t.Fatal("accepted an end customer without name, address and email")
	}
	for _, f := range []string{"name", "street", "postcode", "city", "email"} {
		if !strings.Contains(err.Error(), "field "+f+": is required: C-X is invoiced for subscription S1") {
			t.Errorf("no error for %s:\n%v", f, err)
		}
	}
	// Marketplace only: nothing is invoiced, nothing required.
	w.Subscriptions = w.Subscriptions[1:]
	if _, err := dataset.Load(w.FS()); err != nil {
		t.Errorf("marketplace-only customer rejected: %v", err)
	}
}

// FuzzLoad feeds arbitrary bytes to the loader as the usage, customers and subscriptions
// files: it must return a dataset or errors, never panic, and never both.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("E1,S1,checks,1,2026-10-03T10:00:00+02:00,,\n"), []byte(""), []byte("S1,C-DE,t-m,end_customer,,,,2026-01-01,\n"))
	f.Add([]byte("E1,S1,checks,99999999999999999999,2026-10-03T10:00:00+02:00,,true\n\"x"), []byte("C-1,N,S,P,C,ZZ,,e@x.y,card,,,g,\n"), []byte("S1,C-1,u-a,partner,P-DE,2026-01-01,1,2026-01-01,2025-01-01\n"))
	f.Add([]byte("\xff\xfe,,\n"), []byte("C-DE,dup,,,,,,,,,,,\n"), []byte("S1,C-DE,t-m,end_customer,,,,2026-02-30,\n"))
	base := datasettest.World{}.FS()
	f.Fuzz(func(t *testing.T, usage, customers, subs []byte) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			c := *v
			fsys[k] = &c
		}
		fsys["usage.csv"] = &fstest.MapFile{Data: append([]byte(datasettest.UsageHeader+"\n"), usage...)}
		fsys["customers.csv"] = &fstest.MapFile{Data: append([]byte(datasettest.CustomersHeader+"\n"), customers...)}
		fsys["subscriptions.csv"] = &fstest.MapFile{Data: append([]byte(datasettest.SubscriptionsHeader+"\n"), subs...)}
		ds, err := dataset.Load(fsys)
		if (ds == nil) == (err == nil) {
			t.Fatalf("Load returned dataset %v and error %v", ds != nil, err)
		}
		if err != nil {
			var errs dataset.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not a non-empty dataset.Errors: %v", err)
			}
			for _, e := range errs {
				if e.File == "" || e.Reason == "" {
					t.Fatalf("error without file or reason: %#v", e)
				}
			}
		}
	})
}

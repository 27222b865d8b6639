// Package datasettest builds small datasets for tests, through the real loader, from a
// fixed seller and catalog and a few CSV rows per file.
package datasettest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kontor-billing/kontor/dataset"
)

// World is a small dataset: CSV rows (without header) for each file, on top of a fixed
// seller, catalog, customers and partners. See the constants for the columns.
type World struct {
	BilledAsOf    string   // dataset.json billed_as_of
	Customers     []string // extra rows of CustomersHeader
	Subscriptions []string // rows of SubscriptionsHeader
	Reports       []string // rows of ReportsHeader
	Usage         []string // rows of UsageHeader (usage.csv)
	Usage2        []string // rows of UsageHeader (usage-2.csv), a second import
	Limits        []string // rows of LimitsHeader
}

// Headers of the CSV files a World writes.
const (
	CustomersHeader     = "id,name,street,postcode,city,country,vat_id,email,payment_method,mandate_reference,debtor_iban,tenant_id,tenant_name"
	SubscriptionsHeader = "id,customer_id,plan_id,channel,partner_id,trial_start,trial_extensions,activated_on,cancelled_on"
	ReportsHeader       = "subscription_id,reported_on,licensed_users,licensable_users,companies,evaluation_companies"
	UsageHeader         = "event_id,subscription_id,usage_type,quantity,occurred_at,received_at,via_psp"
	LimitsHeader        = "subscription_id,usage_type,limit"
)

// Seller is the seller.json of every World.
const Seller = `{"name": "Test Seller GmbH", "address": {"street": "Teststraße 1", "postcode": "10115", "city": "Berlin", "country": "DE"},
 "vat_id": "DE123456789", "tax_number": "30/123/45678", "email": "billing@seller.example", "phone": "+49 30 1", "contact": "Billing",
 "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "sepa_creditor_id": "DE98ZZZ09999999999",
 "invoice_series": "RE-", "credit_note_series": "GS-", "time_zone": "Europe/Berlin", "payment_terms_days": 14}`

// Catalog is the catalog.json of every World. Plans:
//
//	u-m     user, monthly, 10.00 EUR; usage "calls": 500 included, 0.05 each
//	all-m   user (app must be licensed for all users), monthly, 10.00 EUR
//	co-m    company, monthly, 10.00 EUR
//	t-m     tenant, monthly, 10.00 EUR; usage "checks": 1000 included, 0.0275 each
//	u-a     user, annual, 120.00 EUR
//	bank-m  tenant, monthly, 10.00 EUR; usage "payments" (PSP weight 0.1): none included, 1.00 each
//	cheap-m tenant, monthly, 0.15 EUR
//	usd-m   tenant, monthly, 10.00 USD
const Catalog = `{
 "apps": [{"id": "plain", "name": "Plain"}, {"id": "print", "name": "Print", "all_users_must_be_licensed": true},
          {"id": "bank", "name": "Bank", "all_users_must_be_licensed": true}],
 "usage_types": [{"id": "calls", "app": "plain", "name": "Calls"}, {"id": "checks", "app": "plain", "name": "Checks"},
                 {"id": "payments", "app": "bank", "name": "Payment instructions", "psp_weight": "0.1"}],
 "plans": [
  {"id": "u-m", "app": "plain", "name": "Plain per user", "license_method": "user", "term": "monthly", "unit_price": "10.00", "currency": "EUR",
   "usage": [{"type": "calls", "included": "500", "overage_unit_price": "0.05"}]},
  {"id": "all-m", "app": "print", "name": "Print per user", "license_method": "user", "term": "monthly", "unit_price": "10.00", "currency": "EUR"},
  {"id": "co-m", "app": "plain", "name": "Plain per company", "license_method": "company", "term": "monthly", "unit_price": "10.00", "currency": "EUR"},
  {"id": "t-m", "app": "plain", "name": "Plain per tenant", "license_method": "tenant", "term": "monthly", "unit_price": "10.00", "currency": "EUR",
   "usage": [{"type": "checks", "included": "1000", "overage_unit_price": "0.0275"}]},
  {"id": "u-a", "app": "plain", "name": "Plain per user, annual", "license_method": "user", "term": "annual", "unit_price": "120.00", "currency": "EUR"},
  {"id": "bank-m", "app": "bank", "name": "Bank per tenant", "license_method": "tenant", "term": "monthly", "unit_price": "10.00", "currency": "EUR",
   "usage": [{"type": "payments", "included": "0", "overage_unit_price": "1.00"}]},
  {"id": "cheap-m", "app": "plain", "name": "Cheap", "license_method": "tenant", "term": "monthly", "unit_price": "0.15", "currency": "EUR"},
  {"id": "usd-m", "app": "plain", "name": "Plain in USD", "license_method": "tenant", "term": "monthly", "unit_price": "10.00", "currency": "USD"}
 ]}`

// Customers every World has: a German, an Austrian (with VAT ID), a Swiss, an Italian
// without VAT ID, and two German end customers of partner P-DE.
var Customers = []string{
	"C-DE,Deutsch GmbH,Hauptstraße 1,10115,Berlin,DE,DE811111111,ap@de.example,,,,11111111-1111-4111-8111-111111111111,de.onmicrosoft.com",
	"C-AT,Österreich GmbH,Ring 1,1010,Wien,AT,ATU12345678,ap@at.example,,,,22222222-2222-4222-8222-222222222222,at.onmicrosoft.com",
	"C-CH,Schweiz AG,Bahnhofstrasse 1,8001,Zürich,CH,,ap@ch.example,card,,,33333333-3333-4333-8333-333333333333,ch.onmicrosoft.com",
	"C-IT,Italia S.r.l.,Via Roma 1,00100,Roma,IT,,ap@it.example,,,,44444444-4444-4444-8444-444444444444,",
	"C-DD,Lastschrift GmbH,Weg 2,10115,Berlin,DE,DE822222222,ap@dd.example,sepa_direct_debit,M-77,DE89370400440532013000,55555555-5555-4555-8555-555555555555,",
	"C-E1,Endkunde Eins GmbH,Weg 3,10115,Berlin,DE,,ap@eins.example,,,,66666666-6666-4666-8666-666666666666,eins.onmicrosoft.com",
	"C-E2,Endkunde Zwei GmbH,Weg 4,10115,Berlin,DE,,,,,,77777777-7777-4777-8777-777777777777,zwei.onmicrosoft.com",
}

// Partners every World has.
const Partners = "id,microsoft_partner_id,name,street,postcode,city,country,vat_id,email\n" +
	"P-DE,5012345,Partner GmbH,Partnerweg 1,80331,München,DE,DE833333333,billing@partner.example\n"

// FS returns the World as files.
func (w World) FS() fstest.MapFS {
	manifest := `{"format": "kontor-dataset", "version": 1`
	if w.BilledAsOf != "" {
		manifest += `, "billed_as_of": "` + w.BilledAsOf + `"`
	}
	manifest += "}"
	fsys := fstest.MapFS{
		dataset.ManifestFile:       file(manifest),
		dataset.SellerFile:         file(Seller),
		dataset.CatalogFile:        file(Catalog),
		dataset.CustomersFile:      file(csvFile(CustomersHeader, append(append([]string{}, Customers...), w.Customers...))),
		dataset.PartnersFile:       file(Partners),
		dataset.SubscriptionsFile:  file(csvFile(SubscriptionsHeader, w.Subscriptions)),
		dataset.LicenseReportsFile: file(csvFile(ReportsHeader, w.Reports)),
		dataset.SpendingLimitsFile: file(csvFile(LimitsHeader, w.Limits)),
		"usage.csv":                file(csvFile(UsageHeader, w.Usage)),
	}
	if w.Usage2 != nil {
		fsys["usage-2.csv"] = file(csvFile(UsageHeader, w.Usage2))
	}
	return fsys
}

// Load loads the World, failing the test on any dataset error.
func (w World) Load(t testing.TB) *dataset.Dataset {
	t.Helper()
	ds, err := dataset.Load(w.FS())
	if err != nil {
		t.Fatalf("test dataset does not load: %v", err)
	}
	return ds
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func csvFile(header string, rows []string) string {
	return header + "\n" + strings.Join(rows, "\n") + "\n"
}

// CopyDir copies a directory tree (a dataset, a scenario with its expected/ files) into a
// temporary directory the test may change.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

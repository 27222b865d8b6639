package dataset_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
)

// TestStoredPaymentMethods: the guide's stored payment methods load with or without Stripe
// IDs; the IDs come in pairs, in Stripe's forms, for a stored method only.
func TestStoredPaymentMethods(t *testing.T) {
	const header = datasettest.CustomersHeader + ",stripe_customer_id,stripe_payment_method_id,mandate_date"
	row := func(method, cus, pm, mandate string) string {
		ref, iban := "", ""
		if method == "sepa_direct_debit" {
			ref, iban = "M-1", "DE88370400440001000001"
		}
		return "C-X,X Ltd,1 Road,12345,Town,US,,ap@x.example," + method + "," + ref + "," + iban + ",12121212-1212-4212-8212-121212121212,x," + cus + "," + pm + "," + mandate
	}
	for _, c := range []struct {
		name, row, wantErr string
	}{
		{"paypal with IDs", row("paypal", "cus_ABC123", "pm_XYZ789", ""), ""},
		{"apple_pay without IDs", row("apple_pay", "", "", ""), ""},
		{"google_pay", row("google_pay", "cus_A", "pm_B", ""), ""},
		{"link", row("link", "cus_A", "pm_B", ""), ""},
		{"direct debit through Stripe", row("sepa_direct_debit", "cus_A", "pm_B", "2024-03-15"), ""},
		{"unknown method", row("bitcoin", "", "", ""), "field payment_method: must be one of sepa_credit_transfer, sepa_direct_debit, card, apple_pay, google_pay, paypal, link, online, got \"bitcoin\""},
		{"customer ID alone", row("card", "cus_A", "", ""), "field stripe_payment_method_id: is required with stripe_customer_id"},
		{"not a customer ID", row("card", "cust-1", "pm_B", ""), `field stripe_customer_id: "cust-1" is not a Stripe customer ID`},
		{"transfer with IDs", row("sepa_credit_transfer", "cus_A", "pm_B", ""), "field payment_method: sepa_credit_transfer is paid by the buyer, not charged"},
		{"mandate date", row("sepa_direct_debit", "", "", "15.03.2024"), `field mandate_date: "15.03.2024" is not a date`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := datasettest.World{Subscriptions: []string{"S1,C-X,t-m,end_customer,,,,2026-01-01,"}}
			f := fstest.MapFS{}
			for k, v := range w.FS() {
				cp := *v
				f[k] = &cp
			}
			f["customers.csv"] = &fstest.MapFile{Data: []byte(header + "\n" + c.row + "\n")}
			ds, err := dataset.Load(f)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				cu := ds.CustomerByID["C-X"]
				if !cu.PaymentMethod.Stored() || cu.ChargedByStripe() != (cu.StripeCustomerID != "") {
					t.Errorf("%+v: stored %v, charged by Stripe %v", cu.Party, cu.PaymentMethod.Stored(), cu.ChargedByStripe())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "customers.csv:2: ") || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %v, want customers.csv:2 and %q", err, c.wantErr)
			}
		})
	}
}

func TestDemoHasEveryPaymentMethod(t *testing.T) {
	ds, err := dataset.LoadDir("../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[dataset.PaymentMethod]bool{}
	for _, c := range ds.Customers {
		seen[c.PaymentMethod] = true
	}
	for _, m := range dataset.PaymentMethods {
		if !seen[m] && m != dataset.OnlinePayment {
			t.Errorf("no demo customer pays by %s", m)
		}
	}
}

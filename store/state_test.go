package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/dataset"
)

// TestDatasetPartsHoldTheDatasetsRecords loads the demo's outline and parts of it, as a
// run does: the outline lists every subscription in the dataset's order with its buyer,
// and a part holds exactly the given subscriptions (in the given order), their customers
// and their license reports, as the whole dataset has them.
func TestDatasetPartsHoldTheDatasetsRecords(t *testing.T) {
	ctx := context.Background()
	st := demo(t)
	whole, err := st.Dataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.DatasetOutline(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Subscriptions) != len(whole.Subscriptions) {
		t.Fatalf("outline: %d subscriptions, dataset %d", len(o.Subscriptions), len(whole.Subscriptions))
	}
	var all, viaPartner []string
	for i, ref := range o.Subscriptions {
		s := whole.Subscriptions[i]
		want := dataset.SubscriptionRef{ID: s.ID, CustomerID: s.CustomerID, PartnerID: s.PartnerID, Channel: s.Channel, Line: s.Line}
		if ref != want {
			t.Errorf("outline subscription %d: %+v, want %+v", i, ref, want)
		}
		all = append(all, s.ID)
		if s.Channel == dataset.ViaPartner {
			viaPartner = append(viaPartner, s.ID)
		}
	}
	if len(o.Base.Customers) != 0 || len(o.Base.Subscriptions) != 0 || len(o.Base.LicenseReports) != 0 {
		t.Errorf("outline holds %d customers, %d subscriptions, %d license reports; want none",
			len(o.Base.Customers), len(o.Base.Subscriptions), len(o.Base.LicenseReports))
	}
	if !reflect.DeepEqual(o.Base.Partners, whole.Partners) || !reflect.DeepEqual(o.Base.Catalog.Plans, whole.Catalog.Plans) ||
		o.Base.Seller.Name != whole.Seller.Name || o.Base.Seller.Location.String() != whole.Seller.Location.String() {
		t.Error("outline: partners, plans or seller differ from the dataset's")
	}
	if len(viaPartner) == 0 {
		t.Fatal("the demo has no subscription via a partner")
	}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	reports := 0
	for _, tc := range []struct {
		name string
		subs []string
	}{
		{"all, reversed", reversed},
		{"one", all[len(all)/2 : len(all)/2+1]},
		{"via partners", viaPartner},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := st.DatasetPart(ctx, o, tc.subs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			customers := map[string]bool{}
			for _, s := range p.Subscriptions {
				got = append(got, s.ID)
				if !reflect.DeepEqual(s, whole.SubscriptionByID[s.ID]) {
					t.Errorf("subscription %s: %+v, want %+v", s.ID, s, whole.SubscriptionByID[s.ID])
				}
				customers[s.CustomerID] = true
				if !reflect.DeepEqual(p.LicenseReports[s.ID], whole.LicenseReports[s.ID]) {
					t.Errorf("subscription %s: license reports %v, want %v", s.ID, p.LicenseReports[s.ID], whole.LicenseReports[s.ID])
				}
				reports += len(p.LicenseReports[s.ID])
			}
			if !slices.Equal(got, tc.subs) {
				t.Errorf("subscriptions %v, want %v", got, tc.subs)
			}
			if len(p.Customers) != len(customers) {
				t.Errorf("%d customers, want the %d of its subscriptions", len(p.Customers), len(customers))
			}
			for _, c := range p.Customers {
				if !customers[c.ID] || !reflect.DeepEqual(c, whole.CustomerByID[c.ID]) {
					t.Errorf("customer %s: %+v, want %+v (of a subscription of the part: %v)", c.ID, c, whole.CustomerByID[c.ID], customers[c.ID])
				}
			}
			for sub := range p.LicenseReports {
				if !slices.Contains(tc.subs, sub) {
					t.Errorf("license reports of subscription %s, not in the part", sub)
				}
			}
			if p.Seller.Location == nil || len(p.Catalog.PlanByID) == 0 || len(p.PartnerByID) != len(whole.Partners) {
				t.Error("part without the seller's time zone, the catalog or the partners")
			}
		})
	}
	if reports == 0 {
		t.Error("no license report loaded: the demo has some")
	}
	if _, err := st.DatasetPart(ctx, o, []string{all[0], "no-such-subscription"}); err == nil ||
		!strings.Contains(err.Error(), "subscription no-such-subscription is not stored") {
		t.Errorf("a part naming a subscription not stored: %v", err)
	}
}

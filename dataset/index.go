package dataset

import (
	"fmt"
	"sort"
	"time"
)

// Index rebuilds the lookup maps and the billing time zone of a dataset assembled from
// stored records (the records were validated when they were imported).
func (ds *Dataset) Index() error {
	ds.CustomerByID = map[string]*Customer{}
	for _, c := range ds.Customers {
		ds.CustomerByID[c.ID] = c
	}
	ds.PartnerByID = map[string]*Partner{}
	for _, p := range ds.Partners {
		ds.PartnerByID[p.ID] = p
	}
	ds.SubscriptionByID = map[string]*Subscription{}
	for _, s := range ds.Subscriptions {
		ds.SubscriptionByID[s.ID] = s
	}
	sort.SliceStable(ds.Subscriptions, func(i, j int) bool { return ds.Subscriptions[i].Line < ds.Subscriptions[j].Line })
	c := &ds.Catalog
	c.AppByID, c.UsageTypeByID, c.PlanByID = map[string]*App{}, map[string]*UsageType{}, map[string]*Plan{}
	for _, a := range c.Apps {
		c.AppByID[a.ID] = a
	}
	for _, u := range c.UsageTypes {
		c.UsageTypeByID[u.ID] = u
	}
	for _, p := range c.Plans {
		c.PlanByID[p.ID] = p
	}
	if ds.LicenseReports == nil {
		ds.LicenseReports = map[string][]LicenseReport{}
	}
	for _, reps := range ds.LicenseReports {
		sort.Slice(reps, func(i, j int) bool { return reps[i].ReportedOn.Before(reps[j].ReportedOn) })
	}
	for _, s := range ds.Subscriptions {
		if ds.CustomerByID[s.CustomerID] == nil || c.PlanByID[s.PlanID] == nil {
			return fmt.Errorf("subscription %s refers to a customer or plan that is not stored", s.ID)
		}
		if s.Channel == ViaPartner && ds.PartnerByID[s.PartnerID] == nil {
			return fmt.Errorf("subscription %s refers to partner %s, which is not stored", s.ID, s.PartnerID)
		}
	}
	loc, err := time.LoadLocation(ds.Seller.TimeZone)
	if err != nil {
		return fmt.Errorf("seller time zone: %w", err)
	}
	ds.Seller.Location = loc
	return nil
}

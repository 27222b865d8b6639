// The stored dataset: read whole, as an outline, or part by part.

package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/dataset"
)

// Dataset loads the stored dataset (without usage events).
func (s *Store) Dataset(ctx context.Context) (*dataset.Dataset, error) {
	ds, err := s.loadRecords(ctx, `select kind, doc from dataset_records order by kind, id`)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	return ds, nil
}

// loadRecords decodes the records query selects (kind, doc) into a dataset and indexes
// it; a dataset needs a seller and a catalog.
func (s *Store) loadRecords(ctx context.Context, query string) (*dataset.Dataset, error) {
	rows, err := s.pool.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read the dataset's records: %w", err)
	}
	ds := &dataset.Dataset{LicenseReports: map[string][]dataset.LicenseReport{}}
	seen := map[string]bool{}
	var kind string
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&kind, &doc}, func() error {
		seen[kind] = true
		return addRecord(ds, kind, doc)
	})
	if err != nil {
		return nil, fmt.Errorf("read the dataset's records: %w", err)
	}
	if !seen["seller"] || !seen["catalog"] {
		return nil, fmt.Errorf("nothing imported yet (run kontor import --data DIR)")
	}
	if err := ds.Index(); err != nil {
		return nil, fmt.Errorf("the stored dataset: %w", err)
	}
	return ds, nil
}

// addRecord decodes a stored record of the given kind into ds.
func addRecord(ds *dataset.Dataset, kind string, doc []byte) error {
	var err error
	switch kind {
	case "manifest":
		err = json.Unmarshal(doc, &ds.Manifest)
	case "seller":
		err = json.Unmarshal(doc, &ds.Seller)
	case "catalog":
		err = json.Unmarshal(doc, &ds.Catalog)
	case "customer":
		c := &dataset.Customer{}
		err = json.Unmarshal(doc, c)
		ds.Customers = append(ds.Customers, c)
	case "partner":
		p := &dataset.Partner{}
		err = json.Unmarshal(doc, p)
		ds.Partners = append(ds.Partners, p)
	case "subscription":
		sub := &dataset.Subscription{}
		err = json.Unmarshal(doc, sub)
		ds.Subscriptions = append(ds.Subscriptions, sub)
	case "license_report":
		var r dataset.LicenseReport
		err = json.Unmarshal(doc, &r)
		ds.LicenseReports[r.SubscriptionID] = append(ds.LicenseReports[r.SubscriptionID], r)
	}
	if err != nil {
		return fmt.Errorf("%s record: %w", kind, err)
	}
	return nil
}

// DatasetOutline loads the outline of the imported dataset.
func (s *Store) DatasetOutline(ctx context.Context) (*dataset.Outline, error) {
	base, err := s.loadRecords(ctx, `select kind, doc from dataset_records
		where kind in ('manifest', 'seller', 'catalog', 'partner') order by kind, id`)
	if err != nil {
		return nil, fmt.Errorf("load dataset outline: %w", err)
	}
	// Ordered as Dataset orders them: by ID as stored, then stably by line.
	rows, err := s.pool.Query(ctx, `select id, coalesce(doc->>'customer_id', ''), coalesce(doc->>'partner_id', ''),
			coalesce(doc->>'channel', ''), coalesce((doc->>'line')::bigint, 0)
		from dataset_records where kind = 'subscription' order by id`)
	if err != nil {
		return nil, fmt.Errorf("load dataset outline: subscriptions: %w", err)
	}
	o := &dataset.Outline{Base: base}
	var ref dataset.SubscriptionRef
	_, err = pgx.ForEachRow(rows, []any{&ref.ID, &ref.CustomerID, &ref.PartnerID, &ref.Channel, &ref.Line}, func() error {
		o.Subscriptions = append(o.Subscriptions, ref)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load dataset outline: subscriptions: %w", err)
	}
	slices.SortStableFunc(o.Subscriptions, func(a, b dataset.SubscriptionRef) int { return cmp.Compare(a.Line, b.Line) })
	return o, nil
}

// DatasetPart loads the subscriptions subs (IDs), their customers and their license
// reports, as a dataset with the outline's manifest, seller, catalog and partners. Its
// subscriptions are in the order of subs. It is indexed and checked as Dataset's is: a
// subscription whose customer, plan or partner is not stored is an error, and so is one
// of subs that is not stored.
func (s *Store) DatasetPart(ctx context.Context, o *dataset.Outline, subs []string) (*dataset.Dataset, error) {
	b := o.Base
	ds := &dataset.Dataset{Manifest: b.Manifest, Seller: b.Seller, Catalog: b.Catalog, Partners: b.Partners,
		LicenseReports: map[string][]dataset.LicenseReport{}}
	rows, err := s.pool.Query(ctx, `with subs as (
			select doc from dataset_records where kind = 'subscription' and id = any($1))
		select 'subscription', doc from subs
		union all
		select kind, doc from dataset_records
		where kind = 'customer' and id in (select doc->>'customer_id' from subs)
		union all
		select kind, doc from dataset_records
		where kind = 'license_report' and doc->>'subscription_id' = any($1)`, subs)
	if err != nil {
		return nil, fmt.Errorf("load dataset part: %w", err)
	}
	var kind string
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&kind, &doc}, func() error { return addRecord(ds, kind, doc) })
	if err != nil {
		return nil, fmt.Errorf("load dataset part: %w", err)
	}
	if err := ds.Index(); err != nil {
		return nil, fmt.Errorf("load dataset part: %w", err)
	}
	ordered := make([]*dataset.Subscription, 0, len(subs))
	for _, id := range subs {
		sub := ds.SubscriptionByID[id]
		if sub == nil {
			return nil, fmt.Errorf("load dataset part: subscription %s is not stored", id)
		}
		ordered = append(ordered, sub)
	}
	ds.Subscriptions = ordered
	return ds, nil
}

// Seller returns the imported seller, its time zone resolved: what a command needs before
// a run loads the whole dataset (the date in the seller's time zone).
func (s *Store) Seller(ctx context.Context) (dataset.Seller, error) {
	var seller dataset.Seller
	var doc []byte
	err := s.pool.QueryRow(ctx, `select doc from dataset_records where kind = 'seller' and id = '-'`).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return seller, fmt.Errorf("load seller: nothing imported yet (run kontor import --data DIR)")
	}
	if err != nil {
		return seller, fmt.Errorf("load seller: %w", err)
	}
	if err := json.Unmarshal(doc, &seller); err != nil {
		return seller, fmt.Errorf("load seller: %w", err)
	}
	if seller.Location, err = time.LoadLocation(seller.TimeZone); err != nil {
		return seller, fmt.Errorf("load seller: time zone: %w", err)
	}
	return seller, nil
}

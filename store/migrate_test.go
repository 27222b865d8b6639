package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
)

// TestMigrationKeepsSettledUsage takes a database back to schema 5, where a run marked
// each usage event settled in place, and forward again, through schema 6 (settled and
// held events by ID) to the latest (by number, held events whole): the events settled
// (with their run and fate) and those not settled yet come through both ways.
func TestMigrationKeepsSettledUsage(t *testing.T) {
	ctx := context.Background()
	_, st := storetest.New(t)
	db := st.Pool()
	if err := st.MigrateSchemaTo(ctx, 5); err != nil {
		t.Fatalf("down to 5: %v", err)
	}
	if _, err := db.Exec(ctx, `insert into runs (id, as_of) values (7, '2026-11-01');
		insert into usage_events (event_id, subscription_id, usage_type, quantity, occurred_at, received_at, settled_run, fate) values
		('E1', 'S-1', 'api', 1, '2026-10-01', '2026-10-01', 7, 1),
		('E2', 'S-1', 'api', 2, '2026-10-02', '2026-10-02', 7, 2),
		('E3', 'S-2', 'api', 3, '2026-10-03', '2026-10-03', null, null),
		('E4', 'S-2', 'api', 4, '2026-11-03', '2026-11-03', null, null)`); err != nil {
		t.Fatal(err)
	}
	if err := st.MigrateSchemaTo(ctx, 6); err != nil {
		t.Fatalf("up to 6: %v", err)
	}
	var settled, held string
	var cursor int64
	if err := db.QueryRow(ctx, `select (select string_agg(event_id || '/' || run_id || '/' || fate, ' ' order by event_id) from usage_settled),
		(select string_agg(event_id, ' ' order by event_id) from usage_held), (select seq from usage_cursor)`).Scan(&settled, &held, &cursor); err != nil {
		t.Fatal(err)
	}
	if settled != "E1/7/1 E2/7/2" || held != "E3 E4" || cursor != 4 {
		t.Errorf("after the migration: settled %q, held %q, cursor %d; want E1/7/1 E2/7/2, E3 E4, 4", settled, held, cursor)
	}
	if err := st.MigrateSchemaTo(ctx, -1); err != nil {
		t.Fatalf("up to the latest: %v", err)
	}
	// Schema 8 keeps settled events by number, one row per subscription and run; held
	// events whole.
	if err := db.QueryRow(ctx, `select (select string_agg(s.subscription_id || ':' || s.run_id || ':' || array_to_string(s.seqs, ',') || ':' || array_to_string(s.fates, ','), ' ') from usage_settled s),
		(select string_agg(h.seq || '/' || h.subscription_id || '/' || h.quantity || '/' || (h.occurred_at = u.occurred_at), ' ' order by h.seq)
		 from usage_held h join usage_events u using (seq))`).Scan(&settled, &held); err != nil {
		t.Fatal(err)
	}
	if settled != "S-1:7:1,2:1,2" || held != "3/S-2/3/true 4/S-2/4/true" {
		t.Errorf("after the migration to the latest: settled %q, held %q; want S-1:7:1,2:1,2, 3/S-2/3/true 4/S-2/4/true", settled, held)
	}
	un, err := st.UnsettledEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(un.Events["S-2"]) != 2 || len(un.Events) != 1 || un.Read.Held != 2 || !slices.Equal(un.Read.Seqs, []int64{3, 4}) {
		t.Errorf("unsettled after the migration: %+v", un)
	}
	if err := st.MigrateSchemaTo(ctx, 5); err != nil {
		t.Fatalf("down to 5 again: %v", err)
	}
	var back string
	if err := db.QueryRow(ctx, `select string_agg(event_id || '/' || coalesce(settled_run::text, '-') || '/' || coalesce(fate::text, '-'), ' ' order by event_id)
		from usage_events`).Scan(&back); err != nil {
		t.Fatal(err)
	}
	if back != "E1/7/1 E2/7/2 E3/-/- E4/-/-" {
		t.Errorf("after migrating down: %q", back)
	}
}

// TestMigrationKeepsTheLedger takes a database back to schema 8, where the ledger was a
// row per billed period, and forward again: every subscription's entries (a subscription
// without any included) come through both ways, and a run reads them as before.
func TestMigrationKeepsTheLedger(t *testing.T) {
	ctx := context.Background()
	_, st := storetest.New(t)
	db := st.Pool()
	if err := st.MigrateSchemaTo(ctx, 8); err != nil {
		t.Fatalf("down to 8: %v", err)
	}
	if _, err := db.Exec(ctx, `insert into runs (id, as_of) values (3, '2026-10-01'), (4, '2026-11-01');
		insert into ledger_subscriptions (subscription_id, first_run) values ('S-1', 3), ('S-2', 4), ('S-3', 4);
		insert into ledger_advance (subscription_id, period_start, quantity) values
			('S-1', '2026-10-01', 5), ('S-1', '2026-09-01', 4), ('S-2', '2026-11-01', 1);
		insert into ledger_usage (subscription_id, usage_type, period_start, units) values
			('S-1', 'api', '2026-09-01', 12.50), ('S-1', 'api', '2026-08-01', 3), ('S-1', 'checks', '2026-09-01', 0.1)`); err != nil {
		t.Fatal(err)
	}
	dump := func() string {
		var adv, use, subs string
		if err := db.QueryRow(ctx, `select (select string_agg(subscription_id || ' ' || period_start || ' ' || quantity, ', ' order by subscription_id, period_start) from ledger_advance),
			(select string_agg(subscription_id || ' ' || usage_type || ' ' || period_start || ' ' || units, ', ' order by subscription_id, usage_type, period_start) from ledger_usage),
			(select string_agg(subscription_id || '@' || first_run, ' ' order by subscription_id) from ledger_subscriptions)`).Scan(&adv, &use, &subs); err != nil {
			t.Fatal(err)
		}
		return adv + "; " + use + "; " + subs
	}
	before := dump()
	if err := st.MigrateSchemaTo(ctx, -1); err != nil {
		t.Fatalf("up to the latest: %v", err)
	}
	var rows string
	if err := db.QueryRow(ctx, `select string_agg(subscription_id || ' ' || first_run || ' ' || run_id || ' ' || advance_starts::text || ' ' || advance_quantities::text
		|| ' ' || usage_types::text || ' ' || usage_starts::text || ' ' || usage_units::text, ' | ' order by subscription_id) from ledger`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	want := "S-1 3 3 {2026-09-01,2026-10-01} {4,5} {api,api,checks} {2026-08-01,2026-09-01,2026-09-01} {3,12.50,0.1} | " +
		"S-2 4 4 {2026-11-01} {1} {} {} {} | S-3 4 4 {} {} {} {} {}"
	if rows != want {
		t.Errorf("ledger after the migration:\n%s\nwant\n%s", rows, want)
	}
	led, err := st.Ledger(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	s1, ok := led.Prior("S-1")
	_, ok3 := led.Prior("S-3")
	if !ok || !ok3 || len(led.Priors) != 3 || s1.Advance[calendar.MustParse("2026-10-01")] != 5 ||
		s1.Usage[rating.UsageKey{Type: "api", PeriodStart: calendar.MustParse("2026-09-01")}].String() != "12.5" {
		t.Errorf("ledger as a run reads it: %+v", led.Priors)
	}
	if err := st.MigrateSchemaTo(ctx, 8); err != nil {
		t.Fatalf("down to 8 again: %v", err)
	}
	if after := dump(); after != before {
		t.Errorf("after migrating down:\n%s\nwant\n%s", after, before)
	}
}

// TestMigrationRenamesRecordKeys takes a store of the demo dataset back to schema 11, where
// the records were stored under their Go field names, and forward again: the keys come
// through both ways, no document keeps a key of the other form, and the dataset read
// after the round trip (whole, as an outline and by part) is the one imported.
func TestMigrationRenamesRecordKeys(t *testing.T) {
	ctx := context.Background()
	_, st := storetest.New(t)
	ds, err := dataset.LoadDir("../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, ds); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		whole, err := st.Dataset(ctx)
		if err != nil {
			t.Fatal(err)
		}
		o, err := st.DatasetOutline(ctx)
		if err != nil {
			t.Fatal(err)
		}
		part, err := st.DatasetPart(ctx, o, []string{whole.Subscriptions[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal([]any{whole.Customers, whole.Partners, whole.Subscriptions, whole.LicenseReports, o.Subscriptions, part.Customers, part.LicenseReports})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// keys counts the records of the four kinds with a key of each form: Go field names
	// begin with a capital letter, JSON tags are lower case.
	keys := func() (goNames, tags int) {
		if err := st.Pool().QueryRow(ctx, `select
			count(*) filter (where exists (select from jsonb_object_keys(doc) k where k ~ '^[A-Z]')),
			count(*) filter (where exists (select from jsonb_object_keys(doc) k where k ~ '^[a-z]' and k not in ('street', 'street2', 'postcode', 'city', 'country')))
			from dataset_records where kind in ('customer', 'partner', 'subscription', 'license_report')`).Scan(&goNames, &tags); err != nil {
			t.Fatal(err)
		}
		return goNames, tags
	}
	want := read()
	var records int
	if err := st.Pool().QueryRow(ctx, `select count(*) from dataset_records where kind in ('customer', 'partner', 'subscription', 'license_report')`).Scan(&records); err != nil {
		t.Fatal(err)
	}
	if g, tg := keys(); g != 0 || tg != records || records < 40 {
		t.Fatalf("imported: %d of %d records with Go field names, %d with JSON tags", g, records, tg)
	}
	for _, step := range []struct {
		to         int32
		goNames    bool
		customerID string // a subscription's customer under the schema's key
	}{{11, true, "CustomerID"}, {-1, false, "customer_id"}, {11, true, "CustomerID"}, {-1, false, "customer_id"}} {
		if err := st.MigrateSchemaTo(ctx, step.to); err != nil {
			t.Fatalf("to %d: %v", step.to, err)
		}
		g, tg := keys()
		if step.goNames && (g != records || tg != 0) || !step.goNames && (g != 0 || tg != records) {
			t.Errorf("schema %d: %d of %d records with Go field names, %d with JSON tags", step.to, g, records, tg)
		}
		storedKeysAre(t, st, !step.goNames)
		var withCustomer int
		if err := st.Pool().QueryRow(ctx, `select count(*) from dataset_records where kind = 'subscription' and doc->>$1 <> ''`, step.customerID).Scan(&withCustomer); err != nil {
			t.Fatal(err)
		}
		if withCustomer != len(ds.Subscriptions) {
			t.Errorf("schema %d: %d of %d subscriptions have %s", step.to, withCustomer, len(ds.Subscriptions), step.customerID)
		}
	}
	if got := read(); got != want {
		t.Errorf("the dataset read after migrating down and up differs from the one imported:\n%s", storetest.FirstDifference(want, got))
	}
}

// storedKeysAre checks that every key of the stored customers, partners, subscriptions and
// license reports is a key of their Go type: its JSON tag when tags is set, else its Go
// field name (as encoding/json writes a type without tags).
func storedKeysAre(t *testing.T, st *store.Store, tags bool) {
	t.Helper()
	types := map[string]reflect.Type{"customer": reflect.TypeFor[dataset.Customer](), "partner": reflect.TypeFor[dataset.Partner](),
		"subscription": reflect.TypeFor[dataset.Subscription](), "license_report": reflect.TypeFor[dataset.LicenseReport]()}
	rows, err := st.Pool().Query(context.Background(), `select distinct kind, k from dataset_records, jsonb_object_keys(doc) k
		where kind in ('customer', 'partner', 'subscription', 'license_report') order by 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var kind, key string
	if _, err := pgx.ForEachRow(rows, []any{&kind, &key}, func() error {
		if !slices.Contains(jsonKeys(types[kind], tags), key) {
			t.Errorf("a stored %s has the key %q, not one of %v", kind, key, jsonKeys(types[kind], tags))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// jsonKeys lists the keys encoding/json writes for a struct type: embedded structs
// flattened; a field's JSON tag when tags is set or the field's struct has tags only
// (dataset.Address), else its name.
func jsonKeys(typ reflect.Type, tags bool) []string {
	var keys []string
	for f := range typ.Fields() {
		if f.Anonymous && f.Tag.Get("json") == "" {
			keys = append(keys, jsonKeys(f.Type, tags || f.Type == reflect.TypeFor[dataset.Address]())...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !tags || name == "" {
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}

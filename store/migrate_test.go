package store_test

import (
	"context"
	"testing"

	"github.com/kontor-billing/kontor/store/storetest"
)

// TestMigrationKeepsSettledUsage takes a database back to schema 5, where a run marked
// each usage event settled in place, and forward again: the events settled (with their
// run and fate) and those not settled yet come through both ways.
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
	un, err := st.UnsettledEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(un.Events["S-2"]) != 2 || len(un.Events) != 1 || un.Read.Held != 2 {
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

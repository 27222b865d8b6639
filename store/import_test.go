package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
)

// events is a stream of usage events for ImportEvents, failing with err (if set) after
// emitting them all, as a dataset with a bad row does.
type events struct {
	evs []dataset.UsageEvent
	err error
}

func (e events) Each(emit func(*dataset.UsageEvent) error) error {
	for i := range e.evs {
		if err := emit(&e.evs[i]); err != nil {
			return err
		}
	}
	return e.err
}

// TestImportEvents imports usage events on top of stored ones: new events are added (one
// insert), stored ones are recognised (the insert stops and the events are compared), an
// event ID stored with other content or a bad row in the dataset imports nothing. Into a
// store without events, the events are copied into the table with its primary key
// dropped and built again: a bad row, or an event ID twice (which the files' reader never
// hands over), imports nothing and leaves the key in place. After every import the
// table's indexes are those the migrations made.
func TestImportEvents(t *testing.T) {
	w := datasettest.World{Subscriptions: []string{"S1,C-DE,t-m,end_customer,,,,2026-01-01,"},
		Usage: []string{"E1,S1,checks,1,2026-10-03T10:00:00+02:00,,", "E2,S1,checks,2,2026-10-04T10:00:00+02:00,,"}}
	ds := w.Load(t)
	stored := ds.Usage // E1, E2
	ev := func(id string, qty int64) dataset.UsageEvent {
		e := stored[0]
		e.ID, e.Quantity = id, qty
		return e
	}
	badRow := dataset.Errors{{File: "usage.csv", Line: 7, Field: "quantity", Reason: "is required"}}
	tests := []struct {
		name         string
		events       events
		added, known int
		conflict     []string
		err          error
		errContains  string
		storedAfter  []string
		empty        bool // import into a store without events
	}{
		{name: "into an empty store", empty: true, events: events{evs: []dataset.UsageEvent{ev("E4", 4), ev("E3", 3)}},
			added: 2, storedAfter: []string{"E3", "E4"}},
		{name: "a bad row into an empty store", empty: true, events: events{evs: []dataset.UsageEvent{ev("E3", 3)}, err: badRow},
			err: badRow},
		{name: "an event ID twice into an empty store", empty: true, events: events{evs: []dataset.UsageEvent{ev("E3", 3), ev("E3", 3)}},
			errContains: "import: index the usage events"},
		{name: "new events only", events: events{evs: []dataset.UsageEvent{ev("E3", 3), ev("E4", 4)}},
			added: 2, storedAfter: []string{"E1", "E2", "E3", "E4"}},
		{name: "the stored events again", events: events{evs: stored},
			known: 2, storedAfter: []string{"E1", "E2"}},
		{name: "new events after stored ones", events: events{evs: []dataset.UsageEvent{stored[1], ev("E3", 3), stored[0]}},
			added: 1, known: 2, storedAfter: []string{"E1", "E2", "E3"}},
		{name: "a stored event ID with another quantity", events: events{evs: []dataset.UsageEvent{ev("E3", 3), ev("E2", 9)}},
			conflict: []string{"E2"}, storedAfter: []string{"E1", "E2"}},
		{name: "a bad row in the dataset", events: events{evs: []dataset.UsageEvent{ev("E3", 3)}, err: badRow},
			err: badRow, storedAfter: []string{"E1", "E2"}},
		{name: "a bad row after a stored event", events: events{evs: []dataset.UsageEvent{stored[0], ev("E3", 3)}, err: badRow},
			err: badRow, storedAfter: []string{"E1", "E2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, st := storetest.New(t)
			ctx := context.Background()
			if !tt.empty {
				if res, err := st.Import(ctx, ds); err != nil || res.Events != 2 || res.KnownEvents != 0 {
					t.Fatalf("first import: %+v, %v", res, err)
				}
			}
			res, err := st.ImportEvents(ctx, ds, tt.events)
			var conflict *store.ConflictError
			switch {
			case tt.conflict != nil:
				if !errors.As(err, &conflict) || !slices.Equal(conflict.EventIDs, tt.conflict) {
					t.Errorf("err = %v, want a conflict on %v", err, tt.conflict)
				}
			case tt.err != nil:
				var errs dataset.Errors
				if !errors.As(err, &errs) || err.Error() != tt.err.Error() {
					t.Errorf("err = %v, want %v", err, tt.err)
				}
			case tt.errContains != "":
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Errorf("err = %v, want one saying %q", err, tt.errContains)
				}
			case err != nil:
				t.Fatal(err)
			case res.Events != tt.added || res.KnownEvents != tt.known:
				t.Errorf("added %d, known %d; want %d, %d", res.Events, res.KnownEvents, tt.added, tt.known)
			}
			if got := storedEvents(t, st); !slices.Equal(got, tt.storedAfter) {
				t.Errorf("stored %v, want %v", got, tt.storedAfter)
			}
			if got := eventIndexes(t, st); got != migratedIndexes {
				t.Errorf("indexes of usage_events:\n%s\nwant\n%s", got, migratedIndexes)
			}
		})
	}
}

// migratedIndexes are the indexes of usage_events as the migrations make them.
const migratedIndexes = `usage_events_pkey p CREATE UNIQUE INDEX usage_events_pkey ON public.usage_events USING btree (event_id)
usage_events_seq - CREATE INDEX usage_events_seq ON public.usage_events USING brin (seq)`

// eventIndexes lists the indexes of usage_events: name, constraint type, definition.
func eventIndexes(t *testing.T, st *store.Store) string {
	t.Helper()
	var got string
	if err := st.Pool().QueryRow(context.Background(), `select string_agg(i.indexname || ' ' || coalesce(c.contype::text, '-') || ' ' || i.indexdef, E'\n' order by i.indexname)
		from pg_indexes i left join pg_constraint c on c.conname = i.indexname and c.conrelid = 'usage_events'::regclass
		where i.tablename = 'usage_events'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestImportNumbersEventsInIDOrder: an import into a store holding events adds its
// events in the order of their IDs (the unique index on them takes keys in order several
// times faster), numbered after those stored before, whatever order the files have them
// in; so does an import that brings stored events again. The first import, into a store
// without events, copies them in file order (its key is built after the copy).
func TestImportNumbersEventsInIDOrder(t *testing.T) {
	w := datasettest.World{Subscriptions: []string{"S1,C-DE,t-m,end_customer,,,,2026-01-01,"},
		Usage: []string{"E5,S1,checks,1,2026-10-03T10:00:00+02:00,,", "E2,S1,checks,2,2026-10-04T10:00:00+02:00,,"}}
	ds := w.Load(t)
	ev := func(id string) dataset.UsageEvent {
		e := ds.Usage[0]
		e.ID = id
		return e
	}
	_, st := storetest.New(t)
	ctx := context.Background()
	for i, tt := range []struct {
		events events
		want   []string // every stored event ID, by number
	}{
		{events{evs: ds.Usage}, []string{"E5", "E2"}},
		{events{evs: []dataset.UsageEvent{ev("E9"), ev("E1"), ev("E7")}}, []string{"E5", "E2", "E1", "E7", "E9"}},
		{events{evs: []dataset.UsageEvent{ev("E8"), ds.Usage[1], ev("E3")}}, []string{"E5", "E2", "E1", "E7", "E9", "E3", "E8"}},
	} {
		if _, err := st.ImportEvents(ctx, ds, tt.events); err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		rows, err := st.Pool().Query(ctx, `select event_id from usage_events order by seq`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("after import %d: events by number %v, want %v", i+1, got, tt.want)
		}
	}
}

// storedEvents lists the stored events as the next run reads them (by number, the ID
// looked up): ID, quantity.
func storedEvents(t *testing.T, st *store.Store) []string {
	t.Helper()
	ctx := context.Background()
	un, err := st.UnsettledEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, evs := range un.Events {
		for _, e := range evs {
			var id string
			if err := st.Pool().QueryRow(ctx, `select event_id from usage_events where seq = $1`, e.Seq).Scan(&id); err != nil {
				t.Fatalf("event number %d: %v", e.Seq, err)
			}
			ids = append(ids, id)
			if e.Quantity != map[string]int64{"E1": 1, "E2": 2, "E3": 3, "E4": 4}[id] {
				ids = append(ids, fmt.Sprintf("(quantity %d)", e.Quantity))
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// TestSeller reads the imported seller alone, as kontor run and schedule do before a run.
func TestSeller(t *testing.T) {
	_, st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.Seller(ctx); err == nil || !strings.Contains(err.Error(), "nothing imported yet") {
		t.Errorf("before an import: %v, want nothing imported yet", err)
	}
	if _, err := st.Import(ctx, datasettest.World{}.Load(t)); err != nil {
		t.Fatal(err)
	}
	seller, err := st.Seller(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seller.Name != "Test Seller GmbH" || seller.Location == nil || seller.Location.String() != "Europe/Berlin" {
		t.Errorf("seller %q in %v, want Test Seller GmbH in Europe/Berlin", seller.Name, seller.Location)
	}
}

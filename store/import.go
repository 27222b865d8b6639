package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/dataset"
)

// ImportResult says what an import changed.
type ImportResult struct {
	Records       int // dataset records added or changed
	Events        int // usage events added
	KnownEvents   int // usage events already stored (the same event sent again)
	DuplicateRows int // rows repeating an event within the imported files
}

// ConflictError lists usage events whose ID is stored with other content.
type ConflictError struct{ EventIDs []string }

func (e *ConflictError) Error() string {
	ids := e.EventIDs
	more := ""
	if len(ids) > 20 {
		ids, more = ids[:20], fmt.Sprintf(" and %d more", len(e.EventIDs)-20)
	}
	return fmt.Sprintf("import: %d usage event(s) reuse the ID of a stored event with other content: %s%s; nothing was imported",
		len(e.EventIDs), strings.Join(ids, ", "), more)
}

type record struct {
	kind, id string
	doc      any
}

func records(ds *dataset.Dataset) []record {
	recs := []record{{"manifest", "-", ds.Manifest}, {"seller", "-", ds.Seller}, {"catalog", "-", ds.Catalog}}
	for _, c := range ds.Customers {
		recs = append(recs, record{"customer", c.ID, c})
	}
	for _, p := range ds.Partners {
		recs = append(recs, record{"partner", p.ID, p})
	}
	for _, s := range ds.Subscriptions {
		recs = append(recs, record{"subscription", s.ID, s})
	}
	for sub, reps := range ds.LicenseReports {
		for _, r := range reps {
			recs = append(recs, record{"license_report", sub + "/" + r.ReportedOn.String(), r})
		}
	}
	return recs
}

// Import stores a validated dataset idempotently, in one transaction: records are added
// or updated, usage events are added through COPY and deduplicated by event ID. Importing
// the same data again changes nothing. An event whose ID is stored with other content
// aborts the import: nothing is imported.
func (s *Store) Import(ctx context.Context, ds *dataset.Dataset) (ImportResult, error) {
	return s.ImportProgress(ctx, ds, nil)
}

// ImportProgress is Import telling progress, when set, how many usage events were copied
// (every 10,000 and at the end).
func (s *Store) ImportProgress(ctx context.Context, ds *dataset.Dataset, progress func(done, total int)) (ImportResult, error) {
	res := ImportResult{DuplicateRows: ds.Duplicates}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback(ctx)

	if _, err := tx.Exec(ctx, `create temp table tmp_records (kind text, id text, doc jsonb) on commit drop`); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	recs := records(ds)
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"tmp_records"}, []string{"kind", "id", "doc"},
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			b, err := json.Marshal(recs[i].doc)
			return []any{recs[i].kind, recs[i].id, string(b)}, err
		}))
	if err != nil {
		return res, fmt.Errorf("import: copy records: %w", err)
	}
	tag, err := tx.Exec(ctx, `insert into dataset_records (kind, id, doc) select kind, id, doc from tmp_records
		on conflict (kind, id) do update set doc = excluded.doc where dataset_records.doc is distinct from excluded.doc`)
	if err != nil {
		return res, fmt.Errorf("import: records: %w", err)
	}
	res.Records = int(tag.RowsAffected())

	if _, err := tx.Exec(ctx, `create temp table tmp_usage (event_id text, subscription_id text, usage_type text,
		quantity bigint, occurred_at timestamptz, received_at timestamptz, via_psp boolean) on commit drop`); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	evs := ds.Usage
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"tmp_usage"},
		[]string{"event_id", "subscription_id", "usage_type", "quantity", "occurred_at", "received_at", "via_psp"},
		pgx.CopyFromSlice(len(evs), func(i int) ([]any, error) {
			if progress != nil && ((i+1)%10000 == 0 || i+1 == len(evs)) {
				progress(i+1, len(evs))
			}
			e := &evs[i]
			return []any{e.ID, e.SubscriptionID, e.UsageType, e.Quantity, e.OccurredAt, e.ReceivedAt, e.ViaPSP}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("import: copy usage: %w", err)
	}
	rows, err := tx.Query(ctx, `select t.event_id from tmp_usage t join usage_events u using (event_id)
		where (u.subscription_id, u.usage_type, u.quantity, u.occurred_at, u.via_psp)
		   is distinct from (t.subscription_id, t.usage_type, t.quantity, t.occurred_at, t.via_psp)
		order by t.event_id`)
	if err != nil {
		return res, fmt.Errorf("import: check usage: %w", err)
	}
	conflicts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return res, fmt.Errorf("import: check usage: %w", err)
	}
	if len(conflicts) > 0 {
		return res, &ConflictError{EventIDs: conflicts}
	}
	// Events are numbered as they are added (usage_events.seq), and a run reads the
	// numbers above the last run's: so no run may read between this insert and its commit
	// (it would miss these numbers for good). The run lock, until commit, makes runs wait.
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, RunLock); err != nil {
		return res, fmt.Errorf("import: wait for a run to finish: %w", err)
	}
	tag, err = tx.Exec(ctx, `insert into usage_events (event_id, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp)
		select event_id, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp from tmp_usage
		on conflict (event_id) do nothing`)
	if err != nil {
		return res, fmt.Errorf("import: usage: %w", err)
	}
	res.Events = int(tag.RowsAffected())
	res.KnownEvents = len(evs) - res.Events
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("import: commit: %w", err)
	}
	// The planner's statistics of a table that just grew by millions of rows are stale
	// until autovacuum comes by; the next run's read of the new events needs them now.
	if res.Events > 0 {
		if _, err := s.pool.Exec(ctx, `analyze usage_events`); err != nil {
			return res, fmt.Errorf("import: analyze usage: %w", err)
		}
	}
	return res, nil
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	return s.ImportEvents(ctx, ds, eventSlice(ds.Usage))
}

// Events is a stream of usage events, as dataset.Usage reads them from the files: Each
// calls emit for every event, each event ID once, and returns an error (stopping) when
// emit does.
type Events interface {
	Each(emit func(*dataset.UsageEvent) error) error
}

type eventSlice []dataset.UsageEvent

func (evs eventSlice) Each(emit func(*dataset.UsageEvent) error) error {
	for i := range evs {
		if err := emit(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ImportEvents is Import with the dataset's usage events read from events while they are
// copied into PostgreSQL, not held in memory. When events fails (an invalid row: Each
// returns the dataset's Errors), nothing is imported and its error is returned.
// ds.Duplicates is read after events is, which may count them.
func (s *Store) ImportEvents(ctx context.Context, ds *dataset.Dataset, events Events) (ImportResult, error) {
	var res ImportResult
	// The usage files are read from the start: the first pass over them (finding resent
	// events) overlaps storing the records; the events wait for the copy below.
	rd := readEvents(ctx, events)
	defer func() { _ = rd.stop() }() // its error is copyEvents's to report
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback(ctx)

	if res.Records, err = saveRecords(ctx, tx, ds); err != nil {
		return res, err
	}

	// Events are numbered as they are added (usage_events.seq), and a run reads the
	// numbers above the last run's: so no run may read between adding them and the commit
	// (it would miss these numbers for good). The run lock, until commit, makes runs wait,
	// and other imports: the checks below see every event stored before.
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, RunLock); err != nil {
		return res, fmt.Errorf("import: wait for a run to finish: %w", err)
	}
	// A store without events yet (a first import, or a history loaded at once) gets them
	// copied straight into usage_events while the files are read, its primary key
	// dropped first and built again after: PostgreSQL builds a B-tree in one pass over
	// the sorted keys (on parallel workers where it has them), several times faster than
	// it adds keys one by one, and the copy needs no temporary table (measured at 10
	// million events in psql: adding them to the table without the key 12 s, then
	// building it 4.5 s, against 30 s for the sorted insert below; kontor's import 56-70
	// -> 33 s). The files hold each event ID once and no stored event can conflict; the
	// lock keeps other imports out, and until the commit every other session waits for
	// the table.
	var empty bool
	if err := tx.QueryRow(ctx, `select not exists (select from usage_events)`).Scan(&empty); err != nil {
		return res, fmt.Errorf("import: usage: %w", err)
	}
	if empty {
		if res.Events, err = copyIntoEmpty(ctx, tx, rd); err != nil {
			return res, err
		}
		return s.commitImport(ctx, tx, ds, res, res.Events)
	}
	read, err := copyIntoExisting(ctx, tx, rd, &res)
	if err != nil {
		return res, err
	}
	return s.commitImport(ctx, tx, ds, res, read)
}

// saveRecords stores the dataset's records (added, or updated where they changed) and
// returns how many it wrote.
func saveRecords(ctx context.Context, tx pgx.Tx, ds *dataset.Dataset) (int, error) {
	if _, err := tx.Exec(ctx, `create temp table tmp_records (kind text, id text, doc jsonb) on commit drop`); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	recs := records(ds)
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"tmp_records"}, []string{"kind", "id", "doc"},
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			b, err := json.Marshal(recs[i].doc)
			return []any{recs[i].kind, recs[i].id, string(b)}, err
		}))
	if err != nil {
		return 0, fmt.Errorf("import: copy records: %w", err)
	}
	if err := saveLogo(ctx, tx, ds.Seller.Logo); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, `insert into dataset_records (kind, id, doc) select kind, id, doc from tmp_records
		on conflict (kind, id) do update set doc = excluded.doc where dataset_records.doc is distinct from excluded.doc`)
	if err != nil {
		return 0, fmt.Errorf("import: records: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// copyIntoExisting adds the events rd reads to a store that holds events: they are
// copied into a temporary table while the files are read (no index, no WAL: PostgreSQL
// keeps up with the reading), then added to usage_events in the order of their IDs. Event
// IDs come in no particular order (random UUIDs, commonly), and a B-tree takes keys in
// order several times faster than keys at random places: each leaf page is filled or
// passed once instead of read and dirtied again for every few events (measured at 10
// million random IDs: 133 s in file order, 36 s sorted, the sort included). The IDs
// compare byte for byte, as usage_events' do (migration 011). It sets res.Events and
// returns how many events it read.
func copyIntoExisting(ctx context.Context, tx pgx.Tx, rd *eventReader, res *ImportResult) (int, error) {
	if _, err := tx.Exec(ctx, `create temp table tmp_usage (event_id text collate "C", subscription_id text, usage_type text,
		quantity bigint, occurred_at timestamptz, received_at timestamptz, via_psp boolean) on commit drop`); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	read, err := copyEvents(ctx, tx, "tmp_usage", rd)
	if err != nil {
		return 0, err
	}
	// Most imports bring new events only: they are added in one insert. Should an event
	// be stored already (an import repeated, files that overlap), the insert stops at it
	// with a unique violation, and the events are compared with the stored ones and only
	// the new ones added.
	if _, err := tx.Exec(ctx, `savepoint new_events`); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	tag, err := tx.Exec(ctx, `insert into usage_events (`+eventColumns+`)
		select `+eventColumns+` from tmp_usage order by event_id`)
	switch {
	case err == nil:
		res.Events = int(tag.RowsAffected())
	case violates(err, "usage_events_pkey"):
		if _, err := tx.Exec(ctx, `rollback to savepoint new_events`); err != nil {
			return 0, fmt.Errorf("import: %w", err)
		}
		if res.Events, err = addNewEvents(ctx, tx); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("import: usage: %w", err)
	}
	return read, nil
}

// commitImport commits an import that read events from the files and added res.Events
// of them, and has PostgreSQL's statistics of usage_events brought up to date.
func (s *Store) commitImport(ctx context.Context, tx pgx.Tx, ds *dataset.Dataset, res ImportResult, read int) (ImportResult, error) {
	res.DuplicateRows = ds.Duplicates
	res.KnownEvents = read - res.Events
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

// copyIntoEmpty copies the events rd reads into usage_events, which holds none, with its
// primary key dropped meanwhile and built again after (see ImportEvents). It returns how
// many it added.
func copyIntoEmpty(ctx context.Context, tx pgx.Tx, rd *eventReader) (int, error) {
	if _, err := tx.Exec(ctx, `alter table usage_events drop constraint usage_events_pkey`); err != nil {
		return 0, fmt.Errorf("import: usage: %w", err)
	}
	n, err := copyEvents(ctx, tx, "usage_events", rd)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `alter table usage_events add constraint usage_events_pkey primary key (event_id)`); err != nil {
		return 0, fmt.Errorf("import: index the usage events: %w", err)
	}
	return n, nil
}

// eventColumnNames are the columns of a usage event, in usage_events and tmp_usage, in
// the order eventRows gives their values; eventColumns lists them for SQL.
var (
	eventColumnNames = []string{"event_id", "subscription_id", "usage_type", "quantity", "occurred_at", "received_at", "via_psp"}
	eventColumns     = strings.Join(eventColumnNames, ", ")
)

// addNewEvents adds the events in tmp_usage not stored yet to usage_events in the order
// of their IDs, after checking that none reuses a stored event's ID with other content.
// It returns how many it added.
func addNewEvents(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `select t.event_id from tmp_usage t join usage_events u using (event_id)
		where (u.subscription_id, u.usage_type, u.quantity, u.occurred_at, u.via_psp)
		   is distinct from (t.subscription_id, t.usage_type, t.quantity, t.occurred_at, t.via_psp)
		order by t.event_id`)
	if err != nil {
		return 0, fmt.Errorf("import: check usage: %w", err)
	}
	conflicts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("import: check usage: %w", err)
	}
	if len(conflicts) > 0 {
		return 0, &ConflictError{EventIDs: conflicts}
	}
	// A plain insert of what is not stored (under the lock) is a third cheaper than one
	// resolving conflicts row by row ("on conflict do nothing").
	tag, err := tx.Exec(ctx, `insert into usage_events (`+eventColumns+`)
		select `+eventColumns+` from tmp_usage t
		where not exists (select from usage_events u where u.event_id = t.event_id)
		order by t.event_id`)
	if err != nil {
		return 0, fmt.Errorf("import: usage: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// eventReader reads events (parsing and checking them, for a dataset's files) on a
// goroutine of its own and hands them over in batches.
type eventReader struct {
	batches chan []dataset.UsageEvent
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // the reading's error; set when done is closed
}

// readEvents starts reading events. The reading stops at its end, at an error, or when
// ctx is cancelled or stop called while it waits to hand over a batch.
func readEvents(ctx context.Context, events Events) *eventReader {
	ctx, cancel := context.WithCancel(ctx)
	r := &eventReader{batches: make(chan []dataset.UsageEvent, 4), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer close(r.batches)
		batch := make([]dataset.UsageEvent, 0, copyBatch)
		send := func() error {
			select {
			case r.batches <- batch:
				batch = make([]dataset.UsageEvent, 0, copyBatch)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		r.err = events.Each(func(ev *dataset.UsageEvent) error {
			batch = append(batch, *ev)
			if len(batch) == copyBatch {
				return send()
			}
			return nil
		})
		if r.err == nil && len(batch) > 0 {
			r.err = send()
		}
	}()
	return r
}

// stop stops the reading and waits for it to end; it returns the reading's error. It may
// be called more than once.
func (r *eventReader) stop() error {
	r.cancel()
	<-r.done
	return r.err
}

// copyEvents copies the events rd reads into table (tmp_usage or usage_events) while they
// are read, so that reading, encoding and PostgreSQL's work overlap.
func copyEvents(ctx context.Context, tx pgx.Tx, table string, rd *eventReader) (int, error) {
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{table}, eventColumnNames, eventRows(rd.batches))
	readErr := rd.stop() // the COPY ends with what was read, or stops it by failing
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return 0, readErr // the dataset's errors; nothing is imported
	}
	if err != nil {
		return 0, fmt.Errorf("import: copy usage: %w", err)
	}
	if readErr != nil {
		return 0, fmt.Errorf("import: read usage: %w", readErr)
	}
	return int(copied), nil
}

const copyBatch = 1000

// eventRows is pgx's CopyFromSource over batches of events. The row's slice is reused:
// pgx encodes a row before it asks for the next.
func eventRows(batches <-chan []dataset.UsageEvent) pgx.CopyFromSource {
	var batch []dataset.UsageEvent
	var values [7]any
	i := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		for i >= len(batch) {
			b, ok := <-batches
			if !ok {
				return nil, nil
			}
			batch, i = b, 0
		}
		e := &batch[i]
		i++
		values = [7]any{e.ID, e.SubscriptionID, e.UsageType, e.Quantity, e.OccurredAt.Time(), e.ReceivedAt.Time(), e.ViaPSP}
		return values[:], nil
	})
}

// violates reports whether err is PostgreSQL's unique_violation (SQLSTATE 23505) of the
// unique key named key.
func violates(err error, key string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == key
}

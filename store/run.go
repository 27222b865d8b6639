package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
)

// Advisory lock keys.
const (
	// RunLock is held by a run from start to end: runs, and schedule ticks, never overlap.
	RunLock int64 = 0x6b6f6e746f72 // "kontor"
)

// Lock waits for the session advisory lock key and returns its release. The lock lives on a
// connection of its own, so it is released when the process dies, too.
func (s *Store) Lock(ctx context.Context, key int64) (func(), error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return unlocker(conn, key), nil
}

// TryLock takes the advisory lock if it is free; ok is false when another session holds it.
func (s *Store) TryLock(ctx context.Context, key int64) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	if err := conn.QueryRow(ctx, "select pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, false, fmt.Errorf("lock: %w", err)
		}
		return nil, false, nil
	}
	return unlocker(conn, key), true, nil
}

func unlocker(conn *pgxpool.Conn, key int64) func() {
	return func() {
		conn.Exec(context.Background(), "select pg_advisory_unlock($1)", key)
		conn.Release()
	}
}

// StartRun records the start of a run.
func (s *Store) StartRun(ctx context.Context, asOf calendar.Date) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "insert into runs (as_of) values ($1) returning id", asOf.String()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of a run and its summary.
func (s *Store) FinishRun(ctx context.Context, id int64, summary any) error {
	b, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	if _, err := s.pool.Exec(ctx, "update runs set status = 'done', finished_at = now(), summary = $2 where id = $1", id, b); err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

// Assembly is what the assemble stage of a run stores, all or nothing.
type Assembly struct {
	RunID    int64
	Invoices []*invoice.Invoice // drafts
	Charges  []rating.Charge    // the charges on the drafts
	Skipped  []invoice.Skipped
	// Outcomes are the ledgers and settled events of the subscriptions whose charges are on
	// the drafts (or that had nothing to charge); Prior is the ledger they started from.
	Outcomes []rating.Outcome
	Prior    map[string]rating.Prior
	// Usage is the rating of the closed usage buckets of those subscriptions.
	Usage []rating.UsageSummary
}

// ErrAlreadyBilled means a charge key was stored before: the ledger and the charges
// disagree, and nothing of the assembly was stored.
var ErrAlreadyBilled = errors.New("charge already billed")

// SaveAssembly stores the drafts of a run, their charges, the ledger after it, the events it
// settled and the buyers it skipped, in one transaction.
func (s *Store) SaveAssembly(ctx context.Context, a Assembly) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("save run %d: %w", a.RunID, err)
	}
	defer tx.Rollback(ctx)
	byKey := map[string]rating.Charge{}
	for _, c := range a.Charges {
		byKey[c.Key] = c
	}
	// The statements go to the server in pipelined batches, not one round trip each: the
	// invoices first (the charges need their IDs), then everything else. Each statement
	// reports its own error, naming its record.
	ids := make([]int64, len(a.Invoices))
	first := &pgx.Batch{}
	for i, inv := range a.Invoices {
		model, err := json.Marshal(inv)
		if err != nil {
			return err
		}
		first.Queue(`insert into invoices (run_id, buyer_kind, buyer_id, currency, type_code, issue_date, model, net, vat, gross)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
			a.RunID, inv.BuyerKind, inv.BuyerID, inv.Currency, inv.TypeCode, inv.IssueDate.String(), model,
			inv.Totals.TaxBasis.String(), inv.Totals.TaxTotal.String(), inv.Totals.GrandTotal.String()).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&ids[i]); err != nil {
				return fmt.Errorf("save run %d: invoice for %s %s: %w", a.RunID, inv.BuyerKind, inv.BuyerID, err)
			}
			return nil
		})
	}
	if err := tx.SendBatch(ctx, first).Close(); err != nil {
		return err
	}
	rest := &pgx.Batch{}
	for i, inv := range a.Invoices {
		for _, l := range inv.Lines {
			c := byKey[l.ChargeKey]
			doc, _ := json.Marshal(c)
			rest.Queue(`insert into charges (key, run_id, invoice_id, subscription_id, kind, net, doc)
				values ($1, $2, $3, $4, $5, $6, $7) on conflict (key) do nothing`,
				c.Key, a.RunID, ids[i], c.SubscriptionID, string(c.Kind), c.Net.String(), doc).Exec(func(tag pgconn.CommandTag) error {
				if tag.RowsAffected() != 1 {
					return fmt.Errorf("save run %d: charge %s: %w", a.RunID, c.Key, ErrAlreadyBilled)
				}
				return nil
			})
		}
	}
	for _, o := range a.Outcomes {
		rest.Queue(`insert into ledger_subscriptions (subscription_id, first_run) values ($1, $2)
			on conflict do nothing`, o.SubscriptionID, a.RunID)
		prior := a.Prior[o.SubscriptionID]
		for start, q := range o.Next.Advance {
			if old, ok := prior.Advance[start]; ok && old == q {
				continue
			}
			rest.Queue(`insert into ledger_advance (subscription_id, period_start, quantity) values ($1, $2, $3)
				on conflict (subscription_id, period_start) do update set quantity = excluded.quantity`,
				o.SubscriptionID, start.String(), q)
		}
		for k, u := range o.Next.Usage {
			if old, ok := prior.Usage[k]; ok && old.Equal(u) {
				continue
			}
			rest.Queue(`insert into ledger_usage (subscription_id, usage_type, period_start, units) values ($1, $2, $3, $4)
				on conflict (subscription_id, usage_type, period_start) do update set units = excluded.units`,
				o.SubscriptionID, k.Type, k.PeriodStart.String(), u.String())
		}
		if len(o.Settled) > 0 {
			events := make([]string, len(o.Settled))
			fates := make([]int16, len(o.Settled))
			for i, e := range o.Settled {
				events[i], fates[i] = e.EventID, int16(e.Fate)
			}
			rest.Queue(`update usage_events u set settled_run = $1, fate = f.fate
				from unnest($2::text[], $3::smallint[]) as f(event_id, fate)
				where u.event_id = f.event_id and u.settled_run is null`, a.RunID, events, fates).Exec(func(tag pgconn.CommandTag) error {
				if int(tag.RowsAffected()) != len(events) {
					return fmt.Errorf("save run %d: usage of subscription %s: %d of %d events were settled already", a.RunID, o.SubscriptionID, len(events)-int(tag.RowsAffected()), len(events))
				}
				return nil
			})
		}
	}
	for _, u := range a.Usage {
		rest.Queue(`insert into usage_rated (run_id, subscription_id, usage_type, period_start, period_end, events, units, overage, blocked, late)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, a.RunID, u.SubscriptionID, u.UsageType, u.Period.Start.String(), u.Period.End.String(),
			u.Events, u.Units.String(), u.Overage.String(), u.Blocked.String(), u.Late)
	}
	for _, sk := range a.Skipped {
		rest.Queue(`insert into skipped (run_id, buyer_kind, buyer_id, reason) values ($1, $2, $3, $4)`,
			a.RunID, sk.BuyerKind, sk.BuyerID, sk.Reason)
	}
	if err := tx.SendBatch(ctx, rest).Close(); err != nil {
		return fmt.Errorf("save run %d: %w", a.RunID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("save run %d: commit: %w", a.RunID, err)
	}
	return nil
}

// StoredInvoice is an invoice as stored.
type StoredInvoice struct {
	ID      int64
	RunID   int64 // 0 for credit notes, issued outside runs
	Status  string
	Invoice *invoice.Invoice
}

// Invoices returns the invoices with a status, oldest first.
func (s *Store) Invoices(ctx context.Context, status string) ([]StoredInvoice, error) {
	rows, err := s.pool.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where status = $1 order by id`, status)
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", status, err)
	}
	var out []StoredInvoice
	var si StoredInvoice
	var model []byte
	_, err = pgx.ForEachRow(rows, []any{&si.ID, &si.RunID, &si.Status, &model}, func() error {
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(model, inv); err != nil {
			return fmt.Errorf("invoice %d: %w", si.ID, err)
		}
		si.Invoice = inv
		out = append(out, si)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", status, err)
	}
	return out, nil
}

// InvoicesByID returns the invoices ids, in that order; an ID that is not stored is an
// error naming it.
func (s *Store) InvoicesByID(ctx context.Context, ids []int64) ([]StoredInvoice, error) {
	rows, err := s.pool.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where id = any($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load invoices %v: %w", ids, err)
	}
	byID := make(map[int64]StoredInvoice, len(ids))
	var si StoredInvoice
	var model []byte
	_, err = pgx.ForEachRow(rows, []any{&si.ID, &si.RunID, &si.Status, &model}, func() error {
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(model, inv); err != nil {
			return fmt.Errorf("invoice %d: %w", si.ID, err)
		}
		si.Invoice = inv
		byID[si.ID] = si
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load invoices %v: %w", ids, err)
	}
	out := make([]StoredInvoice, len(ids))
	for i, id := range ids {
		si, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("load invoices: invoice %d is not stored", id)
		}
		out[i] = si
	}
	return out, nil
}

// StatusCounts counts the invoices ids by status.
func (s *Store) StatusCounts(ctx context.Context, ids []int64) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `select status, count(*) from invoices where id = any($1) group by status`, ids)
	if err != nil {
		return nil, fmt.Errorf("count invoices by status: %w", err)
	}
	out := map[string]int{}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count invoices by status: %w", err)
	}
	return out, nil
}

// Finalize assigns the next numbers of series to the draft invoices ids, in that order, in
// one transaction: the counter advances by exactly the number of drafts, so the numbers
// are a contiguous block and the series stays gapless whether the transaction commits or
// not. Invoices already finalized keep their number (a retry after a lost commit). It
// returns the number of each invoice.
func (s *Store) Finalize(ctx context.Context, ids []int64, series string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	what := fmt.Sprintf("finalize %d invoices from %d", len(ids), ids[0])
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	type row struct {
		status string
		number *string
		model  []byte
	}
	rows, err := tx.Query(ctx, `select id, status, number, model from invoices where id = any($1) order by id for update`, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	found := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.status, &r.number, &r.model); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		found[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	drafts := 0
	for _, id := range ids {
		r, ok := found[id]
		if !ok {
			return nil, fmt.Errorf("%s: invoice %d does not exist", what, id)
		}
		if r.status == "draft" {
			drafts++
		}
	}
	nums := make([]string, len(ids))
	var last int64
	if drafts > 0 {
		if _, err := tx.Exec(ctx, `insert into number_series (series) values ($1) on conflict do nothing`, series); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := tx.QueryRow(ctx, `update number_series set last_number = last_number + $2 where series = $1 returning last_number`, series, drafts).Scan(&last); err != nil {
			return nil, fmt.Errorf("%s: numbers: %w", what, err)
		}
	}
	seq := last - int64(drafts)
	batch := &pgx.Batch{}
	for i, id := range ids {
		r := found[id]
		if r.status != "draft" {
			nums[i] = *r.number
			continue
		}
		seq++
		num := fmt.Sprintf("%s%06d", series, seq)
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(r.model, inv); err != nil {
			return nil, fmt.Errorf("finalize invoice %d: model: %w", id, err)
		}
		inv.Number = num
		if inv.Payment.Code == "58" {
			inv.Payment.Reference = num
		}
		model, err := json.Marshal(inv)
		if err != nil {
			return nil, fmt.Errorf("finalize invoice %d: %w", id, err)
		}
		batch.Queue(`update invoices set status = 'finalized', number = $2, series = $3, seq = $4, model = $5, finalized_at = now()
			where id = $1`, id, num, series, seq, model)
		nums[i] = num
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("%s: commit: %w", what, err)
	}
	return nums, nil
}

// Document is a rendered file of an invoice.
type Document struct {
	Kind   string // pdf or xml
	SHA256 string
	Bytes  []byte
}

// NewDocument returns a document with its hash.
func NewDocument(kind string, b []byte) Document {
	sum := sha256.Sum256(b)
	return Document{Kind: kind, SHA256: hex.EncodeToString(sum[:]), Bytes: b}
}

// SaveDocuments stores the rendered files of a finalized invoice and marks it rendered.
func (s *Store) SaveDocuments(ctx context.Context, id int64, docs ...Document) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store documents of %d: %w", id, err)
	}
	defer tx.Rollback(ctx)
	// Losing this commit in a crash is harmless: the invoice stays finalized and is rendered
	// again, to the same bytes. So it need not wait for the disk. One round trip.
	b := &pgx.Batch{}
	b.Queue("set local synchronous_commit = off")
	for _, d := range docs {
		b.Queue(`insert into documents (invoice_id, kind, sha256, bytes) values ($1, $2, $3, $4)
			on conflict (invoice_id, kind) do nothing`, id, d.Kind, d.SHA256, d.Bytes)
	}
	b.Queue(`update invoices set status = 'rendered' where id = $1 and status = 'finalized'`, id)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store documents of %d: %w", id, err)
	}
	return tx.Commit(ctx)
}

// Documents returns the rendered files of an invoice.
func (s *Store) Documents(ctx context.Context, id int64) ([]Document, error) {
	rows, err := s.pool.Query(ctx, `select kind, sha256, bytes from documents where invoice_id = $1 order by kind`, id)
	if err != nil {
		return nil, fmt.Errorf("documents of %d: %w", id, err)
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Document, error) {
		var d Document
		return d, r.Scan(&d.Kind, &d.SHA256, &d.Bytes)
	})
	if err != nil {
		return nil, fmt.Errorf("documents of %d: %w", id, err)
	}
	return docs, nil
}

// MarkArchived records where an invoice's files were archived and marks it archived.
func (s *Store) MarkArchived(ctx context.Context, id int64, keys map[string]string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("mark %d archived: %w", id, err)
	}
	defer tx.Rollback(ctx)
	// Losing this commit is harmless too: the next run archives again, and the write-once
	// archive accepts the same bytes. One round trip.
	b := &pgx.Batch{}
	b.Queue("set local synchronous_commit = off")
	kinds := make([]string, 0, len(keys))
	for kind := range keys {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		b.Queue(`update documents set archive_key = $3, archived_at = now() where invoice_id = $1 and kind = $2`, id, kind, keys[kind])
	}
	b.Queue(`update invoices set status = 'archived' where id = $1 and status = 'rendered'`, id)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("mark %d archived: %w", id, err)
	}
	return tx.Commit(ctx)
}

// ClaimTick records that replica executes the scheduler tick at the given instant; false
// when another replica claimed it first.
func (s *Store) ClaimTick(ctx context.Context, tick time.Time, replica string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `insert into schedule_ticks (tick, replica) values ($1, $2) on conflict do nothing`, tick, replica)
	if err != nil {
		return false, fmt.Errorf("claim tick %s: %w", tick.Format(time.RFC3339), err)
	}
	return tag.RowsAffected() == 1, nil
}

// Numbering: invoices listed by status and drafts finalized with gapless numbers per series.

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
)

// InvoiceRefs returns the invoices with one of the statuses, oldest first, without their
// models.
func (s *Store) InvoiceRefs(ctx context.Context, statuses ...invoice.Status) ([]invoice.Ref, error) {
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	rows, err := s.pool.Query(ctx, `select id, status, type_code, issue_date::text from invoices where status = any($1) order by id`, names)
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", strings.Join(names, ", "), err)
	}
	var out []invoice.Ref
	var r invoice.Ref
	var issued string
	if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Status, &r.TypeCode, &issued}, func() error {
		var err error
		if r.IssueDate, err = calendar.Parse(issued); err != nil {
			return fmt.Errorf("invoice %d: issue date: %w", r.ID, err)
		}
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", strings.Join(names, ", "), err)
	}
	return out, nil
}

// Invoices returns the invoices with a status, oldest first.
func (s *Store) Invoices(ctx context.Context, status invoice.Status) ([]invoice.Stored, error) {
	rows, err := s.pool.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where status = $1 order by id`, string(status))
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", status, err)
	}
	var out []invoice.Stored
	err = eachStored(rows, func(si invoice.Stored) { out = append(out, si) })
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", status, err)
	}
	return out, nil
}

// InvoicesByID returns the invoices ids, in that order; an ID that is not stored is an
// error naming it.
func (s *Store) InvoicesByID(ctx context.Context, ids []int64) ([]invoice.Stored, error) {
	rows, err := s.pool.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where id = any($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load invoices %v: %w", ids, err)
	}
	byID := make(map[int64]invoice.Stored, len(ids))
	err = eachStored(rows, func(si invoice.Stored) { byID[si.ID] = si })
	if err != nil {
		return nil, fmt.Errorf("load invoices %v: %w", ids, err)
	}
	out := make([]invoice.Stored, len(ids))
	for i, id := range ids {
		si, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("load invoices: invoice %d is not stored", id)
		}
		out[i] = si
	}
	return out, nil
}

// eachStored calls f with each invoice of rows (id, run ID, status, model), its model
// decoded.
func eachStored(rows pgx.Rows, f func(invoice.Stored)) error {
	var si invoice.Stored
	var model []byte
	_, err := pgx.ForEachRow(rows, []any{&si.ID, &si.RunID, &si.Status, &model}, func() error {
		si.Invoice = &invoice.Invoice{}
		if err := json.Unmarshal(model, si.Invoice); err != nil {
			return fmt.Errorf("invoice %d: %w", si.ID, err)
		}
		f(si)
		return nil
	})
	return err
}

// StatusCounts counts the invoices ids by status.
func (s *Store) StatusCounts(ctx context.Context, ids []int64) (map[invoice.Status]int, error) {
	rows, err := s.pool.Query(ctx, `select status, count(*) from invoices where id = any($1) group by status`, ids)
	if err != nil {
		return nil, fmt.Errorf("count invoices by status: %w", err)
	}
	out := map[invoice.Status]int{}
	var status invoice.Status
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
// returns each invoice as finalized (its model carries its number), so that the caller
// can deliver it without reading it back.
func (s *Store) Finalize(ctx context.Context, ids []int64, series string) ([]invoice.Stored, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	what := fmt.Sprintf("finalize %d invoices from %d", len(ids), ids[0])
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	found, drafts, err := lockInvoices(ctx, tx, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	last, err := takeNumbers(ctx, tx, series, drafts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]invoice.Stored, len(ids))
	seq := last - int64(drafts)
	batch := &pgx.Batch{}
	for i, id := range ids {
		r := found[id]
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(r.model, inv); err != nil {
			return nil, fmt.Errorf("finalize invoice %d: model: %w", id, err)
		}
		out[i] = invoice.Stored{ID: id, RunID: r.run, Status: r.status, Invoice: inv}
		if r.status != invoice.Draft {
			continue
		}
		seq++
		if err := number(batch, &out[i], series, seq); err != nil {
			return nil, err
		}
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("%s: commit: %w", what, err)
	}
	return out, nil
}

// lockedInvoice is an invoice as Finalize locks it.
type lockedInvoice struct {
	run    int64
	status invoice.Status
	model  []byte
}

// lockInvoices locks the invoices ids for finalizing and counts the drafts among them;
// an ID that is not stored is an error.
func lockInvoices(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]lockedInvoice, int, error) {
	rows, err := tx.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where id = any($1) order by id for update`, ids)
	if err != nil {
		return nil, 0, err
	}
	found := map[int64]lockedInvoice{}
	for rows.Next() {
		var id int64
		var r lockedInvoice
		if err := rows.Scan(&id, &r.run, &r.status, &r.model); err != nil {
			rows.Close()
			return nil, 0, err
		}
		found[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	drafts := 0
	for _, id := range ids {
		r, ok := found[id]
		if !ok {
			return nil, 0, fmt.Errorf("invoice %d does not exist", id)
		}
		if r.status == invoice.Draft {
			drafts++
		}
	}
	return found, drafts, nil
}

// takeNumbers advances series' counter by n and returns the last number taken (the
// counter, unchanged, when n is 0).
func takeNumbers(ctx context.Context, tx pgx.Tx, series string, n int) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, `insert into number_series (series) values ($1) on conflict do nothing`, series); err != nil {
		return 0, err
	}
	var last int64
	if err := tx.QueryRow(ctx, `update number_series set last_number = last_number + $2 where series = $1 returning last_number`, series, n).Scan(&last); err != nil {
		return 0, fmt.Errorf("numbers: %w", err)
	}
	return last, nil
}

// number gives the draft si number seq of series and queues its update.
func number(batch *pgx.Batch, si *invoice.Stored, series string, seq int64) error {
	inv := si.Invoice
	num := fmt.Sprintf("%s%06d", series, seq)
	si.Status = invoice.Finalized
	inv.Number = num
	if inv.Payment.Code == invoice.MeansCreditTransfer {
		inv.Payment.Reference = num
	}
	model, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("finalize invoice %d: %w", si.ID, err)
	}
	batch.Queue(`update invoices set status = 'finalized', number = $2, series = $3, seq = $4, model = $5, finalized_at = now()
		where id = $1`, si.ID, num, series, seq, model)
	return nil
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
	"github.com/kontor-billing/kontor/report"
	"github.com/shopspring/decimal"
)

// ErrNoRun means the run asked for does not exist.
var ErrNoRun = errors.New("no such run")

// ChargeTotals sums the charges on the invoices with the given numbers by plan, currency
// and kind, in that order: a run's 250,000 charges are summed where they are stored, not
// read.
func (s *Store) ChargeTotals(ctx context.Context, numbers []string) ([]report.Charges, error) {
	rows, err := s.pool.Query(ctx, `select c.doc->>'plan_id', c.doc->>'currency', c.kind, sum(c.net)::text, count(*)
		from charges c join invoices i on i.id = c.invoice_id
		where i.number = any($1) group by 1, 2, 3 order by 1, 2, 3`, numbers)
	if err != nil {
		return nil, fmt.Errorf("charges: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.Charges, error) {
		var c report.Charges
		var kind, net string
		if err := r.Scan(&c.PlanID, &c.Currency, &kind, &net, &c.Count); err != nil {
			return c, err
		}
		c.Kind = rating.Kind(kind)
		var err error
		c.Net, err = decimal.NewFromString(net)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("charges: %w", err)
	}
	return out, nil
}

// UsageRated sums the usage the given runs rated, by usage type.
func (s *Store) UsageRated(ctx context.Context, runIDs []int64) ([]report.Usage, error) {
	rows, err := s.pool.Query(ctx, `select usage_type, sum(events)::bigint, sum(units), sum(overage), sum(blocked),
			coalesce(sum(units) filter (where late), 0)
		from usage_rated where run_id = any($1) group by usage_type order by usage_type`, runIDs)
	if err != nil {
		return nil, fmt.Errorf("rated usage: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.Usage, error) {
		var u report.Usage
		return u, r.Scan(&u.Type, &u.Events, &u.Units, &u.Overage, &u.Blocked, &u.Late)
	})
	if err != nil {
		return nil, fmt.Errorf("rated usage: %w", err)
	}
	return out, nil
}

// RunsOf returns the runs that assembled the invoices with the given numbers.
func (s *Store) RunsOf(ctx context.Context, numbers []string) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `select distinct run_id from invoices where number = any($1) and run_id is not null order by 1`, numbers)
	if err != nil {
		return nil, fmt.Errorf("runs of invoices: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("runs of invoices: %w", err)
	}
	return ids, nil
}

// IssuedInvoices returns the issued (numbered) invoices and credit notes whose issue date
// lies in [from, to], by series and number. progress, when set, is told every 1,000
// documents read and at the end.
func (s *Store) IssuedInvoices(ctx context.Context, from, to calendar.Date, progress func(done, total int)) ([]*invoice.Invoice, error) {
	// The total rides along with every row (a window count), so the progress has it from
	// the first row without a second query.
	rows, err := s.pool.Query(ctx, `select model, count(*) over () from invoices
		where number is not null and issue_date between $1::date and $2::date order by series, seq`, from.String(), to.String())
	if err != nil {
		return nil, fmt.Errorf("issued invoices: %w", err)
	}
	read := 0
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*invoice.Invoice, error) {
		var model []byte
		var total int
		if err := r.Scan(&model, &total); err != nil {
			return nil, err
		}
		if read++; progress != nil && (read%1000 == 0 || read == total) {
			progress(read, total)
		}
		inv := &invoice.Invoice{}
		return inv, json.Unmarshal(model, inv)
	})
	if err != nil {
		return nil, fmt.Errorf("issued invoices: %w", err)
	}
	return out, nil
}

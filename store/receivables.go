// Open items: what is open of each invoice, and for how long (package openitems).

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/openitems"
)

// Receivables returns the invoices issued by asOf with something open as of asOf
// (payments booked after it are not counted), oldest due date first.
func (s *Store) Receivables(ctx context.Context, asOf calendar.Date, loc *time.Location) ([]openitems.Item, error) {
	rows, err := s.pool.Query(ctx, `select i.number, i.buyer_id, i.currency, i.issue_date::text, i.model->>'due_date', i.gross,
			coalesce((select sum(p.amount) from payments p where p.invoice_number = i.number and p.at < $2), 0),
			coalesce((select sum(c.gross) from invoices c where c.type_code = '381' and c.number is not null
				and c.model->>'preceding_invoice' = i.number and c.issue_date <= $1::date), 0)
		from invoices i where i.type_code = '380' and i.number is not null and i.issue_date <= $1::date
		order by 5, 1`, asOf.String(), asOf.AddDays(1).Time(loc))
	if err != nil {
		return nil, fmt.Errorf("receivables as of %s: %w", asOf, err)
	}
	var out []openitems.Item
	var r openitems.Item
	var issued, due string
	_, err = pgx.ForEachRow(rows, []any{&r.Invoice, &r.Customer, &r.Currency, &issued, &due, &r.Gross, &r.Paid, &r.Credited}, func() error {
		var err error
		if r.Issued, err = calendar.Parse(issued); err != nil {
			return fmt.Errorf("invoice %s: issue date: %w", r.Invoice, err)
		}
		if r.Due, err = calendar.Parse(due); err != nil {
			return fmt.Errorf("invoice %s: due date: %w", r.Invoice, err)
		}
		r.Open = r.Gross.Sub(r.Paid).Sub(r.Credited)
		if r.Open.IsZero() {
			return nil
		}
		r.DaysOverdue = max(0, r.Due.DaysUntil(asOf))
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receivables as of %s: %w", asOf, err)
	}
	return out, nil
}

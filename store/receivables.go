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
	rows, err := s.pool.Query(ctx, `with paid as (select invoice_number, sum(amount) as amount from payments where at < $2 group by 1),
		credited as (select preceding_invoice, sum(gross) as amount from invoices
			where type_code = '381' and number is not null and issue_date <= $1::date group by 1)
		select i.number, i.buyer_id, i.currency, i.issue_date::text, i.due_date::text, i.gross, coalesce(p.amount, 0), coalesce(c.amount, 0)
		from invoices i left join paid p on p.invoice_number = i.number left join credited c on c.preceding_invoice = i.number
		where i.type_code = '380' and i.number is not null and i.issue_date <= $1::date
		  and i.gross - coalesce(p.amount, 0) - coalesce(c.amount, 0) <> 0
		order by i.due_date, i.number`, asOf.String(), asOf.AddDays(1).Time(loc))
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

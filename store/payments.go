package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/licensing"
)

// PaymentResult is the outcome of charging a card for an invoice.
type PaymentResult struct {
	Invoice     string
	AttemptedAt time.Time
	Paid        bool
	Reference   string
	Line        int // in the imported file, for errors
}

// ImportPayments stores card payment results in one transaction; a failed charge records a
// notification to the customer. Every result must name a finalized invoice of a customer
// paying by card; otherwise nothing is imported and every such result is reported. Results
// already stored are skipped. It returns how many results were added and the customers
// notified.
func (s *Store) ImportPayments(ctx context.Context, results []PaymentResult, loc *time.Location) (int, []string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("import payments: %w", err)
	}
	defer tx.Rollback(ctx)
	var problems []string
	added := 0
	var notified []string
	for _, r := range results {
		var buyerKind, buyerID, method string
		err := tx.QueryRow(ctx, `select buyer_kind, buyer_id, model->'payment'->>'method' from invoices where number = $1`, r.Invoice).Scan(&buyerKind, &buyerID, &method)
		if errors.Is(err, pgx.ErrNoRows) {
			problems = append(problems, fmt.Sprintf("line %d: invoice %s is not a finalized invoice", r.Line, r.Invoice))
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("import payments: %w", err)
		}
		if method != "card" || buyerKind != string(invoice.CustomerBuyer) {
			problems = append(problems, fmt.Sprintf("line %d: invoice %s is not paid by card (payment method %s)", r.Line, r.Invoice, method))
			continue
		}
		tag, err := tx.Exec(ctx, `insert into payment_results (invoice_number, attempted_at, paid, reference) values ($1, $2, $3, $4)
			on conflict do nothing`, r.Invoice, r.AttemptedAt, r.Paid, r.Reference)
		if err != nil {
			return 0, nil, fmt.Errorf("import payments: %w", err)
		}
		if tag.RowsAffected() == 0 {
			continue
		}
		added++
		if !r.Paid {
			on := calendar.Of(r.AttemptedAt, loc)
			msg := fmt.Sprintf("The card payment for invoice %s failed on %s. Please pay by %s, or the license will be deactivated.",
				r.Invoice, on, on.AddDays(licensing.GraceDays-1))
			if _, err := tx.Exec(ctx, `insert into notifications (customer_id, invoice_number, kind, on_date, message)
				values ($1, $2, 'card_failed', $3, $4) on conflict do nothing`, buyerID, r.Invoice, on.String(), msg); err != nil {
				return 0, nil, fmt.Errorf("import payments: %w", err)
			}
			notified = append(notified, buyerID)
		}
	}
	if len(problems) > 0 {
		return 0, nil, fmt.Errorf("import payments: %d problem(s), nothing imported:\n  %s", len(problems), joinLines(problems))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, fmt.Errorf("import payments: %w", err)
	}
	return added, notified, nil
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n  "
		}
		out += s
	}
	return out
}

// PaymentAttempts returns the card payment attempts by customer, dated in loc.
func (s *Store) PaymentAttempts(ctx context.Context, loc *time.Location) (map[string][]licensing.Attempt, error) {
	rows, err := s.pool.Query(ctx, `select i.buyer_id, p.invoice_number, p.attempted_at, p.paid
		from payment_results p join invoices i on i.number = p.invoice_number order by p.attempted_at`)
	if err != nil {
		return nil, fmt.Errorf("payment attempts: %w", err)
	}
	out := map[string][]licensing.Attempt{}
	var cust, inv string
	var at time.Time
	var paid bool
	_, err = pgx.ForEachRow(rows, []any{&cust, &inv, &at, &paid}, func() error {
		out[cust] = append(out[cust], licensing.Attempt{Invoice: inv, On: calendar.Of(at, loc), Paid: paid})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("payment attempts: %w", err)
	}
	return out, nil
}

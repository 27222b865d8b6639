package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// InvoiceStatus is an invoice as a customer's status shows it.
type InvoiceStatus struct {
	Number, IssueDate, Currency, Gross, Status string
	// Payment is the latest card payment result: "", "paid" or "failed".
	Payment string
}

// BlockedUsage is usage over a spending limit.
type BlockedUsage struct {
	Subscription, UsageType, Period, Blocked string
}

// Notification is a message recorded for a customer.
type Notification struct {
	Kind, OnDate, Message string
}

// CustomerStatus is what kontor status shows of a customer.
type CustomerStatus struct {
	License       string // active, grace, deactivated
	LicenseDetail string
	Invoices      []InvoiceStatus
	Blocked       []BlockedUsage
	Notifications []Notification
}

// Status returns the stored state of a customer: its end-customer invoices (never a
// partner's, BILLING-RULES 1), their card payments, its license, blocked usage and the
// notifications sent.
func (s *Store) Status(ctx context.Context, customerID string) (CustomerStatus, error) {
	var st CustomerStatus
	var inv, failed, deact *string
	err := s.pool.QueryRow(ctx, `select state, invoice_number, failed_on::text, deactivated_on::text from licenses where customer_id = $1`, customerID).
		Scan(&st.License, &inv, &failed, &deact)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		st.License = "active"
	case err != nil:
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	case inv != nil:
		st.LicenseDetail = fmt.Sprintf("invoice %s unpaid, card payment failed on %s, deactivation on %s", *inv, deref(failed), deref(deact))
	}
	rows, err := s.pool.Query(ctx, `select i.number, i.issue_date::text, i.currency, i.gross::text, i.status,
		coalesce((select case when p.paid then 'paid' else 'failed' end from payment_results p
		          where p.invoice_number = i.number order by p.attempted_at desc limit 1), '')
		from invoices i where i.buyer_kind = 'customer' and i.buyer_id = $1 and i.number is not null order by i.seq`, customerID)
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	}
	st.Invoices, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (InvoiceStatus, error) {
		var i InvoiceStatus
		return i, r.Scan(&i.Number, &i.IssueDate, &i.Currency, &i.Gross, &i.Status, &i.Payment)
	})
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	}
	rows, err = s.pool.Query(ctx, `select u.subscription_id, u.usage_type, u.period_start::text || '..' || u.period_end::text, sum(u.blocked)::text
		from usage_rated u join dataset_records d on d.kind = 'subscription' and d.id = u.subscription_id
		where d.doc->>'customer_id' = $1 and u.blocked > 0
		group by 1, 2, 3 order by 3, 1, 2`, customerID)
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	}
	st.Blocked, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BlockedUsage, error) {
		var b BlockedUsage
		return b, r.Scan(&b.Subscription, &b.UsageType, &b.Period, &b.Blocked)
	})
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	}
	rows, err = s.pool.Query(ctx, `select kind, on_date::text, message from notifications where customer_id = $1 order by id`, customerID)
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	}
	st.Notifications, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) {
		var n Notification
		return n, r.Scan(&n.Kind, &n.OnDate, &n.Message)
	})
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", customerID, err)
	}
	return st, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

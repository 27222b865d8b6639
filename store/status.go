package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/invoice"
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

// SkippedBy is a run that could not invoice a buyer, and why.
type SkippedBy struct {
	RunID  int64
	AsOf   string
	Reason string
}

// CustomerStatus is what kontor status shows of a customer or partner.
type CustomerStatus struct {
	License       string // active, grace, deactivated (a customer's; "" for a partner)
	LicenseDetail string
	Invoices      []InvoiceStatus
	Blocked       []BlockedUsage
	Notifications []Notification
	// Skipped are the latest finished run's reasons for not invoicing the buyer.
	Skipped []SkippedBy
}

// Status returns the stored state of a buyer: its invoices (a customer's own, never a
// partner's for it, BILLING-RULES 1), their card payments, the reasons the latest run
// skipped it, and for a customer its license, blocked usage and the notifications sent.
func (s *Store) Status(ctx context.Context, kind invoice.BuyerKind, id string) (CustomerStatus, error) {
	var st CustomerStatus
	var err error
	if st.Invoices, err = s.buyerInvoices(ctx, kind, id); err != nil {
		return st, fmt.Errorf("status of %s %s: %w", kind, id, err)
	}
	if st.Skipped, err = s.skippedBy(ctx, kind, id); err != nil {
		return st, fmt.Errorf("status of %s %s: %w", kind, id, err)
	}
	if kind != invoice.CustomerBuyer {
		return st, nil
	}
	if err := s.license(ctx, id, &st); err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	if st.Blocked, err = s.blockedUsage(ctx, id); err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	rows, err := s.pool.Query(ctx, `select kind, on_date::text, message from outbox where customer_id = $1 order by id`, id)
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	st.Notifications, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) {
		var n Notification
		return n, r.Scan(&n.Kind, &n.OnDate, &n.Message)
	})
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	return st, nil
}

// license reads a customer's license state into st.
func (s *Store) license(ctx context.Context, customerID string, st *CustomerStatus) error {
	var inv, failed, deact *string
	err := s.pool.QueryRow(ctx, `select state, invoice_number, failed_on::text, deactivated_on::text from licenses where customer_id = $1`, customerID).
		Scan(&st.License, &inv, &failed, &deact)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		st.License = "active"
	case err != nil:
		return err
	case inv != nil:
		st.LicenseDetail = fmt.Sprintf("invoice %s unpaid, payment failed on %s, deactivation on %s", *inv, deref(failed), deref(deact))
	}
	return nil
}

// buyerInvoices lists the issued invoices of a buyer with what is paid of them.
func (s *Store) buyerInvoices(ctx context.Context, kind invoice.BuyerKind, id string) ([]InvoiceStatus, error) {
	rows, err := s.pool.Query(ctx, `select i.number, i.issue_date::text, i.currency, round(i.gross, 2)::text, i.status,
		case when b.number is null then ''
		     when b.gross - b.paid - b.credited <= 0 then 'paid'
		     when (select p.outcome from payments p where p.invoice_number = i.number order by p.at desc, p.id desc limit 1) in ('failed', 'returned')
		          then 'failed, open ' || round(b.gross - b.paid - b.credited, 2)::text
		     when b.paid > 0 then 'part paid, open ' || round(b.gross - b.paid - b.credited, 2)::text
		     else '' end
		from invoices i left join invoice_balances b on b.number = i.number where i.buyer_kind = $1 and i.buyer_id = $2 and i.number is not null order by i.seq`, string(kind), id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InvoiceStatus, error) {
		var i InvoiceStatus
		return i, r.Scan(&i.Number, &i.IssueDate, &i.Currency, &i.Gross, &i.Status, &i.Payment)
	})
}

// blockedUsage lists a customer's usage over its spending limits.
func (s *Store) blockedUsage(ctx context.Context, customerID string) ([]BlockedUsage, error) {
	rows, err := s.pool.Query(ctx, `select u.subscription_id, u.usage_type, u.period_start::text || '..' || u.period_end::text, sum(u.blocked)::text
		from usage_rated u join dataset_records d on d.kind = 'subscription' and d.id = u.subscription_id
		where d.doc->>'customer_id' = $1 and u.blocked > 0
		group by 1, 2, 3 order by 3, 1, 2`, customerID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BlockedUsage, error) {
		var b BlockedUsage
		return b, r.Scan(&b.Subscription, &b.UsageType, &b.Period, &b.Blocked)
	})
}

// skippedBy returns why the latest finished run did not invoice a buyer (none when it
// did, or when no run has finished).
func (s *Store) skippedBy(ctx context.Context, kind invoice.BuyerKind, id string) ([]SkippedBy, error) {
	rows, err := s.pool.Query(ctx, `select k.run_id, r.as_of::text, k.reason from skipped k join runs r on r.id = k.run_id
		where k.buyer_kind = $1 and k.buyer_id = $2
		  and k.run_id = (select max(id) from runs where status = 'done') order by k.reason`, string(kind), id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SkippedBy, error) {
		var k SkippedBy
		return k, r.Scan(&k.RunID, &k.AsOf, &k.Reason)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ErrNoBuyer is the error of a customer or partner the stored dataset does not hold.
var ErrNoBuyer = errors.New("no such customer or partner")

// Buyer returns a customer or partner of the stored dataset (a dataset.Customer or
// dataset.Partner record as JSON) and its subscriptions, or ErrNoBuyer.
func (s *Store) Buyer(ctx context.Context, kind invoice.BuyerKind, id string) (party json.RawMessage, subscriptions []json.RawMessage, err error) {
	err = s.pool.QueryRow(ctx, `select doc from dataset_records where kind = $1 and id = $2`, string(kind), id).Scan(&party)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("%s %s: %w", kind, id, ErrNoBuyer)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	field := "customer_id"
	if kind == invoice.PartnerBuyer {
		field = "partner_id"
	}
	rows, err := s.pool.Query(ctx, `select doc from dataset_records where kind = 'subscription' and doc->>'`+field+`' = $1 order by id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: subscriptions: %w", kind, id, err)
	}
	subscriptions, err = pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: subscriptions: %w", kind, id, err)
	}
	return party, subscriptions, nil
}

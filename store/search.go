// Issued documents as the console finds them, and where their files are archived.

package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
)

// ErrNoDocument is the error of a document or file that is not archived.
var ErrNoDocument = errors.New("no such archived document")

// InvoiceQuery selects issued invoices and credit notes; empty fields select all.
type InvoiceQuery struct {
	Number string // a part of the number, any case
	Buyer  string // the buyer's ID, or a part of its name, any case
	// Period selects documents whose billing period overlaps it.
	Period calendar.Period
	Status invoice.Status
	Limit  int
}

// InvoiceRow is an issued document as a list shows it.
type InvoiceRow struct {
	Number    string
	Type      invoice.DocumentType
	BuyerKind invoice.BuyerKind
	BuyerID   string
	BuyerName string
	IssueDate string
	Period    string // "2026-11-01 – 2026-11-30"
	Currency  string
	Gross     string
	Status    invoice.Status
}

// SearchInvoices returns the issued documents q selects, the latest first.
func (s *Store) SearchInvoices(ctx context.Context, q InvoiceQuery) ([]InvoiceRow, error) {
	lo, hi := "0001-01-01", "9999-12-31"
	if !q.Period.Start.IsZero() {
		lo, hi = q.Period.Start.String(), q.Period.End.String()
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.pool.Query(ctx, `select number, type_code, buyer_kind, buyer_id, coalesce(model->'buyer'->>'name', ''),
			issue_date::text, (model->'billing_period'->>'start') || ' – ' || (model->'billing_period'->>'end'),
			currency, round(gross, 2)::text, status
		from invoices
		where number is not null
		  and ($1 = '' or number ilike '%' || $1 || '%')
		  and ($2 = '' or buyer_id = $2 or model->'buyer'->>'name' ilike '%' || $2 || '%')
		  and (model->'billing_period'->>'start')::date <= $4::date and (model->'billing_period'->>'end')::date >= $3::date
		  and ($5 = '' or status = $5)
		order by issue_date desc, number desc limit $6`, q.Number, q.Buyer, lo, hi, string(q.Status), limit)
	if err != nil {
		return nil, fmt.Errorf("search invoices: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InvoiceRow, error) {
		var v InvoiceRow
		return v, r.Scan(&v.Number, &v.Type, &v.BuyerKind, &v.BuyerID, &v.BuyerName, &v.IssueDate, &v.Period, &v.Currency, &v.Gross, &v.Status)
	})
	if err != nil {
		return nil, fmt.Errorf("search invoices: %w", err)
	}
	return found, nil
}

// ArchivedFile is where a document's file is archived and the SHA-256 recorded for it.
type ArchivedFile struct {
	Key, SHA256 string
}

// ArchivedFileOf returns the archive key and recorded hash of an issued document's file
// (pdf, xml), or ErrNoDocument when it is not archived.
func (s *Store) ArchivedFileOf(ctx context.Context, number, kind string) (ArchivedFile, error) {
	var f ArchivedFile
	err := s.pool.QueryRow(ctx, `select d.archive_key, d.sha256 from invoices i join documents d on d.invoice_id = i.id
		where i.number = $1 and d.kind = $2 and d.archive_key is not null`, number, kind).Scan(&f.Key, &f.SHA256)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("%s %s: %w", number, kind, ErrNoDocument)
	}
	if err != nil {
		return f, fmt.Errorf("%s %s: %w", number, kind, err)
	}
	return f, nil
}

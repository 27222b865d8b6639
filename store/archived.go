package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
)

// IssuedDocument is a file of an issued invoice and where it should be archived.
type IssuedDocument struct {
	Number    string
	IssueDate string
	Status    string // invoice status: finalized, rendered, archived
	Kind      string // pdf, xml, json; "" when the invoice was not rendered yet
	SHA256    string
	Key       string // "" when not archived yet
}

// IssuedDocuments lists the files of every issued (numbered) invoice whose issue date lies
// in [from, to] (zero dates: unbounded).
func (s *Store) IssuedDocuments(ctx context.Context, from, to calendar.Date) ([]IssuedDocument, error) {
	lo, hi := "0001-01-01", "9999-12-31"
	if !from.IsZero() {
		lo = from.String()
	}
	if !to.IsZero() {
		hi = to.String()
	}
	rows, err := s.pool.Query(ctx, `select i.number, i.issue_date::text, i.status, coalesce(d.kind, ''), coalesce(d.sha256, ''), coalesce(d.archive_key, '')
		from invoices i left join documents d on d.invoice_id = i.id
		where i.number is not null and i.issue_date between $1::date and $2::date
		order by i.series, i.seq, d.kind`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("issued documents: %w", err)
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IssuedDocument, error) {
		var d IssuedDocument
		return d, r.Scan(&d.Number, &d.IssueDate, &d.Status, &d.Kind, &d.SHA256, &d.Key)
	})
	if err != nil {
		return nil, fmt.Errorf("issued documents: %w", err)
	}
	return docs, nil
}

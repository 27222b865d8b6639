package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
)

// ErrOverCredit means a credit note would credit more than was invoiced.
var ErrOverCredit = errors.New("credit exceeds what was invoiced")

// CreateCreditNote stores a draft credit note for lines of a finalized invoice (all lines
// not credited yet when lineIDs is empty), in one transaction that locks the invoice: a
// line is credited at most once, so nothing is credited twice. The draft is finalized,
// rendered and archived like an invoice (see jobs.CreditNote). The original is untouched.
func (s *Store) CreateCreditNote(ctx context.Context, number string, lineIDs []string, reason string, issue calendar.Date) (int64, *invoice.Invoice, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	defer tx.Rollback(ctx)
	var model []byte
	err = tx.QueryRow(ctx, `select model from invoices where number = $1 for update`, number).Scan(&model)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, fmt.Errorf("credit note: %s is not an issued invoice", number)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	orig := &invoice.Invoice{}
	if err := json.Unmarshal(model, orig); err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: the invoice's model: %w", number, err)
	}
	credited, err := creditedLines(ctx, tx, number)
	if err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	if lineIDs, err = toCredit(orig, lineIDs, credited); err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	cn, err := invoice.CreditNoteForLines(orig, lineIDs, "DRAFT-CN", issue, reason)
	if err != nil {
		return 0, nil, err
	}
	id, err := insertCreditNote(ctx, tx, cn, number, lineIDs)
	if err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	return id, cn, nil
}

// creditedLines returns the lines of invoice number credited already: the number of the
// credit note by line ID.
func creditedLines(ctx context.Context, tx pgx.Tx, number string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `select c.line_id, i.number from credited_lines c join invoices i on i.id = c.credit_note_id
		where c.invoice_number = $1`, number)
	if err != nil {
		return nil, err
	}
	credited := map[string]string{}
	var line, by string
	if _, err := pgx.ForEachRow(rows, []any{&line, &by}, func() error { credited[line] = by; return nil }); err != nil {
		return nil, err
	}
	return credited, nil
}

// toCredit returns the lines to credit: lineIDs, or every line not credited yet when
// it is empty. A line credited already is ErrOverCredit.
func toCredit(orig *invoice.Invoice, lineIDs []string, credited map[string]string) ([]string, error) {
	if len(lineIDs) == 0 {
		for _, l := range orig.Lines {
			if credited[l.ID] == "" {
				lineIDs = append(lineIDs, l.ID)
			}
		}
		if len(lineIDs) == 0 {
			return nil, fmt.Errorf("every line is credited already: %w", ErrOverCredit)
		}
	}
	var twice []string
	for _, id := range lineIDs {
		if by := credited[id]; by != "" {
			twice = append(twice, fmt.Sprintf("line %s (credited by %s)", id, by))
		}
	}
	if len(twice) > 0 {
		sort.Strings(twice)
		return nil, fmt.Errorf("%s: %w", strings.Join(twice, ", "), ErrOverCredit)
	}
	return lineIDs, nil
}

// insertCreditNote stores the draft credit note cn for the lines of invoice number.
func insertCreditNote(ctx context.Context, tx pgx.Tx, cn *invoice.Invoice, number string, lineIDs []string) (int64, error) {
	b, err := json.Marshal(cn)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRow(ctx, `insert into invoices (buyer_kind, buyer_id, currency, type_code, issue_date, model, net, vat, gross)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id`, cn.BuyerKind, cn.BuyerID, cn.Currency, cn.TypeCode, cn.IssueDate.String(), b,
		cn.Totals.TaxBasis.String(), cn.Totals.TaxTotal.String(), cn.Totals.GrandTotal.String()).Scan(&id); err != nil {
		return 0, err
	}
	for _, l := range lineIDs {
		if _, err := tx.Exec(ctx, `insert into credited_lines (invoice_number, line_id, credit_note_id) values ($1, $2, $3)`, number, l, id); err != nil {
			return 0, fmt.Errorf("line %s: %w", l, err)
		}
	}
	return id, nil
}

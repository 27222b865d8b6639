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
	"github.com/shopspring/decimal"
)

// ErrOverCredit means a credit note would credit more than was invoiced.
var ErrOverCredit = errors.New("credit exceeds what was invoiced")

// CreateCreditNote stores a draft credit note for parts of a finalized invoice (what is
// left of every line when parts is empty), in one transaction that locks the invoice: a
// line is credited, in full or by amounts, never beyond its net, so nothing is credited
// twice. The draft is finalized, rendered and archived like an invoice (see
// jobs.CreditNote). The original is untouched.
func (s *Store) CreateCreditNote(ctx context.Context, number string, parts []invoice.CreditPart, reason string, issue calendar.Date) (int64, *invoice.Invoice, error) {
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
	credited, err := creditedLines(ctx, tx, orig)
	if err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	if parts, err = toCredit(orig, parts, credited); err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	cn, err := invoice.CreditNoteForParts(orig, parts, "DRAFT-CN", issue, reason)
	if err != nil {
		return 0, nil, err
	}
	id, err := insertCreditNote(ctx, tx, cn, number, parts)
	if err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, fmt.Errorf("credit note for %s: %w", number, err)
	}
	return id, cn, nil
}

// credit is what was credited of a line, and by which credit notes.
type credit struct {
	amount decimal.Decimal
	by     []string
}

// creditedLines returns what credit notes credited of each line of invoice orig.
func creditedLines(ctx context.Context, tx pgx.Tx, orig *invoice.Invoice) (map[string]credit, error) {
	net := map[string]decimal.Decimal{}
	for _, l := range orig.Lines {
		net[l.ID] = l.Net
	}
	rows, err := tx.Query(ctx, `select c.line_id, i.number, c.amount from credited_lines c join invoices i on i.id = c.credit_note_id
		where c.invoice_number = $1 order by i.id`, orig.Number)
	if err != nil {
		return nil, err
	}
	credited := map[string]credit{}
	var line, by string
	var amount *decimal.Decimal
	if _, err := pgx.ForEachRow(rows, []any{&line, &by, &amount}, func() error {
		c := credited[line]
		a := net[line]
		if amount != nil {
			a = *amount
		}
		c.amount, c.by = c.amount.Add(a), append(c.by, by)
		credited[line] = c
		return nil
	}); err != nil {
		return nil, err
	}
	return credited, nil
}

// toCredit returns the parts to credit: parts, or what is left of every line when it is
// empty (lines with nothing left are passed over). A line named whole is credited for
// what is left of it; a named line with nothing left, or an amount beyond what is left,
// is ErrOverCredit.
func toCredit(orig *invoice.Invoice, parts []invoice.CreditPart, credited map[string]credit) ([]invoice.CreditPart, error) {
	all := len(parts) == 0
	if all {
		for _, l := range orig.Lines {
			parts = append(parts, invoice.CreditPart{LineID: l.ID})
		}
	}
	net := map[string]decimal.Decimal{}
	for _, l := range orig.Lines {
		net[l.ID] = l.Net
	}
	var out []invoice.CreditPart
	var over []string
	for _, p := range parts {
		c := credited[p.LineID]
		left := net[p.LineID].Sub(c.amount)
		switch {
		case len(c.by) == 0 && p.Amount.IsZero():
			out = append(out, p) // the whole line, as it is
		case !left.IsPositive() && all:
		case !left.IsPositive():
			over = append(over, fmt.Sprintf("line %s (credited by %s)", p.LineID, strings.Join(c.by, ", ")))
		case p.Amount.GreaterThan(left):
			over = append(over, fmt.Sprintf("line %s (%s left of %s, asked %s)", p.LineID, left.StringFixed(2), net[p.LineID].StringFixed(2), p.Amount.StringFixed(2)))
		case p.Amount.IsZero():
			out = append(out, invoice.CreditPart{LineID: p.LineID, Amount: left})
		default:
			out = append(out, p)
		}
	}
	if len(over) > 0 {
		sort.Strings(over)
		return nil, fmt.Errorf("%s: %w", strings.Join(over, ", "), ErrOverCredit)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("every line is credited already: %w", ErrOverCredit)
	}
	return out, nil
}

// insertCreditNote stores the draft credit note cn for parts of invoice number.
func insertCreditNote(ctx context.Context, tx pgx.Tx, cn *invoice.Invoice, number string, parts []invoice.CreditPart) (int64, error) {
	b, err := json.Marshal(cn)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRow(ctx, `insert into invoices (buyer_kind, buyer_id, currency, type_code, issue_date, model, net, vat, gross,
			payment_method, due_date, preceding_invoice)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id`, cn.BuyerKind, cn.BuyerID, cn.Currency, cn.TypeCode, cn.IssueDate.String(), b,
		cn.Totals.TaxBasis.String(), cn.Totals.TaxTotal.String(), cn.Totals.GrandTotal.String(),
		string(cn.Payment.Method), cn.DueDate.String(), number).Scan(&id); err != nil {
		return 0, err
	}
	for _, p := range parts {
		var amount *decimal.Decimal
		if !p.Amount.IsZero() {
			amount = &p.Amount
		}
		if _, err := tx.Exec(ctx, `insert into credited_lines (invoice_number, line_id, credit_note_id, amount) values ($1, $2, $3, $4)`,
			number, p.LineID, id, amount); err != nil {
			return 0, fmt.Errorf("line %s: %w", p.LineID, err)
		}
	}
	return id, nil
}

package invoice

import (
	"fmt"
	"strings"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/shopspring/decimal"
)

// CreditNoteFor returns a credit note (type 381) that credits the whole of a finalized
// invoice: the same lines and amounts, referencing the original (BT-25, BT-26). The
// original is not changed. Amounts stay positive: the type code makes it a credit.
func CreditNoteFor(orig *Invoice, number string, issue calendar.Date, reason string) (*Invoice, error) {
	ids := make([]string, len(orig.Lines))
	for i, l := range orig.Lines {
		ids[i] = l.ID
	}
	return CreditNoteForLines(orig, ids, number, issue, reason)
}

// CreditNoteForLines returns a credit note for some lines of a finalized invoice, each
// credited in full; its VAT and totals are computed anew over those lines.
func CreditNoteForLines(orig *Invoice, lineIDs []string, number string, issue calendar.Date, reason string) (*Invoice, error) {
	parts := make([]CreditPart, len(lineIDs))
	for i, id := range lineIDs {
		parts[i] = CreditPart{LineID: id}
	}
	return CreditNoteForParts(orig, parts, number, issue, reason)
}

// CreditPart is a line to credit: all of it, or a net amount of it.
type CreditPart struct {
	LineID string
	// Amount is the net amount credited; zero credits the whole line.
	Amount decimal.Decimal
}

// CreditNoteForParts returns a credit note for lines of a finalized invoice, each in full
// or for a net amount of it: such a line is credited as one unit at that amount, its
// note saying what of which line it credits. VAT and totals are computed anew over the
// credited lines (EN 16931: line net = quantity × price, VAT per category).
func CreditNoteForParts(orig *Invoice, parts []CreditPart, number string, issue calendar.Date, reason string) (*Invoice, error) {
	if orig.TypeCode != CommercialInvoice {
		return nil, fmt.Errorf("credit note for %s: only a commercial invoice (380) can be credited, not type %s", orig.Number, orig.TypeCode)
	}
	if reason == "" {
		return nil, fmt.Errorf("credit note for %s: a reason is required", orig.Number)
	}
	if issue.Before(orig.IssueDate) {
		return nil, fmt.Errorf("credit note for %s: issue date %s is before the invoice's %s", orig.Number, issue, orig.IssueDate)
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("credit note for %s: no lines to credit", orig.Number)
	}
	cn := *orig
	cn.Number, cn.TypeCode, cn.IssueDate, cn.DueDate = number, CreditNote, issue, issue
	cn.Preceding, cn.PrecedingDate = orig.Number, orig.IssueDate
	byID := map[string]Line{}
	for _, l := range orig.Lines {
		byID[l.ID] = l
	}
	cn.Lines = nil
	seen := map[string]bool{}
	t := textsFor(orig.Language)
	for _, p := range parts {
		l, ok := byID[p.LineID]
		if !ok {
			return nil, fmt.Errorf("credit note for %s: the invoice has no line %s", orig.Number, p.LineID)
		}
		if seen[p.LineID] {
			return nil, fmt.Errorf("credit note for %s: line %s is named twice", orig.Number, p.LineID)
		}
		seen[p.LineID] = true
		if !p.Amount.IsZero() {
			if !p.Amount.IsPositive() || p.Amount.GreaterThan(l.Net) || !p.Amount.Equal(p.Amount.Round(2)) {
				return nil, fmt.Errorf("credit note for %s: line %s: %s is not an amount of 0.01 to the line's net %s", orig.Number, p.LineID, p.Amount, l.Net.StringFixed(2))
			}
			l.Note = strings.TrimSpace(fmt.Sprintf(t.partCredit, p.Amount.StringFixed(2), l.Net.StringFixed(2), p.LineID) + " " + l.Note)
			l.Quantity, l.UnitCode, l.UnitPrice, l.Net = decimal.NewFromInt(1), "C62", p.Amount, p.Amount
		}
		cn.Lines = append(cn.Lines, l)
	}
	if len(orig.VAT) != 1 {
		return nil, fmt.Errorf("credit note for %s: %d VAT breakdowns; kontor invoices have one", orig.Number, len(orig.VAT))
	}
	v := orig.VAT[0]
	cn.VAT, cn.Totals = Totalize(cn.Lines, VATRule{Category: v.Category, Rate: v.Rate, ExemptionCode: v.ExemptionCode, ExemptionText: v.ExemptionText})
	cn.Period = cn.Lines[0].Period
	for _, l := range cn.Lines {
		if l.Period.Start.Before(cn.Period.Start) {
			cn.Period.Start = l.Period.Start
		}
		if l.Period.End.After(cn.Period.End) {
			cn.Period.End = l.Period.End
		}
	}
	cn.Notes = append([]string{fmt.Sprintf(t.creditFor, orig.Number, FormatDate(orig.IssueDate, orig.Language), reason)}, orig.Notes...)
	// A refund or set-off, not a payment to the seller's account: UNTDID 4461 code 1
	// (instrument not defined) with the terms saying how it is settled.
	cn.Payment = Payment{Method: orig.Payment.Method, Code: MeansNotDefined, Terms: fmt.Sprintf(t.refund, FormatDate(issue, orig.Language))}
	return &cn, nil
}

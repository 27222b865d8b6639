package invoice

import (
	"fmt"

	"github.com/kontor-billing/kontor/calendar"
)

// CreditNoteFor returns a credit note (type 381) that credits the whole of a finalized
// invoice: the same lines and amounts, referencing the original (BT-25, BT-26). The
// original is not changed. Amounts stay positive: the type code makes it a credit.
func CreditNoteFor(orig *Invoice, number string, issue calendar.Date, reason string) (*Invoice, error) {
	if orig.TypeCode != CommercialInvoice {
		return nil, fmt.Errorf("credit note for %s: only a commercial invoice (380) can be credited, not type %s", orig.Number, orig.TypeCode)
	}
	if reason == "" {
		return nil, fmt.Errorf("credit note for %s: a reason is required", orig.Number)
	}
	if issue.Before(orig.IssueDate) {
		return nil, fmt.Errorf("credit note for %s: issue date %s is before the invoice's %s", orig.Number, issue, orig.IssueDate)
	}
	cn := *orig
	cn.Number, cn.TypeCode, cn.IssueDate, cn.DueDate = number, CreditNote, issue, issue
	cn.Preceding, cn.PrecedingDate = orig.Number, orig.IssueDate
	cn.Lines = append([]Line(nil), orig.Lines...)
	cn.VAT = append([]VATBreakdown(nil), orig.VAT...)
	t := textsFor(orig.Language)
	cn.Notes = append([]string{fmt.Sprintf(t.creditFor, orig.Number, FormatDate(orig.IssueDate, orig.Language), reason)}, orig.Notes...)
	// A refund or set-off, not a payment to the seller's account: UNTDID 4461 code 1
	// (instrument not defined) with the terms saying how it is settled.
	cn.Payment = Payment{Method: orig.Payment.Method, Code: "1", Terms: fmt.Sprintf(t.refund, FormatDate(issue, orig.Language))}
	return &cn, nil
}

package jobs

import (
	"context"
	"fmt"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/store"
)

// CreditNote credits parts of an issued invoice (what is left of every line when parts is
// empty): a draft credit note (type 381) referencing the invoice is stored, then the run's
// finalize stage numbers it with the next number of the credit-note series, renders and
// archives it like an invoice. Crediting a line twice is refused (store.ErrOverCredit). It
// holds the run lock, so numbers stay in finalization order across runs and credit notes.
// When the invoice was paid through Stripe, the credit note's amount is refunded there.
func CreditNote(ctx context.Context, st *store.Store, number string, parts []invoice.CreditPart, reason string, opt RunOptions) (Summary, error) {
	r := newRunState(context.WithoutCancel(ctx), opt) // a credit note is not stopped halfway
	unlock, err := st.Lock(ctx, store.RunLock)
	if err != nil {
		return r.sum, fmt.Errorf("credit invoice %s: %w", number, err)
	}
	defer unlock()
	// The finalize stage needs the seller's number series only.
	seller, err := st.Seller(ctx)
	if err != nil {
		return r.sum, fmt.Errorf("credit invoice %s: %w", number, err)
	}
	r.ds = &dataset.Dataset{Seller: seller}
	if _, _, err := st.CreateCreditNote(ctx, number, parts, reason, opt.AsOf); err != nil {
		return r.sum, fmt.Errorf("credit invoice %s: %w", number, err)
	}
	s := finalizeStage{finalize: st, deliver: st}
	if err := s.run(ctx, r); err != nil {
		return r.sum, fmt.Errorf("credit invoice %s: %w", number, err)
	}
	if err := queueInvoiceMails(ctx, st, r); err != nil {
		return r.sum, fmt.Errorf("credit invoice %s: %w", number, err)
	}
	if err := refund(ctx, st, r); err != nil {
		return r.sum, fmt.Errorf("credit invoice %s: refund: %w", number, err)
	}
	return r.sum, nil
}

package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/store"
)

// CreditStore is what issuing a credit note needs of the system of record.
type CreditStore interface {
	Store
	CreateCreditNote(ctx context.Context, number string, lineIDs []string, reason string, issue calendar.Date) (int64, *invoice.Invoice, error)
}

// CreditNote credits lines of an issued invoice (all not yet credited when lineIDs is
// empty): a draft credit note (type 381) referencing the invoice is stored, then
// finalized with the next number of the credit-note series, rendered and archived like an
// invoice. Crediting a line twice is refused (store.ErrOverCredit). It holds the run lock,
// so numbers stay in finalization order across runs and credit notes.
func CreditNote(ctx context.Context, st CreditStore, number string, lineIDs []string, reason string, opt RunOptions) (Summary, error) {
	sum := Summary{AsOf: opt.AsOf, Issued: []Issued{}, Skipped: []invoice.Skipped{}}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	unlock, err := st.Lock(ctx, store.RunLock)
	if err != nil {
		return sum, err
	}
	defer unlock()
	ds, err := st.Dataset(ctx)
	if err != nil {
		return sum, err
	}
	if _, _, err := st.CreateCreditNote(ctx, number, lineIDs, reason, opt.AsOf); err != nil {
		return sum, err
	}
	never := func() bool { return false }
	err = pipeline{ctx, st, ds, opt, log, func(string) {}, never, 0, opt.timer(time.Now)}.complete(&sum)
	return sum, err
}

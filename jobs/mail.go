package jobs

import (
	"context"
)

// mailStore is what the mail stage writes.
type mailStore interface {
	// QueueInvoiceMails queues an email of each archived document among numbers, and of
	// those a stopped run archived, once each.
	QueueInvoiceMails(ctx context.Context, numbers []string) (int, error)
}

// mailStage puts an email of each document the run issued in the outbox, when the
// seller sends invoices by email (seller.json email_invoices); the outbox's sender sends
// it (kontor run at its end, schedule and serve every minute, kontor outbox send).
type mailStage struct{ st mailStore }

func (mailStage) name() string { return "mail" }

func (s mailStage) run(ctx context.Context, r *runState) error {
	return queueInvoiceMails(ctx, s.st, r)
}

// queueInvoiceMails queues the emails of the documents in the summary.
func queueInvoiceMails(ctx context.Context, st mailStore, r *runState) error {
	if !r.ds.Seller.EmailInvoices {
		return nil
	}
	numbers := make([]string, 0, len(r.sum.Issued))
	for _, is := range r.sum.Issued {
		numbers = append(numbers, is.Number)
	}
	n, err := st.QueueInvoiceMails(ctx, numbers)
	if err != nil {
		return err
	}
	r.sum.Emails = n
	r.step("mails-queued")
	return nil
}

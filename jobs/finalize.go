package jobs

import (
	"context"
	"fmt"
	"sync"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
)

// finalizeStore is what numbering reads and writes.
type finalizeStore interface {
	// InvoiceRefs lists the invoices with one of the statuses, oldest first.
	InvoiceRefs(ctx context.Context, statuses ...invoice.Status) ([]invoice.Ref, error)
	// InvoicesByID reads the invoices ids, in that order.
	InvoicesByID(ctx context.Context, ids []int64) ([]invoice.Stored, error)
	// Finalize gives the drafts ids the next numbers of series, in that order.
	Finalize(ctx context.Context, ids []int64, series string) ([]invoice.Stored, error)
}

// handOut is where finalized invoices go to be rendered and archived: this process's
// deliveries, or worker processes through the job queue.
type handOut interface {
	// add hands invoices out.
	add(ctx context.Context, invs []invoice.Stored) error
	// failed reports whether a delivery failed already, so that numbering stops.
	failed() bool
	// finish waits for every invoice handed out and fills in the summary's counts; err
	// says why the caller stopped handing out (nil: it did not).
	finish(ctx context.Context, err error) error
}

// finalizeStage finalizes every draft (invoices and credit notes, each numbered from its
// series, in batches of RunOptions.FinalizeBatch), renders every finalized document and
// archives every rendered one. Blocks of finalized invoices are delivered (by this
// process, or by workers through the job queue) while the next are numbered; invoices
// an interrupted run finalized or rendered and did not archive are delivered first.
type finalizeStage struct {
	finalize finalizeStore
	deliver  DeliveryStore
}

func (finalizeStage) name() string { return "finalize" }

func (s finalizeStage) run(ctx context.Context, r *runState) error {
	drafts, err := s.finalize.InvoiceRefs(ctx, invoice.Draft)
	if err != nil {
		return fmt.Errorf("list the drafts: %w", err)
	}
	pending, err := s.finalize.InvoiceRefs(ctx, invoice.Finalized, invoice.Rendered)
	if err != nil {
		return fmt.Errorf("list the invoices not archived: %w", err)
	}
	var mu sync.Mutex // progress is reported from the delivering goroutines too
	out := s.handOut(ctx, r, &mu, drafts, pending)
	if err := s.handOutPending(ctx, r, out, pending); err != nil {
		return out.finish(ctx, err)
	}
	totals := invoice.CurrencyTotals{}
	err = s.number(ctx, r, &mu, out, drafts, &totals)
	r.sum.Totals = totals.List()
	if err != nil {
		return out.finish(ctx, err)
	}
	r.timed("finalize")
	err = out.finish(ctx, nil)
	r.timed("deliver")
	return err
}

// handOut starts the delivery: through the queue when the run has one, else here.
func (s finalizeStage) handOut(ctx context.Context, r *runState, mu *sync.Mutex, drafts, pending []invoice.Ref) handOut {
	if r.opt.Queue != nil {
		return r.opt.Queue.start(r, mu)
	}
	toRender := len(drafts)
	for _, p := range pending {
		if p.Status == invoice.Finalized {
			toRender++
		}
	}
	return startDeliveries(ctx, r, s.deliver, mu, toRender, len(pending)+len(drafts))
}

// handOutPending hands out what an interrupted run finalized or rendered and did not
// archive, a batch at a time: after a crash they may be a whole run's.
func (s finalizeStage) handOutPending(ctx context.Context, r *runState, out handOut, pending []invoice.Ref) error {
	size := r.opt.finalizeBatch()
	for from := 0; from < len(pending); from += size {
		ids := make([]int64, 0, size)
		for _, p := range pending[from:min(from+size, len(pending))] {
			ids = append(ids, p.ID)
		}
		invs, err := s.finalize.InvoicesByID(ctx, ids)
		if err != nil {
			return fmt.Errorf("read invoices to deliver: %w", err)
		}
		if err := out.add(ctx, invs); err != nil {
			return err
		}
	}
	return nil
}

// number finalizes the drafts in batches of up to RunOptions.FinalizeBatch consecutive
// drafts of one number series, adding each to the summary and totals and handing it out.
func (s finalizeStage) number(ctx context.Context, r *runState, mu *sync.Mutex, out handOut, drafts []invoice.Ref, totals *invoice.CurrencyTotals) error {
	size := r.opt.finalizeBatch()
	seriesOf := func(d invoice.Ref) string {
		if d.TypeCode == invoice.CreditNote {
			return dataset.SeriesOf(r.ds.Seller.CreditNoteSeries, d.IssueDate)
		}
		return dataset.SeriesOf(r.ds.Seller.InvoiceSeries, d.IssueDate)
	}
	for start := 0; start < len(drafts); {
		if r.stopped() || out.failed() {
			return ErrStopped
		}
		series := seriesOf(drafts[start])
		end := start + 1
		for end < len(drafts) && end-start < size && seriesOf(drafts[end]) == series {
			end++
		}
		invs, err := s.finalizeBatch(ctx, r, drafts[start:end], series, start)
		if err != nil {
			return err
		}
		for _, si := range invs {
			totals.Add(si.Invoice)
		}
		mu.Lock()
		r.opt.progress("finalize", end, len(drafts))
		mu.Unlock()
		if err := out.add(ctx, invs); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// finalizeBatch numbers one batch of drafts, the first at position start (from 0), and
// adds them to the summary.
func (s finalizeStage) finalizeBatch(ctx context.Context, r *runState, batch []invoice.Ref, series string, start int) ([]invoice.Stored, error) {
	ids := make([]int64, len(batch))
	for j, d := range batch {
		ids[j] = d.ID
	}
	r.step(fmt.Sprintf("finalize-%d", start+1))
	invs, err := s.finalize.Finalize(ctx, ids, series)
	if err != nil {
		return nil, fmt.Errorf("number drafts %d to %d from series %s: %w", start+1, start+len(batch), series, err)
	}
	for _, si := range invs {
		inv, t := si.Invoice, si.Invoice.Totals
		r.sum.Issued = append(r.sum.Issued, Issued{Number: inv.Number, Type: inv.TypeCode, Buyer: string(inv.BuyerKind) + " " + inv.BuyerID,
			BuyerName: inv.Buyer.Name, Currency: inv.Currency, Net: t.TaxBasis, VAT: t.TaxTotal, Gross: t.GrandTotal})
		r.log.Debug("invoice finalized", "run", r.runID, "number", inv.Number, "buyer", inv.BuyerID, "gross", t.GrandTotal.StringFixed(2), "currency", inv.Currency)
	}
	r.log.Info("invoices finalized", "run", r.runID, "series", series, "first", invs[0].Invoice.Number, "last", invs[len(invs)-1].Invoice.Number, "count", len(invs))
	r.step(fmt.Sprintf("finalized-%d", start+len(batch)))
	return invs, nil
}

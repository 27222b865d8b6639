package jobs

import (
	"context"
	"fmt"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/store"
)

// loadStore is what the load stage reads.
type loadStore interface {
	// DatasetOutline reads the seller, catalog and partners, and each subscription's ID,
	// buyer and line.
	DatasetOutline(ctx context.Context) (*dataset.Outline, error)
	// ReadUsage begins reading the unsettled usage of the parts, part by part.
	ReadUsage(ctx context.Context, parts [][]string) (usageParts, error)
}

// usageParts reads a run's unsettled usage part by part, on a snapshot of its own.
type usageParts interface {
	// Parts is how many parts Next returns.
	Parts() int
	// Window is the range of event sequence numbers the reading sees.
	Window() store.Window
	// Next returns the next part's usage.
	Next(ctx context.Context) (store.Unsettled, error)
	// Close ends the reading; it may be called more than once.
	Close(ctx context.Context)
}

// loadStage reads the dataset's outline, splits the subscriptions into parts of whole
// buyers (RunOptions.Part) and begins reading their unsettled usage: of the whole
// dataset, a run holds only its outline.
type loadStage struct{ st loadStore }

func (loadStage) name() string { return "load" }

func (s loadStage) run(ctx context.Context, r *runState) error {
	o, err := s.st.DatasetOutline(ctx)
	if err != nil {
		return fmt.Errorf("read the dataset's outline: %w", err)
	}
	parts := invoice.Parts(o.Subscriptions, func(s dataset.SubscriptionRef) (invoice.BuyerKind, string) {
		return invoice.Buyer(s.Channel, s.CustomerID, s.PartnerID)
	}, r.opt.part())
	r.outline, r.ds = o, o.Base
	r.parts = make([][]string, len(parts))
	for i, p := range parts {
		r.parts[i] = make([]string, len(p))
		for j, s := range p {
			r.parts[i][j] = s.ID
		}
	}
	if r.usage, err = s.st.ReadUsage(ctx, r.parts); err != nil {
		return fmt.Errorf("read the unsettled usage: %w", err)
	}
	r.onClose(r.usage.Close)
	r.step("loaded")
	r.timed("load")
	return nil
}

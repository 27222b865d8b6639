package jobs

import (
	"context"

	"github.com/kontor-billing/kontor/store"
)

// storeAdapter is the system of record as the stages consume it: *store.Store, whose
// handles (an assembly in progress, a usage reading) are handed out as the interfaces
// the stages define, not as the store's concrete types.
type storeAdapter struct{ *store.Store }

// ReadUsage is store.Store.ReadUsage as the load stage consumes it.
func (s storeAdapter) ReadUsage(ctx context.Context, parts [][]string) (usageParts, error) {
	u, err := s.Store.ReadUsage(ctx, parts)
	if err != nil {
		return nil, err // the store says what it was reading
	}
	return u, nil
}

// BeginAssembly is store.Store.BeginAssembly as the assemble stage consumes it.
func (s storeAdapter) BeginAssembly(ctx context.Context, runID int64, window store.Window) (assembly, error) {
	a, err := s.Store.BeginAssembly(ctx, runID, window)
	if err != nil {
		return nil, err // the store says which run it was saving
	}
	return a, nil
}

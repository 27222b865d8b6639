package jobs

import (
	"context"
	"sync"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/store"
)

// partRead is one part as readAhead hands it over: its records and its usage.
type partRead struct {
	ds    *dataset.Dataset
	usage store.Unsettled
	err   error
}

// readAhead reads the parts one part ahead of the caller: while the caller rates and
// stores a part, the next one's records are loaded (load, given the part's index) and its
// usage read (on the reader's own connection), so that the run waits for rows less. It
// holds at most the part it is reading besides the one it hands over. stop ends the
// reading and returns once the reader is no longer used; it may be called more than once.
func readAhead(ctx context.Context, usage usageParts, load func(ctx context.Context, part int) (*dataset.Dataset, error)) (reads <-chan partRead, stop func()) {
	out := make(chan partRead)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(out)
		for i := range usage.Parts() {
			ds, err := load(ctx, i)
			var u store.Unsettled
			if err == nil {
				u, err = usage.Next(ctx)
			}
			select {
			case out <- partRead{ds, u, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

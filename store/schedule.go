// The scheduler's ticks: one replica executes each.

package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimTick records that replica executes the scheduler tick at the given instant; false
// when another replica claimed it first.
func (s *Store) ClaimTick(ctx context.Context, tick time.Time, replica string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `insert into schedule_ticks (tick, replica) values ($1, $2) on conflict do nothing`, tick, replica)
	if err != nil {
		return false, fmt.Errorf("claim tick %s: %w", tick.Format(time.RFC3339), err)
	}
	return tag.RowsAffected() == 1, nil
}

// The run lock: an advisory lock that serializes runs, credit notes and scheduler ticks.

package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Advisory lock keys.
const (
	// RunLock is held by a run from start to end: runs, and schedule ticks, never overlap.
	RunLock int64 = 0x6b6f6e746f72 // "kontor"
)

// Lock waits for the session advisory lock key and returns its release. The lock lives on a
// connection of its own, so it is released when the process dies, too.
func (s *Store) Lock(ctx context.Context, key int64) (func(), error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return unlocker(conn, key), nil
}

// TryLock takes the advisory lock if it is free; ok is false when another session holds it.
func (s *Store) TryLock(ctx context.Context, key int64) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	if err := conn.QueryRow(ctx, "select pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, false, fmt.Errorf("lock: %w", err)
		}
		return nil, false, nil
	}
	return unlocker(conn, key), true, nil
}

func unlocker(conn *pgxpool.Conn, key int64) func() {
	return func() {
		// A failed unlock leaves the lock to the session, which Release ends.
		_, _ = conn.Exec(context.Background(), "select pg_advisory_unlock($1)", key)
		conn.Release()
	}
}

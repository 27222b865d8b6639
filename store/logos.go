// The sellers' logos, by content.

package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/invoice"
)

// ErrNoLogo is the error of a logo the store does not hold.
var ErrNoLogo = errors.New("no such logo")

// saveLogo keeps the seller's logo, if it has one, by its ID (invoice.LogoID).
func saveLogo(ctx context.Context, tx pgx.Tx, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `insert into logos (id, data) values ($1, $2) on conflict (id) do nothing`, invoice.LogoID(data), data)
	if err != nil {
		return fmt.Errorf("import: logo: %w", err)
	}
	return nil
}

// Logo returns the logo named id (invoice.LogoID).
func (s *Store) Logo(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `select data from logos where id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("logo %s: %w", id, ErrNoLogo)
	}
	if err != nil {
		return nil, fmt.Errorf("logo %s: %w", id, err)
	}
	return data, nil
}

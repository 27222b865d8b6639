// Bulk writes: rows copied into temporary tables and moved into place by one statement.

package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// bulk copies n rows into a new temporary table (dropped at commit) and runs move, a
// statement that moves them into place, returning the rows it affected. Dates and numbers
// travel as text and are cast by move, so that they keep their exact value.
func bulk(ctx context.Context, tx pgx.Tx, table, columns string, n int, row func(i int, dst []any), move string, args ...any) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	if err := copyTemp(ctx, tx, table, columns, n, row); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, move, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}

// copyTemp copies n rows into a new temporary table (dropped at commit).
func copyTemp(ctx context.Context, tx pgx.Tx, table, columns string, n int, row func(i int, dst []any)) error {
	// An earlier part of the assembly left the table: dropped, not reused, so that
	// nothing of that part is moved again.
	if _, err := tx.Exec(ctx, "drop table if exists "+table+"; create temporary table "+table+" ("+columns+") on commit drop"); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	var names []string
	for _, c := range strings.Split(columns, ",") {
		names = append(names, strings.Fields(c)[0])
	}
	dst := make([]any, len(names))
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		row(i, dst)
		return dst, nil
	})); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// bulkNew is bulk for rows of which none may be stored yet: insert is a plain insert,
// which PostgreSQL does a third faster than one that resolves conflicts row by row (on
// conflict). Should one be stored (unique key key), the insert is undone and taken
// returns the error naming it; the transaction goes on meanwhile, for taken to look.
func bulkNew(ctx context.Context, tx pgx.Tx, table, columns string, n int, row func(i int, dst []any), insert, key string, taken func() error, args ...any) error {
	if n == 0 {
		return nil
	}
	if err := copyTemp(ctx, tx, table, columns, n, row); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "savepoint insert_new"); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	tag, err := tx.Exec(ctx, insert, args...)
	if violates(err, key) {
		if _, err := tx.Exec(ctx, "rollback to savepoint insert_new"); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		return taken()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if tag.RowsAffected() != int64(n) {
		return fmt.Errorf("%s: %d of %d rows stored", table, tag.RowsAffected(), n)
	}
	if _, err := tx.Exec(ctx, "release savepoint insert_new"); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// Package store is kontor's system of record in PostgreSQL: the imported dataset, usage
// events, the billing ledger, runs, invoices with gapless numbers, rendered documents.
// Each file holds one thing kept (the run lock, runs, the dataset, usage and ledgers, a
// run's assembly, settled usage, numbering, documents, licenses, payments, credit notes,
// scheduler ticks, the import); records stored as JSON carry their JSON tags' snake_case
// keys, which is what SQL reads.
//
// Every query is parameterized. Methods take a context and wrap their errors with what
// they were doing.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// DefaultURL is the database kontor uses when DATABASE_URL is not set: the local
// PostgreSQL, database kontor.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/kontor?sslmode=disable"

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a connection pool to kontor's database.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %q on %s:%d: %w", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool to tests and to packages that build on the store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// EnsureDatabase creates the database named in url when it does not exist, connecting to
// the server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to the server to create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "select exists (select 1 from pg_database where datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created concurrently
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// Migrate brings the schema to the latest version (tern, embedded SQL migrations; a lock
// keeps concurrent migrations apart), then the job queue's tables (river's own migrations:
// kontor worker processes share a run's render and archive work through them).
func (s *Store) Migrate(ctx context.Context) (from, to int32, err error) {
	if from, to, err = s.migrateSchema(ctx); err != nil {
		return from, to, err
	}
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return from, to, fmt.Errorf("migrate job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return from, to, fmt.Errorf("migrate job queue: %w", err)
	}
	return from, to, nil
}

func (s *Store) migrateSchema(ctx context.Context) (from, to int32, err error) {
	return s.migrateSchemaTo(ctx, -1)
}

// migrateSchemaTo migrates kontor's schema to version target (the latest when negative).
func (s *Store) migrateSchemaTo(ctx context.Context, target int32) (from, to int32, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "public.schema_version")
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, 0, err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return 0, 0, fmt.Errorf("migrate: load migrations: %w", err)
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if target < 0 {
		target = int32(len(m.Migrations))
	}
	if err := m.MigrateTo(ctx, target); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	return from, target, nil
}

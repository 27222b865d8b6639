// Package storetest gives tests a fresh, migrated PostgreSQL database of their own.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/store"
)

// ServerURL is the server tests use: $KONTOR_TEST_DATABASE_URL, else the local PostgreSQL
// with trust authentication. Its database part is replaced per test.
func ServerURL() string {
	if v := os.Getenv("KONTOR_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// New creates an empty database, migrates it, and drops it when the test ends. Where no
// server answers the test is skipped with a loud message; on CI (CI=true) it fails.
func New(t testing.TB) (string, *store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		msg := "POSTGRESQL NOT REACHABLE at " + cfg.Host + " (make deps installs and starts it): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING DATABASE TEST: " + msg)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "kontor_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	dbURL, err := withDatabase(ServerURL(), name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.ConnectConfig(ctx, mustConfig(ServerURL()))
		if err == nil {
			_, _ = c.Exec(ctx, "drop database if exists "+pgx.Identifier{name}.Sanitize()+" with (force)")
			c.Close(ctx)
		}
	})
	if _, _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return dbURL, st
}

func mustConfig(raw string) *pgx.ConnConfig {
	c, err := pgx.ParseConfig(raw)
	if err != nil {
		panic(err)
	}
	return c
}

// withDatabase returns the server URL with another database name.
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

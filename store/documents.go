// Documents: rendered files' hashes and where they were archived.

package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/invoice"
)

// SaveDocuments records the rendered files of finalized invoices, kind and SHA-256, and
// marks them rendered, in one transaction and one round trip. The bytes go to the
// archive, not the database: rendering is deterministic, so an invoice rendered but not
// archived is rendered again and checked against these hashes.
func (s *Store) SaveDocuments(ctx context.Context, rendered []invoice.RenderedFiles) error {
	if len(rendered) == 0 {
		return nil
	}
	// Losing this commit in a crash is harmless: the invoices stay finalized and are
	// rendered again, to the same bytes.
	b := unsynced()
	ids := make([]int64, len(rendered))
	for i, r := range rendered {
		ids[i] = r.ID
		for _, d := range r.Files {
			b.Queue(`insert into documents (invoice_id, kind, sha256) values ($1, $2, $3)
				on conflict (invoice_id, kind) do nothing`, r.ID, d.Kind, d.SHA256)
		}
	}
	b.Queue(`update invoices set status = 'rendered' where id = any($1) and status = 'finalized'`, ids)
	return s.sendInTx(ctx, b, fmt.Sprintf("store documents of %s from %d", invoice.Count(len(rendered), "invoice", "invoices"), rendered[0].ID))
}

// unsynced returns a batch whose transaction commits without waiting for the disk: for
// records whose loss in a crash only means work is done again.
func unsynced() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("set local synchronous_commit = off")
	return b
}

// sendInTx sends b in one transaction and one round trip; what names it in errors.
func (s *Store) sendInTx(ctx context.Context, b *pgx.Batch, what string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// DocumentHashes returns the SHA-256 of the rendered files of invoices: by invoice ID,
// then by kind.
func (s *Store) DocumentHashes(ctx context.Context, ids []int64) (map[int64]map[string]string, error) {
	rows, err := s.pool.Query(ctx, `select invoice_id, kind, sha256 from documents where invoice_id = any($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("documents of %s: %w", invoice.Count(len(ids), "invoice", "invoices"), err)
	}
	out := make(map[int64]map[string]string, len(ids))
	var id int64
	var kind, sum string
	if _, err := pgx.ForEachRow(rows, []any{&id, &kind, &sum}, func() error {
		if out[id] == nil {
			out[id] = map[string]string{}
		}
		out[id][kind] = sum
		return nil
	}); err != nil {
		return nil, fmt.Errorf("documents of %s: %w", invoice.Count(len(ids), "invoice", "invoices"), err)
	}
	return out, nil
}

// MarkArchived records where invoices' files were archived and marks them archived, in one
// transaction and one round trip.
func (s *Store) MarkArchived(ctx context.Context, archived []invoice.ArchiveKeys) error {
	if len(archived) == 0 {
		return nil
	}
	var ids, docIDs []int64
	var kinds, keys []string
	for _, a := range archived {
		ids = append(ids, a.ID)
		for kind, key := range a.Keys {
			docIDs, kinds, keys = append(docIDs, a.ID), append(kinds, kind), append(keys, key)
		}
	}
	// Losing this commit is harmless too: the next run archives again, and the write-once
	// archive accepts the same bytes.
	b := unsynced()
	b.Queue(`update documents d set archive_key = v.key, archived_at = now()
		from unnest($1::bigint[], $2::text[], $3::text[]) as v(id, kind, key)
		where d.invoice_id = v.id and d.kind = v.kind`, docIDs, kinds, keys)
	b.Queue(`update invoices set status = 'archived' where id = any($1) and status = 'rendered'`, ids)
	return s.sendInTx(ctx, b, fmt.Sprintf("mark %s from %d archived", invoice.Count(len(archived), "invoice", "invoices"), archived[0].ID))
}

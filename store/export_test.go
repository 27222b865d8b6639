package store

import "context"

// MigrateSchemaTo migrates kontor's schema (not the job queue's) to a version, for tests
// of a migration's up and down steps.
func (s *Store) MigrateSchemaTo(ctx context.Context, version int32) error {
	_, _, err := s.migrateSchemaTo(ctx, version)
	return err
}

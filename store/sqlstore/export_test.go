package sqlstore

import "context"

// MigrateTo brings the schema to version v (for upgrade tests).
func (s *Store) MigrateTo(ctx context.Context, v int) error { return s.migrate(ctx, v) }

// OpenAt is Open without migrating (for upgrade tests).
func OpenAt(ctx context.Context, s *Store, v int) error { return s.migrate(ctx, v) }

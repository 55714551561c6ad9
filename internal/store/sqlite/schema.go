package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// LatestSchema returns the schema version of the newest embedded migration: the version a
// database migrated by this build has.
func LatestSchema() int {
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	latest := 0
	for _, f := range files {
		if n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0]); err == nil {
			latest = max(latest, n)
		}
	}
	return latest
}

// SchemaVersion reads the database's schema version (PRAGMA user_version) through the
// read pool: a trivial read that also tells whether the store is reachable.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

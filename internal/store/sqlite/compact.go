package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
)

// Space of deleted rows (retention, package webhook/retention).
//
// SQLite keeps the pages that deleted rows free in the file and reuses them for new rows;
// the file never shrinks by itself. Under a steady load with retention on, reuse alone
// keeps the file flat at its high-water mark. To also give space back after a large purge
// (the first pruning of a database that kept everything, or a load that dropped), a
// database created by this version has auto_vacuum=INCREMENTAL, set before its first table
// (it cannot be switched on later without a VACUUM, which rewrites the whole file under an
// exclusive lock: a database created by an older version keeps auto_vacuum=NONE and
// relies on reuse; docs/decisions.md says how to convert one by hand). Compact then
// releases free pages beyond compactKeep of the file, in steps, on the writer.

// autoVacuumIncremental is PRAGMA auto_vacuum's value for INCREMENTAL.
const autoVacuumIncremental = 2

// compactKeepDiv keeps 1/compactKeepDiv of the file's pages free for reuse (10 %): in
// steady state a pruning pass frees far less than that, so Compact does nothing and
// pages are simply reused; it moves pages only when much more is free.
const compactKeepDiv = 10

// initAutoVacuum sets auto_vacuum=INCREMENTAL on a database that has no table yet. It must
// run before the first migration, on a connection that is not in a transaction.
func initAutoVacuum(ctx context.Context, db *sql.DB) error {
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if tables > 0 {
		return nil
	}
	// Opening in WAL mode has already written the file's first page, which fixes the
	// setting; VACUUM of the still empty database applies it, at no cost.
	for _, q := range []string{"PRAGMA auto_vacuum = INCREMENTAL", "VACUUM"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("set auto_vacuum: %s: %w", q, err)
		}
	}
	return nil
}

// Compact implements store.Compacter: on a database with auto_vacuum=INCREMENTAL it
// releases free pages beyond a tenth of the file, at most maxPages of them, in one write
// transaction of the writer. On other databases it does nothing.
func (s *Store) Compact(ctx context.Context, maxPages int) (int, error) {
	released := 0
	err := s.Tx(ctx, func(st store.Tx) error {
		q := st.(*sqlstore.Tx).Querier()
		var mode, free, total int64
		if err := q.QueryRow(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
			return fmt.Errorf("read auto_vacuum: %w", err)
		}
		if mode != autoVacuumIncremental {
			return nil
		}
		if err := q.QueryRow(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
			return fmt.Errorf("read freelist_count: %w", err)
		}
		if err := q.QueryRow(ctx, "PRAGMA page_count").Scan(&total); err != nil {
			return fmt.Errorf("read page_count: %w", err)
		}
		n := min(free-total/compactKeepDiv, int64(maxPages))
		if n <= 0 {
			return nil
		}
		if _, err := q.Exec(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", n)); err != nil {
			return fmt.Errorf("incremental vacuum: %w", err)
		}
		var after int64
		if err := q.QueryRow(ctx, "PRAGMA freelist_count").Scan(&after); err != nil {
			return fmt.Errorf("read freelist_count: %w", err)
		}
		released = int(free - after)
		return nil
	})
	return released, err
}

var _ store.Compacter = (*Store)(nil)

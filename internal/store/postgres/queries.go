package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/roomd/roomd/internal/store"
)

// Helpers shared by the query files, one file per noun of the store (queries_rooms.go,
// queries_members.go, …), and the two types that carry the queries: reader (store.Reader) and
// tx (store.Tx).

// Times are stored as Unix milliseconds; zero time is stored as 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// reader implements store.Reader over a querier.
type reader struct{ q querier }

// tx implements store.Tx on the write connection.
type tx struct {
	reader
	w     *connQuerier
	hooks []func()
}

// execGuarded runs a statement that may fail with a unique violation inside a savepoint of
// its own: in PostgreSQL a failed statement aborts the whole transaction, and the store
// contract keeps the transaction usable after an ErrConflict.
func (t *tx) execGuarded(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if _, err := t.w.ctl(ctx, "SAVEPOINT g"); err != nil {
		return nil, err
	}
	res, err := t.w.exec(ctx, q, args...)
	if err != nil {
		if _, rerr := t.w.ctl(ctx, "ROLLBACK TO SAVEPOINT g"); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
	}
	if _, rerr := t.w.ctl(ctx, "RELEASE SAVEPOINT g"); rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	return res, err
}

// The driver's types implement the store's interfaces.
var (
	_ store.Store  = (*Store)(nil)
	_ store.Reader = reader{}
	_ store.Tx     = (*tx)(nil)
)

func (t *tx) AfterCommit(fn func()) { t.hooks = append(t.hooks, fn) }

func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// nonNil turns a nil byte slice into an empty one: the driver binds nil as NULL, which a
// NOT NULL blob column refuses.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// pageLimit turns a page size for LIMIT ?: one that is not positive means no limit, which
// PostgreSQL spells LIMIT NULL.
func pageLimit(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// scanner is what a scan function reads one row from: a *sql.Row or the current row of a
// *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryList runs a query of many rows and turns each row into a T with scan; every query of
// more than one row goes through it. what names the list in errors ("list bans of room r1").
// The result is nil when no row matched.
func queryList[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// queryOne runs a query of one row and turns it into a T with scan, as queryList does for
// many rows: no row is store.ErrNotFound, another error is wrapped with what ("get room r1").
func queryOne[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, store.ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// deleteOne runs q, a DELETE of one user's row of a room, with (app, roomID, userID) and
// reports whether a row was deleted; what names the change in errors ("unban u1").
func (t *tx) deleteOne(ctx context.Context, q, what string, app uint64, roomID, userID string) (bool, error) {
	res, err := t.q.exec(ctx, q, int64(app), roomID, userID)
	if err != nil {
		return false, fmt.Errorf("%s in room %s: %w", what, roomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

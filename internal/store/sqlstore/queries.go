package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Helpers shared by the query files, one file per noun of the store (queries_rooms.go,
// queries_members.go, …), and the two types that carry the queries: Reader (store.Reader) and
// Tx (store.Tx).

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

// Querier runs the statements of the queries, written with SQLite's placeholders (? and ?N);
// a driver whose engine spells them otherwise rewrites them.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is the result of Querier.Query: the methods of *sql.Rows the queries use, so that a
// driver may return its own (package postgres runs its writer on pgx without database/sql).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is the result of Querier.QueryRow, as *sql.Row: Scan reports sql.ErrNoRows (or an
// error that matches it with errors.Is) when no row matched.
type Row interface {
	Scan(dest ...any) error
}

// Dialect holds what differs between the engines beyond the SQL text, which is the same for
// both.
type Dialect struct {
	// IsUniqueViolation reports whether err is the engine's unique-key violation.
	IsUniqueViolation func(err error) bool
	// NoLimit is the value of LIMIT ? that means no limit (SQLite: -1, PostgreSQL: NULL).
	NoLimit any
	// ExecGuarded, if set, runs an insert that may fail with a unique violation so that the
	// transaction stays usable after it (PostgreSQL: inside a savepoint of its own); w is
	// the transaction's querier. Unset, the insert runs as any statement does.
	ExecGuarded func(ctx context.Context, w Querier, query string, args ...any) (sql.Result, error)
	// ExecGuardedRarely, if set, runs an insert that fails with a unique violation only
	// when its caller broke an invariant (SeatPut: a user on two seats), so that the
	// failure is rare: PostgreSQL's pipelined writer queues it as it queues any Exec,
	// without the savepoint's round trip, and a violation makes the group run again
	// unpipelined, where ExecGuarded runs it. Unset, ExecGuarded (or a plain statement)
	// runs it.
	ExecGuardedRarely func(ctx context.Context, w Querier, query string, args ...any) (sql.Result, error)
	// ExecOne, if set, runs an UPDATE that changes at most one row and reports whether it
	// changed one. PostgreSQL's pipelined writer queues it and reports true without a
	// round trip; the statement it sends fails when no row changed, which makes the group
	// run again unpipelined, where the caller is told. Unset, the statement runs and its
	// result's RowsAffected answers.
	ExecOne func(ctx context.Context, w Querier, query string, args ...any) (bool, error)
	// LastInsertID, when set, makes an insert that needs its new row's id run as a plain
	// statement and read the id from its result (SQLite's last_insert_rowid) instead of
	// with RETURNING: a statement's result costs the driver far less than a row set
	// (database/sql's Rows, the column metadata, the scan). Unset (PostgreSQL, whose
	// driver has no LastInsertId), RETURNING is used.
	LastInsertID bool
	// NextEventID, when set, gives a new event its id before the insert (w is the
	// transaction's querier), and the insert names it, so that the insert needs no result:
	// PostgreSQL's pipelined writer then queues it instead of waiting for a RETURNING id.
	// The ids it gives must be in commit order, as the engine's own would be.
	NextEventID func(w Querier) (int64, error)
}

// Reader implements store.Reader over a Querier.
type Reader struct {
	q Querier
	d *Dialect
}

// NewReader returns a Reader running its queries on q.
func NewReader(q Querier, d *Dialect) Reader { return Reader{q: q, d: d} }

// Querier returns the Querier the Reader runs on.
func (r Reader) Querier() Querier { return r.q }

// Tx implements store.Tx on a driver's write connection.
type Tx struct {
	Reader
	hooks []func()
}

// NewTx returns a Tx running its statements on w.
func NewTx(w Querier, d *Dialect) *Tx { return &Tx{Reader: Reader{q: w, d: d}} }

// Hooks returns the functions registered with AfterCommit, in order.
func (t *Tx) Hooks() []func() { return t.hooks }

func (r Reader) isUniqueViolation(err error) bool {
	return err != nil && r.d.IsUniqueViolation(err)
}

// execGuarded runs an insert that may fail with a unique violation (Dialect.ExecGuarded).
func (t *Tx) execGuarded(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.d.ExecGuarded != nil {
		return t.d.ExecGuarded(ctx, t.q, q, args...)
	}
	return t.q.Exec(ctx, q, args...)
}

// execGuardedRarely runs an insert whose unique violation means the caller broke an
// invariant (Dialect.ExecGuardedRarely).
func (t *Tx) execGuardedRarely(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.d.ExecGuardedRarely != nil {
		return t.d.ExecGuardedRarely(ctx, t.q, q, args...)
	}
	return t.execGuarded(ctx, q, args...)
}

// execOne runs an UPDATE that changes at most one row and reports whether it changed one
// (Dialect.ExecOne).
func (t *Tx) execOne(ctx context.Context, q string, args ...any) (bool, error) {
	if t.d.ExecOne != nil {
		return t.d.ExecOne(ctx, t.q, q, args...)
	}
	res, err := t.q.Exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// The driver's types implement the store's interfaces.
var (
	_ store.Reader = Reader{}
	_ store.Tx     = (*Tx)(nil)
)

func (t *Tx) AfterCommit(fn func()) { t.hooks = append(t.hooks, fn) }

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
// the Dialect spells (NoLimit).
func (r Reader) pageLimit(n int) any {
	if n <= 0 {
		return r.d.NoLimit
	}
	return n
}

// scanner is what a scan function reads one row from: a *sql.Row or the current row of a
// *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryList runs a query of many rows and turns each row into a T with scan; every query of
// more than one row goes through it. what names the list in errors ("list bans of room r1").
// The result is nil when no row matched.
func queryList[T any](ctx context.Context, q Querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
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
func queryOne[T any](ctx context.Context, q Querier, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
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
func (t *Tx) deleteOne(ctx context.Context, q, what string, app uint64, roomID, userID string) (bool, error) {
	res, err := t.q.Exec(ctx, q, int64(app), roomID, userID)
	if err != nil {
		return false, fmt.Errorf("%s in room %s: %w", what, roomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

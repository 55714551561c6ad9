package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/roomd/roomd/internal/store/sqlstore"
	msqlite "modernc.org/sqlite"
)

// The writer's connection is a modernc driver connection used directly, without
// database/sql: every statement of a group commit went through database/sql's connection
// lock, argument checking, result wrapping and dependency tracking (DB.retry, withLock,
// driverArgsConnLocked, resultFromStatement, addDep), which cost about as much CPU as the
// driver's own work for the writer's short statements (docs/bench.md, issue 13). Only the
// writer goroutine uses the connection, so none of that locking is needed; what database/sql
// did besides, this file does itself:
//
//   - prepared statements, cached by query text (a statement without arguments runs
//     unprepared, as the writer's few dynamic ones such as PRAGMA incremental_vacuum(n) are);
//   - the conversion of arguments to driver values (driverValue), with the rules of
//     database/sql's default converter;
//   - the assignment of column values to Scan's destinations (assign), with the rules of
//     database/sql's convertAssign for the types the store's queries scan into, and an
//     error for any other combination;
//   - Rows that close their statement at the end of the rows, and a Row whose Scan reports
//     sql.ErrNoRows.
//
// The statements run with context.Background(), not the caller's context: a context that
// can end makes the driver watch it with a goroutine per statement. A Tx fn does short
// database work only, so it runs to its end; a call whose context ended before it ran is
// not run at all (runBatch). The PostgreSQL writer does the same (docs/decisions.md).

// connQuerier runs on the single write connection; only the writer goroutine uses it.
type connQuerier struct {
	conn  driver.Conn
	stmts map[string]*rawStmt
	// args is the buffer the arguments of a statement are converted into; the driver copies
	// them when it binds them, so the next statement reuses it.
	args []driver.NamedValue
}

// rawStmt is a prepared statement of the writer's connection.
type rawStmt struct {
	driver.Stmt
	exec  driver.StmtExecContext
	query driver.StmtQueryContext
	// open is the statement's last rows; they are closed (which resets the statement)
	// before it runs again, in case a caller left them open (a Tx fn that panicked).
	open *rawRows
}

// reuse closes the statement's rows if a caller left them open; a caller still reading
// them gets errReused from their Err.
func (st *rawStmt) reuse() {
	if r := st.open; r != nil {
		st.open = nil
		if !r.closed {
			r.Close()
			if r.err == nil {
				r.err = errReused
			}
		}
	}
}

var errReused = errors.New("sqlite: rows closed: their statement ran again before they were closed")

// bg is the context of the writer's statements (see above).
var bg = context.Background()

// openWriter opens the writer's connection on the database named by dsn, with the driver
// registered as "sqlite" (the one sql.Open uses).
func openWriter(dsn string) (*connQuerier, error) {
	cn, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := cn.Connect(bg)
	if err != nil {
		return nil, err
	}
	if _, ok := conn.(driver.ExecerContext); !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T does not run statements without preparing them", conn)
	}
	return &connQuerier{conn: conn, stmts: map[string]*rawStmt{}}, nil
}

func (c *connQuerier) stmt(q string) (*rawStmt, error) {
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	ds, err := c.conn.(driver.ConnPrepareContext).PrepareContext(bg, q)
	if err != nil {
		return nil, err
	}
	exec, ok1 := ds.(driver.StmtExecContext)
	query, ok2 := ds.(driver.StmtQueryContext)
	if !ok1 || !ok2 {
		ds.Close()
		return nil, fmt.Errorf("sqlite: driver statement %T lacks ExecContext or QueryContext", ds)
	}
	st := &rawStmt{Stmt: ds, exec: exec, query: query}
	c.stmts[q] = st
	return st, nil
}

// bind converts args into c.args; release clears it after the statement ran.
func (c *connQuerier) bind(args []any) ([]driver.NamedValue, error) {
	c.args = c.args[:0]
	for i, a := range args {
		v, err := driverValue(a)
		if err != nil {
			c.release()
			return nil, fmt.Errorf("sqlite: argument %d: %w", i+1, err)
		}
		c.args = append(c.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return c.args, nil
}

// release drops the references c.args holds to the last statement's arguments.
func (c *connQuerier) release() {
	clear(c.args)
	c.args = c.args[:0]
}

// ctl runs a transaction-control statement of the writer (BEGIN, SAVEPOINT, RELEASE,
// COMMIT, ROLLBACK) through the statement cache: a group commit runs two of them per call,
// and parsing them anew each time cost about 3 % of the writer's time.
func (c *connQuerier) ctl(_ context.Context, q string) (sql.Result, error) {
	st, err := c.stmt(q)
	if err != nil {
		return nil, err
	}
	st.reuse()
	return st.exec.ExecContext(bg, nil)
}

func (c *connQuerier) Exec(_ context.Context, q string, args ...any) (sql.Result, error) {
	if len(args) == 0 {
		return c.conn.(driver.ExecerContext).ExecContext(bg, q, nil)
	}
	st, err := c.stmt(q)
	if err != nil {
		return nil, err
	}
	nv, err := c.bind(args)
	if err != nil {
		return nil, err
	}
	defer c.release()
	st.reuse()
	return st.exec.ExecContext(bg, nv)
}

func (c *connQuerier) Query(_ context.Context, q string, args ...any) (sqlstore.Rows, error) {
	st, err := c.stmt(q)
	if err != nil {
		return nil, err
	}
	nv, err := c.bind(args)
	if err != nil {
		return nil, err
	}
	defer c.release()
	st.reuse()
	rows, err := st.query.QueryContext(bg, nv)
	if err != nil {
		return nil, err
	}
	st.open = &rawRows{rows: rows}
	return st.open, nil
}

func (c *connQuerier) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return errRow{err}
	}
	return rawRow{rows.(*rawRows)}
}

// close closes the prepared statements, then the connection.
func (c *connQuerier) close() error {
	var errs []error
	for q, st := range c.stmts {
		st.reuse()
		if err := st.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.conn.Close())...)
}

// rawRows is the sqlstore.Rows of a query on the writer's connection, as *sql.Rows: the
// rows close themselves after the last one (which resets the statement for its next use),
// and Err reports what ended them early.
type rawRows struct {
	rows   driver.Rows
	vals   []driver.Value
	err    error
	row    bool // vals holds a row to scan
	closed bool
}

func (r *rawRows) Next() bool {
	r.row = false
	if r.closed {
		return false
	}
	if r.vals == nil {
		r.vals = make([]driver.Value, len(r.rows.Columns()))
	}
	if err := r.rows.Next(r.vals); err != nil {
		if err != io.EOF {
			r.err = err
		}
		if cerr := r.Close(); r.err == nil {
			r.err = cerr
		}
		return false
	}
	r.row = true
	return true
}

func (r *rawRows) Scan(dest ...any) error {
	if !r.row {
		if r.closed {
			return errors.New("sqlite: Scan on closed rows")
		}
		return errors.New("sqlite: Scan called without calling Next")
	}
	if len(dest) != len(r.vals) {
		return fmt.Errorf("sqlite: expected %d destination arguments in Scan, not %d", len(r.vals), len(dest))
	}
	for i, v := range r.vals {
		if err := assign(dest[i], v); err != nil {
			return fmt.Errorf("sqlite: Scan error on column %d (%s): %w", i, r.rows.Columns()[i], err)
		}
	}
	return nil
}

func (r *rawRows) Err() error { return r.err }

func (r *rawRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed, r.row = true, false
	clear(r.vals)
	return r.rows.Close()
}

// rawRow is the sqlstore.Row of QueryRow, as *sql.Row: no row is sql.ErrNoRows.
type rawRow struct{ rows *rawRows }

func (r rawRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// driverValue converts a statement argument to a driver value as database/sql does for
// the driver (which has no converter of its own: driver.DefaultParameterConverter), with
// the types the queries pass handled without reflection.
func driverValue(a any) (driver.Value, error) {
	switch v := a.(type) {
	case nil, int64, string, []byte, bool, float64, time.Time:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint64:
		if v > math.MaxInt64 {
			return nil, fmt.Errorf("uint64 values with high bit set are not supported")
		}
		return int64(v), nil
	}
	return driver.DefaultParameterConverter.ConvertValue(a)
}

// assign stores src, a value of a column as the driver returns it (int64, float64, string,
// []byte, time.Time or nil), in dest, as database/sql's convertAssign does for the
// destinations the store's queries use: *string, *[]byte, *int64, *int and the other
// integer types, *float64, *bool, *time.Time, *any, sql.Scanner (sql.NullInt64, …),
// pointers to named string, integer and float types, and pointers to pointers (nullable).
// Any other combination, and NULL into a destination that cannot hold it, is an error;
// nothing is assigned then.
func assign(dest, src any) error {
	switch d := dest.(type) {
	case *int64:
		if s, ok := src.(int64); ok && d != nil {
			*d = s
			return nil
		}
	case *string:
		if d == nil {
			break
		}
		switch s := src.(type) {
		case string:
			*d = s
			return nil
		case []byte:
			*d = string(s)
			return nil
		case time.Time:
			*d = s.Format(time.RFC3339Nano)
			return nil
		}
		if text, ok := asText(src); ok {
			*d = text
			return nil
		}
	case *int:
		if s, ok := src.(int64); ok && d != nil && s >= math.MinInt && s <= math.MaxInt {
			*d = int(s)
			return nil
		}
	case *[]byte:
		if d == nil {
			break
		}
		switch s := src.(type) {
		case []byte:
			// The driver gives every row's blobs their own memory (modernc copies them out of
			// SQLite), so dest may keep it, as it keeps a clone with database/sql.
			*d = s
			return nil
		case string:
			*d = []byte(s)
			return nil
		case nil:
			*d = nil
			return nil
		case time.Time:
			*d = s.AppendFormat(nil, time.RFC3339Nano)
			return nil
		}
		if text, ok := asText(src); ok {
			*d = []byte(text)
			return nil
		}
	case *bool:
		if d == nil {
			break
		}
		b, err := driver.Bool.ConvertValue(src)
		if err != nil {
			return fmt.Errorf("converting driver.Value type %T (%v) to a bool: %w", src, src, err)
		}
		*d = b.(bool)
		return nil
	case *float64:
		if d == nil {
			break
		}
		switch s := src.(type) {
		case float64:
			*d = s
			return nil
		case int64:
			*d = float64(s)
			return nil
		}
	case *time.Time:
		if s, ok := src.(time.Time); ok && d != nil {
			*d = s
			return nil
		}
	case *any:
		if d != nil {
			*d = src
			return nil
		}
	case sql.Scanner:
		if v := reflect.ValueOf(d); v.Kind() != reflect.Pointer || !v.IsNil() {
			return d.Scan(src)
		}
	case nil:
		return errors.New("destination is nil")
	}
	return assignReflect(dest, src)
}

// assignReflect is assign for what its switch does not take directly: named types,
// nullable (pointer) destinations and the conversions between text and numbers that
// database/sql makes.
func assignReflect(dest, src any) error {
	dp := reflect.ValueOf(dest)
	if dp.Kind() != reflect.Pointer {
		return fmt.Errorf("destination not a pointer: %T", dest)
	}
	if dp.IsNil() {
		return fmt.Errorf("destination pointer is nil: %T", dest)
	}
	dv := dp.Elem()
	if src == nil {
		switch dv.Kind() {
		case reflect.Pointer:
			dv.SetZero()
			return nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64, reflect.String:
			return fmt.Errorf("converting NULL to %s is unsupported", dv.Kind())
		}
		return fmt.Errorf("unsupported Scan, storing NULL into type %T", dest)
	}
	sv := reflect.ValueOf(src)
	if dv.Kind() == sv.Kind() && sv.Type().ConvertibleTo(dv.Type()) {
		// A named type of the same kind (type State string from a string). A []byte is
		// copied: named byte slices are not kept by the queries, and the copy is what
		// database/sql would give.
		if b, ok := src.([]byte); ok {
			dv.Set(reflect.ValueOf(append([]byte(nil), b...)).Convert(dv.Type()))
			return nil
		}
		dv.Set(sv.Convert(dv.Type()))
		return nil
	}
	text, isText := asText(src)
	switch dv.Kind() {
	case reflect.Pointer:
		nv := reflect.New(dv.Type().Elem())
		if err := assign(nv.Interface(), src); err != nil {
			return err
		}
		dv.Set(nv)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !isText {
			break
		}
		n, err := strconv.ParseInt(text, 10, dv.Type().Bits())
		if err != nil {
			return parseError(src, text, dv.Kind(), err)
		}
		dv.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !isText {
			break
		}
		n, err := strconv.ParseUint(text, 10, dv.Type().Bits())
		if err != nil {
			return parseError(src, text, dv.Kind(), err)
		}
		dv.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		if !isText {
			break
		}
		f, err := strconv.ParseFloat(text, dv.Type().Bits())
		if err != nil {
			return parseError(src, text, dv.Kind(), err)
		}
		dv.SetFloat(f)
		return nil
	case reflect.String:
		switch s := src.(type) {
		case string:
			dv.SetString(s)
			return nil
		case []byte:
			dv.SetString(string(s))
			return nil
		}
	}
	return fmt.Errorf("unsupported Scan, storing driver.Value type %T into type %T", src, dest)
}

// parseError is assign's error for a text value that does not parse as the number kind
// wants, worded as database/sql's.
func parseError(src any, text string, kind reflect.Kind, err error) error {
	return fmt.Errorf("converting driver.Value type %T (%q) to a %s: %w", src, text, kind, err)
}

// asText returns the text of a column value for parsing it as a number: a string, a blob
// or a number (database/sql's asString); a time is not.
func asText(src any) (string, bool) {
	switch s := src.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	case int64:
		return strconv.FormatInt(s, 10), true
	case float64:
		return strconv.FormatFloat(s, 'g', -1, 64), true
	}
	return "", false
}

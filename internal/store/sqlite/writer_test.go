package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
)

type (
	namedString string
	namedInt    int64
	namedUint   uint16
)

// openWriterT opens a writer connection and, on the same database file, a database/sql
// handle to compare it with.
func openWriterT(t *testing.T) (*connQuerier, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.db")
	w, err := openWriter(dsn(path, DurabilityProcess))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.close(); err != nil {
			t.Errorf("close writer: %v", err)
		}
	})
	db, err := sql.Open("sqlite", dsn(path, DurabilityProcess))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return w, db
}

// The writer's Scan follows database/sql's rules: every column value the driver returns,
// scanned into every destination type, succeeds or fails as database/sql's does, with the
// same result.
func TestWriterScanMatchesDatabaseSQL(t *testing.T) {
	w, db := openWriterT(t)
	ctx := context.Background()
	s := "s"
	sources := []any{
		int64(0), int64(1), int64(2), int64(-5), int64(300), int64(1) << 40, int64(math.MaxInt64),
		1.5, 3.0, -0.25, 1e20,
		"", "12", "-7", "abc", "true", "0", "2.5",
		[]byte("7"), []byte("blob"), []byte{0xff, 0},
		nil,
		namedString("named"), namedInt(42), &s, (*string)(nil), true, false, uint64(math.MaxInt64),
	}
	dests := []func() any{
		func() any { return new(string) },
		func() any { return new(int64) },
		func() any { return new(int) },
		func() any { return new(int32) },
		func() any { return new(int8) },
		func() any { return new(uint8) },
		func() any { return new(uint64) },
		func() any { return new(bool) },
		func() any { return new(float64) },
		func() any { return new(float32) },
		func() any { return new([]byte) },
		func() any { return new(any) },
		func() any { return new(time.Time) },
		func() any { return new(sql.NullInt64) },
		func() any { return new(sql.NullString) },
		func() any { return new(sql.NullBool) },
		func() any { return new(sql.NullFloat64) },
		func() any { return new(*string) },
		func() any { return new(*int64) },
		func() any { return new(namedString) },
		func() any { return new(namedInt) },
		func() any { return new(namedUint) },
		func() any { return new(json.RawMessage) },
		func() any { return new(struct{ A int }) },
		func() any { return new(map[string]int) },
		func() any { return new(fmt.Stringer) },
	}
	for _, src := range sources {
		for _, mk := range dests {
			want, got := mk(), mk()
			name := fmt.Sprintf("%T(%v) into %T", src, src, want)
			errWant := db.QueryRowContext(ctx, "SELECT ?", src).Scan(want)
			errGot := w.QueryRow(ctx, "SELECT ?", src).Scan(got)
			if (errWant == nil) != (errGot == nil) {
				t.Errorf("%s: error %v, database/sql: %v", name, errGot, errWant)
				continue
			}
			if errWant != nil {
				continue
			}
			if g, e := reflect.ValueOf(got).Elem().Interface(), reflect.ValueOf(want).Elem().Interface(); !reflect.DeepEqual(g, e) {
				t.Errorf("%s: %#v, database/sql: %#v", name, g, e)
			}
		}
	}
}

// A failed assignment leaves the destination as it was, and says what failed.
func TestWriterScanErrors(t *testing.T) {
	cases := []struct {
		dest func() any
		src  any
		want string
	}{
		{func() any { return new(int64) }, nil, "converting NULL to int64 is unsupported"},
		{func() any { return new(int) }, nil, "converting NULL to int is unsupported"},
		{func() any { return new(string) }, nil, "converting NULL to string is unsupported"},
		{func() any { return new(namedString) }, nil, "converting NULL to string is unsupported"},
		{func() any { return new(bool) }, nil, "to a bool"},
		{func() any { return new(bool) }, int64(2), "to a bool"},
		{func() any { return new(int64) }, "abc", `converting driver.Value type string ("abc") to a int64`},
		{func() any { return new(int) }, 1.5, "to a int"},
		{func() any { return new(int32) }, int64(1) << 40, "to a int32"},
		{func() any { return new(uint8) }, int64(-1), "to a uint8"},
		{func() any { return new(time.Time) }, int64(1), "unsupported Scan, storing driver.Value type int64 into type *time.Time"},
		{func() any { return new(namedString) }, int64(1), "unsupported Scan"},
		{func() any { return new(json.RawMessage) }, nil, "unsupported Scan, storing NULL into type *json.RawMessage"},
		{func() any { return new(struct{ A int }) }, int64(1), "unsupported Scan"},
		{func() any { return (*int64)(nil) }, int64(1), "destination pointer is nil"},
		{func() any { return (*string)(nil) }, "x", "destination pointer is nil"},
		{func() any { return (*[]byte)(nil) }, []byte("x"), "destination pointer is nil"},
		{func() any { return (*sql.NullInt64)(nil) }, int64(1), "destination pointer is nil"},
		{func() any { return int64(0) }, int64(1), "destination not a pointer"},
		{func() any { return nil }, int64(1), "destination is nil"},
	}
	for _, c := range cases {
		dest := c.dest()
		before := fmt.Sprintf("%#v", dest)
		if p := reflect.ValueOf(dest); p.Kind() == reflect.Pointer && !p.IsNil() {
			before = fmt.Sprintf("%#v", p.Elem().Interface())
		}
		err := assign(dest, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("assign(%T, %#v) = %v, want an error with %q", dest, c.src, err, c.want)
			continue
		}
		after := fmt.Sprintf("%#v", dest)
		if p := reflect.ValueOf(dest); p.Kind() == reflect.Pointer && !p.IsNil() {
			after = fmt.Sprintf("%#v", p.Elem().Interface())
		}
		if after != before {
			t.Errorf("assign(%T, %#v) failed but changed the destination from %s to %s", dest, c.src, before, after)
		}
	}
}

func TestWriterArgs(t *testing.T) {
	s := "p"
	now := time.UnixMilli(1700000000123)
	cases := []struct {
		in   any
		want any
	}{
		{nil, nil},
		{int64(-3), int64(-3)},
		{7, int64(7)},
		{int32(8), int64(8)},
		{uint32(9), int64(9)},
		{uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"x", "x"},
		{[]byte("b"), []byte("b")},
		{[]byte(nil), []byte(nil)},
		{true, true},
		{2.5, 2.5},
		{now, now},
		{float32(0.5), float64(0.5)},
		{int8(-1), int64(-1)},
		{uint16(3), int64(3)},
		{namedString("n"), "n"},
		{namedInt(4), int64(4)},
		{&s, "p"},
		{(*string)(nil), nil},
		{sql.NullInt64{}, nil},
		{sql.NullInt64{Int64: 5, Valid: true}, int64(5)},
		{sql.NullString{String: "v", Valid: true}, "v"},
	}
	for _, c := range cases {
		got, err := driverValue(c.in)
		if err != nil {
			t.Errorf("driverValue(%T %#v): %v", c.in, c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("driverValue(%T %#v) = %T %#v, want %T %#v", c.in, c.in, got, got, c.want, c.want)
		}
	}
	for _, bad := range []any{uint64(math.MaxUint64), struct{}{}, []int{1}, map[string]int{}, sql.Named("a", 1)} {
		if v, err := driverValue(bad); err == nil {
			t.Errorf("driverValue(%T %#v) = %#v, want an error", bad, bad, v)
		}
	}
}

// The writer's statements, rows and rows' end behave as database/sql's do.
func TestWriterStatements(t *testing.T) {
	w, _ := openWriterT(t)
	ctx := context.Background()
	if _, err := w.Exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, n INTEGER, b BLOB)`); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		var b []byte
		if i%2 == 0 {
			b = []byte{byte(i)}
		}
		res, err := w.Exec(ctx, `INSERT INTO t (s, n, b) VALUES (?, ?, ?)`, namedString(fmt.Sprint("s", i)), i, b)
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := res.LastInsertId(); id != int64(i+1) {
			t.Errorf("LastInsertId = %d, want %d", id, i+1)
		}
	}
	res, err := w.Exec(ctx, `UPDATE t SET n = n + 10 WHERE n >= ?`, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("RowsAffected = %d, want 2", n)
	}

	rows, err := w.Query(ctx, `SELECT s, n, b FROM t WHERE id > ?1 ORDER BY id`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := rows.Scan(new(string), new(int), new([]byte)); err == nil {
		t.Error("Scan before Next succeeded")
	}
	var got []string
	for rows.Next() {
		var s namedString
		var n int
		var b *[]byte
		if err := rows.Scan(&s, &n); err == nil || !strings.Contains(err.Error(), "expected 3 destination arguments") {
			t.Errorf("Scan of 2 of 3 columns = %v", err)
		}
		if err := rows.Scan(&s, &n, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%d/%v", s, n, b != nil))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "s0/0/true s1/1/false s2/2/true s3/13/false s4/14/true"; strings.Join(got, " ") != want {
		t.Errorf("rows = %q, want %q", strings.Join(got, " "), want)
	}
	if rows.Next() {
		t.Error("Next after the end")
	}
	if err := rows.Scan(new(string), new(int), new([]byte)); err == nil {
		t.Error("Scan after the end succeeded")
	}
	if err := rows.Close(); err != nil {
		t.Errorf("Close after the end: %v", err)
	}

	// Rows closed early reset their statement for its next use.
	rows, err = w.Query(ctx, `SELECT s, n, b FROM t WHERE id > ?1 ORDER BY id`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
	rows.Close()
	var n int64
	if err := w.QueryRow(ctx, `SELECT COUNT(*) FROM t WHERE n > ?`, 1).Scan(&n); err != nil || n != 3 {
		t.Errorf("count = %d, %v; want 3", n, err)
	}
	var s string
	if err := w.QueryRow(ctx, `SELECT s FROM t WHERE id > ?1 ORDER BY id`, 4).Scan(&s); err != nil || s != "s4" {
		t.Errorf("the statement after early Close: %q, %v; want s4", s, err)
	}

	// No row is sql.ErrNoRows; a statement that does not prepare is its error.
	if err := w.QueryRow(ctx, `SELECT s FROM t WHERE id = ?`, 99).Scan(&s); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("no row: %v, want sql.ErrNoRows", err)
	}
	if err := w.QueryRow(ctx, `SELECT nope FROM t WHERE id = ?`, 1).Scan(&s); err == nil || errors.Is(err, sql.ErrNoRows) {
		t.Errorf("bad column: %v, want the driver's error", err)
	}
	if _, err := w.Exec(ctx, `INSERT INTO t (s) VALUES (?)`, struct{}{}); err == nil || !strings.Contains(err.Error(), "argument 1") {
		t.Errorf("unsupported argument: %v", err)
	}
	if _, err := w.Query(ctx, `SELECT ?`, uint64(math.MaxUint64)); err == nil {
		t.Error("uint64 with the high bit set was accepted")
	}
	var sn sql.NullString
	if err := w.QueryRow(ctx, `SELECT b FROM t WHERE id = ?`, 2).Scan(&sn); err != nil || sn.Valid {
		t.Errorf("NULL into sql.NullString: %#v, %v", sn, err)
	}

	// Transaction control.
	for _, q := range []string{"BEGIN IMMEDIATE", "SAVEPOINT b"} {
		if _, err := w.ctl(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := w.Exec(ctx, `DELETE FROM t WHERE id = ?`, 1); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"ROLLBACK TO b", "RELEASE b", "COMMIT"} {
		if _, err := w.ctl(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := w.QueryRow(ctx, `SELECT COUNT(*) FROM t WHERE id >= ?`, 0).Scan(&n); err != nil || n != 5 {
		t.Errorf("after the rolled-back delete: %d rows, %v; want 5", n, err)
	}
	if _, err := w.ctl(ctx, "COMMIT"); err == nil {
		t.Error("COMMIT without a transaction succeeded")
	}
	if len(w.stmts) == 0 {
		t.Error("no statement was cached")
	}

	// Rows left open (a Tx fn that panicked) are closed when their statement runs again;
	// a caller still reading them sees an error, not a silent end.
	const q = `SELECT id FROM t WHERE id > ? ORDER BY id`
	left, err := w.Query(ctx, q, 0)
	if err != nil || !left.Next() {
		t.Fatal("no rows", err)
	}
	if _, err := w.ctl(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ctl(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := w.QueryRow(ctx, q, 3).Scan(&id); err != nil || id != 4 {
		t.Errorf("the statement after rows were left open: %d, %v; want 4", id, err)
	}
	if left.Next() {
		t.Error("Next on rows whose statement ran again")
	}
	if err := left.Err(); !errors.Is(err, errReused) {
		t.Errorf("Err of rows whose statement ran again = %v, want errReused", err)
	}
	if err := left.Close(); err != nil {
		t.Errorf("Close of rows whose statement ran again: %v", err)
	}
}

// A Tx fn that panics with rows open leaves the writer usable: the next call running the
// same statement gets fresh rows.
func TestWriterAfterPanicWithOpenRows(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	ctx := context.Background()
	const q = `SELECT key FROM meta WHERE key > ? ORDER BY key`
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		s.Tx(ctx, func(tx store.Tx) error {
			rows, err := tx.(*sqlstore.Tx).Querier().Query(ctx, q, "")
			if err != nil || !rows.Next() {
				t.Error("no rows", err)
			}
			panic("with rows open")
		})
	}()
	err := s.Tx(ctx, func(tx store.Tx) error {
		var key string
		return tx.(*sqlstore.Tx).Querier().QueryRow(ctx, q, "").Scan(&key)
	})
	if err != nil {
		t.Fatalf("the statement after a panic with its rows open: %v", err)
	}
}

// lazyTx makes one Tx call, marked lazy when lazy is set, that imports account user.
func lazyTx(s *Store, lazy bool, user string) error {
	ctx := context.Background()
	if lazy {
		ctx = store.WithLazyCommit(ctx)
	}
	return s.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.AccountUpsert(ctx, store.Account{App: 1, UserID: user})
		return err
	})
}

// A lazy call (store.WithLazyCommit) made while eager calls are coming waits for the next
// one and shares its commit; one made when none came before commits at once, however long
// it could wait; Close does not wait for company either.
func TestLazyCallsShareTheNextCommit(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	s.lazyWait = time.Hour // only company, or its absence, ends a wait in this test
	s.companyCalls = 1     // one eager call in a group makes company (the test cannot queue several)

	// No eager call yet: a lazy one commits alone, at once.
	if err := lazyTx(s, true, "alone"); err != nil {
		t.Fatal(err)
	}
	if err := lazyTx(s, false, "eager-1"); err != nil { // company from now on
		t.Fatal(err)
	}
	b0, c0 := s.GroupStats()
	lazyDone := make(chan error, 1)
	go func() { lazyDone <- lazyTx(s, true, "lazy") }()
	select {
	case err := <-lazyDone:
		t.Fatalf("a lazy call after an eager one committed alone (err %v)", err)
	case <-time.After(100 * time.Millisecond): // it waits for company
	}
	if err := lazyTx(s, false, "eager-2"); err != nil {
		t.Fatal(err)
	}
	if err := <-lazyDone; err != nil {
		t.Fatal(err)
	}
	if b, c := s.GroupStats(); b-b0 != 1 || c-c0 != 2 {
		t.Errorf("the lazy and the eager call took %d commits carrying %d calls, want 1 carrying 2", b-b0, c-c0)
	}
	for _, k := range []string{"alone", "eager-1", "lazy", "eager-2"} {
		if _, err := s.AccountGet(context.Background(), 1, k); err != nil {
			t.Errorf("account %s: %v", k, err)
		}
	}

	// The last group had an eager call: the next lazy one waits, and Close commits it.
	go func() { lazyDone <- lazyTx(s, true, "at-close") }()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-lazyDone:
		if err != nil {
			t.Fatalf("lazy call at Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a lazy call's wait")
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// With fewer eager calls in the last group than make company (a moderate rate), a lazy call
// commits at once: a wait would mostly end on its timer.
func TestLazyCallAfterAFewEagerOnesCommitsAtOnce(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	s.lazyWait = time.Hour
	s.companyCalls = 2
	if err := lazyTx(s, false, "eager"); err != nil { // a group of one eager call
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- lazyTx(s, true, "lazy") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lazy call waited for company after a group of one eager call")
	}
}

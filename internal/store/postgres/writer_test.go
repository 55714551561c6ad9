package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// A statement that fails when the pipelined writer sends it had already told its caller
// that it succeeded: its group must not commit, the group runs again unpipelined, where the
// statement's error reaches its call, and the other calls of the group commit. A call that
// fails on its own (nothing failed at a send) runs once, and its error stands.
func TestWriterPipelinedFailure(t *testing.T) {
	s, err := Open(t.Context(), Options{DSN: testkit.PostgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exec := func(tx store.Tx, q string, args ...any) error {
		_, err := tx.(*pgTx).Querier().Exec(ctx, q, args...)
		return err
	}
	has := func(key string) bool {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT COUNT(*) FROM meta WHERE key = $1", key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	// One call: the second insert of a key fails at the send (the commit).
	runs := 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := exec(tx, "INSERT INTO meta (key, value) VALUES ('p1', 'x')"); err != nil {
			return err
		}
		return exec(tx, "INSERT INTO meta (key, value) VALUES ('p1', 'y')")
	})
	if !isUniqueViolation(err) || runs != 2 {
		t.Fatalf("Tx = %v after %d runs; want a unique violation after 2 (pipelined, then not)", err, runs)
	}
	if has("p1") {
		t.Fatal("the failing call's first insert committed")
	}

	// One call that fails on its own after a read: it runs once.
	runs = 0
	mine := errors.New("mine")
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := exec(tx, "INSERT INTO meta (key, value) VALUES ('p2', 'x')"); err != nil {
			return err
		}
		if _, err := tx.AccountGet(ctx, 1, "nobody"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("AccountGet: %v", err)
		}
		return mine
	})
	if err != mine || runs != 1 || has("p2") {
		t.Fatalf("Tx = %v after %d runs (p2 committed: %v); want mine after 1, nothing committed", err, runs, has("p2"))
	}

	// Many calls at once, some of them grouped with a failing one.
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx store.Tx) error {
				if err := exec(tx, "INSERT INTO meta (key, value) VALUES ($1, 'x')", fmt.Sprintf("g%d", i)); err != nil {
					return err
				}
				if i%10 == 3 {
					// Fails at the send, after the caller was told it succeeded.
					return exec(tx, "INSERT INTO meta (key, value) VALUES ($1, 'y')", fmt.Sprintf("g%d", i))
				}
				_, err := tx.AccountGet(ctx, 1, "nobody")
				if errors.Is(err, store.ErrNotFound) {
					err = nil
				}
				return err
			})
			if (i%10 == 3) != isUniqueViolation(err) {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range 40 {
		if want := i%10 != 3; has(fmt.Sprintf("g%d", i)) != want {
			t.Errorf("g%d committed: %v, want %v", i, !want, want)
		}
	}

	// A unique violation of a guarded insert (ErrConflict) leaves the transaction usable,
	// pipelined, in a call that goes on.
	f := store.Follow{App: 1, From: "a", To: "b"}
	runs = 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := tx.FollowInsert(ctx, f); err != nil {
			return err
		}
		if err := tx.FollowInsert(ctx, f); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("second FollowInsert: %v", err)
		}
		return exec(tx, "INSERT INTO meta (key, value) VALUES ('p3', 'x')")
	})
	if err != nil || runs != 1 || !has("p3") {
		t.Fatalf("Tx = %v after %d runs, p3 committed: %v; want nil after 1, committed", err, runs, has("p3"))
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// A statement that fails when the pipelined writer sends it had already told its caller
// that it succeeded: its group must not commit, the group runs again unpipelined, where the
// statement's error reaches its call, and the other calls of the group commit. A call that
// fails on its own (nothing failed at a send) runs once, and its error stands.
func TestWriterPipelinedFailure(t *testing.T) {
	s, exec, has := openWriterTest(t)
	ctx := context.Background()
	var err error

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

// The statements the pipelined writer queues without a round trip because they fail
// only rarely (Dialect.ExecOne and Dialect.ExecGuardedRarely) tell their caller of the
// failure as the unpipelined writer would: the group runs again, unpipelined, and the
// call sees ErrNotFound or ErrConflict; nothing of the failing run commits.
func TestWriterPipelinedRareFailures(t *testing.T) {
	s, exec, has := openWriterTest(t)
	ctx := context.Background()
	var err error
	now := time.Now()
	ev := store.Event{App: 1, RoomID: "r1", Command: "C", Body: []byte(`{}`), ClientIP: "127.0.0.1", Platform: "RESTAPI",
		CreatedAt: now, State: store.EventPending, NextAttemptAt: now}
	if err := s.Tx(ctx, func(tx store.Tx) error { return tx.EventInsert(ctx, &ev) }); err != nil {
		t.Fatal(err)
	}
	record := func(id int64) []store.AttemptRecord {
		return []store.AttemptRecord{{Attempt: store.Attempt{EventID: id, N: 1, StartedAt: now, URL: "http://127.0.0.1:9/cb", StatusCode: 200},
			Next: store.EventUpdate{State: store.EventDelivered, DeliveredAt: now}}}
	}

	// A record of a missing event: queued, it fails at the commit; run again, the call
	// sees ErrNotFound and ends on its own terms (here: it writes p4 and returns nil).
	runs := 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := exec(tx, "INSERT INTO meta (key, value) VALUES ('p4', 'x')"); err != nil {
			return err
		}
		if err := tx.EventRecordAttempts(ctx, record(ev.ID+1000)); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("EventRecordAttempts of a missing event: %v", err)
		}
		return nil
	})
	if err != nil || runs != 2 || !has("p4") {
		t.Fatalf("Tx = %v after %d runs (p4 committed: %v); want nil after 2 (pipelined, then not), committed", err, runs, has("p4"))
	}
	if atts, err := s.AttemptList(ctx, ev.ID+1000); err != nil || len(atts) != 0 {
		t.Fatalf("attempts of the missing event = %+v, %v; want none", atts, err)
	}

	// A record of an event that exists, grouped with many others: one run, committed.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx store.Tx) error {
				if i == 7 {
					return tx.EventRecordAttempts(ctx, record(ev.ID))
				}
				if i%5 == 2 {
					// A missing event in the same group: this call's error only.
					if err := tx.EventRecordAttempts(ctx, record(ev.ID+2000+int64(i))); !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("missing event: %v", err)
					}
				}
				return exec(tx, "INSERT INTO meta (key, value) VALUES ($1, 'x')", fmt.Sprintf("h%d", i))
			})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		if want := i != 7; has(fmt.Sprintf("h%d", i)) != want {
			t.Errorf("h%d committed: %v, want %v", i, !want, want)
		}
	}
	if got, err := s.EventGet(ctx, ev.ID); err != nil || got.State != store.EventDelivered {
		t.Fatalf("event = %+v, %v; want delivered", got, err)
	}

	// A user put on a second seat: queued, the violation fails the commit; run again, the
	// call sees ErrConflict and the transaction stays usable.
	runs = 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := tx.SeatPut(ctx, store.Seat{App: 1, RoomID: "r1", Index: 0, UserID: "u"}); err != nil {
			return err
		}
		if err := tx.SeatPut(ctx, store.Seat{App: 1, RoomID: "r1", Index: 1, UserID: "u"}); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("second SeatPut: %v", err)
		}
		return exec(tx, "INSERT INTO meta (key, value) VALUES ('p5', 'x')")
	})
	if err != nil || runs != 2 || !has("p5") {
		t.Fatalf("Tx = %v after %d runs (p5 committed: %v); want nil after 2, committed", err, runs, has("p5"))
	}
	seats, err := s.SeatList(ctx, 1, "r1")
	if err != nil || len(seats) != 1 || seats[0].Index != 0 || seats[0].UserID != "u" {
		t.Fatalf("seats = %+v, %v; want u on seat 0 only", seats, err)
	}
}

// openWriterTest opens a store on a schema of its own, closed when the test ends, with two
// helpers: exec runs a statement on a Tx's writer, has reports whether meta holds key.
func openWriterTest(t *testing.T) (s *Store, exec func(tx store.Tx, q string, args ...any) error, has func(key string) bool) {
	t.Helper()
	s, err := Open(t.Context(), Options{DSN: testkit.PostgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	exec = func(tx store.Tx, q string, args ...any) error {
		_, err := tx.(*pgTx).Querier().Exec(context.Background(), q, args...)
		return err
	}
	has = func(key string) bool {
		var n int
		if err := s.pool.QueryRow(context.Background(), "SELECT COUNT(*) FROM meta WHERE key = $1", key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	return s, exec, has
}

// TestWriterTakesIDBlocksTogether: a group queues, with its BEGIN, a block of ids of each
// sequence the previous transaction took ids of (so the block comes back with its first
// round trip), and a block taken later takes the others along; a sequence the previous
// transaction did not use is not taken. The ids handed out stay unique and increasing.
func TestWriterTakesIDBlocksTogether(t *testing.T) {
	s, _, _ := openWriterTest(t)
	ctx := context.Background()
	now := time.Now()
	var eventIDs, broadcastIDs []int64
	change := func(withBroadcast bool) (broadcastIDsTaken, prefetched bool) {
		t.Helper()
		if err := s.Tx(ctx, func(tx store.Tx) error {
			prefetched = tx.(*pgTx).Querier().(*writer).prefetch != nil
			ev := store.Event{App: 1, RoomID: "r1", Command: "C", Body: []byte(`{}`), CreatedAt: now, State: store.EventPending, NextAttemptAt: now}
			if err := tx.EventInsert(ctx, &ev); err != nil {
				return err
			}
			eventIDs = append(eventIDs, ev.ID)
			broadcastIDsTaken = len(tx.(*pgTx).Querier().(*writer).ids[broadcastsSeq]) > 0
			if !withBroadcast {
				return nil
			}
			b := store.Broadcast{App: 1, RoomID: "r1", Origin: "n1", Kind: "K", Body: []byte(`{}`)}
			if err := tx.(store.ClusterTx).BroadcastInsert(ctx, &b); err != nil {
				return err
			}
			broadcastIDs = append(broadcastIDs, b.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return broadcastIDsTaken, prefetched
	}
	for i, c := range []struct{ broadcast, wantTakenAlong, wantPrefetched bool }{
		{true, false, false}, // nothing before: each block is taken when needed
		{true, true, true},
		{true, true, true},
		{false, true, true}, // the previous one broadcast
		{false, false, true},
		{true, false, true},
	} {
		taken, prefetched := change(c.broadcast)
		if taken != c.wantTakenAlong || prefetched != c.wantPrefetched {
			t.Errorf("transaction %d: broadcast ids taken with the event ids: %v, want %v; ids queued with BEGIN: %v, want %v",
				i, taken, c.wantTakenAlong, prefetched, c.wantPrefetched)
		}
	}
	for _, ids := range [][]int64{eventIDs, broadcastIDs} {
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("ids %v are not unique and increasing", ids)
		}
	}
}

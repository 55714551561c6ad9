package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// errBoom is the error the suite's failing transactions return.
var errBoom = errors.New("storetest: boom")

// snapshot is what the suite can read of a store's state, for before/after comparisons.
type snapshot struct {
	accounts, rooms int
	alice           store.Account
	room            store.Room
	config          store.CallbackConfig
	events          []store.Event
	attempts        []store.Attempt
	stats           store.EventStats
}

// takeSnapshot reads sn through r. It may run inside fn, so it returns its error.
func takeSnapshot(c context.Context, r store.Reader, eventID int64) (sn snapshot, err error) {
	must := func(what string, e error) {
		if e != nil && err == nil {
			err = fmt.Errorf("snapshot: %s: %w", what, e)
		}
	}
	var e error
	sn.accounts, e = r.AccountCount(c, app)
	must("AccountCount", e)
	sn.rooms, e = r.RoomCount(c, app)
	must("RoomCount", e)
	sn.alice, e = r.AccountGet(c, app, "alice")
	must("AccountGet", e)
	sn.room, e = r.RoomGet(c, app, "live-1")
	must("RoomGet", e)
	sn.config, e = r.CallbackConfigGet(c, app)
	must("CallbackConfigGet", e)
	sn.events, e = r.EventList(c, store.EventQuery{App: app, Limit: 1000})
	must("EventList", e)
	sn.attempts, e = r.AttemptList(c, eventID)
	must("AttemptList", e)
	sn.stats, e = r.EventStats(c)
	must("EventStats", e)
	return sn, err
}

// mustSnapshot is takeSnapshot through the Store, failing t on error.
func mustSnapshot(t *testing.T, s store.Store, eventID int64) snapshot {
	t.Helper()
	sn, err := takeSnapshot(ctx(t), s, eventID)
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func (a snapshot) diff(b snapshot) string {
	norm := func(s snapshot) string {
		s.alice = normAccount(s.alice)
		s.room = normRoom(s.room)
		s.config = normConfig(s.config)
		for i := range s.events {
			s.events[i] = normEvent(s.events[i])
		}
		for i := range s.attempts {
			s.attempts[i] = normAttempt(s.attempts[i])
		}
		s.stats.OldestUndelivered = utc(s.stats.OldestUndelivered)
		return fmt.Sprintf("%+v", s)
	}
	if x, y := norm(a), norm(b); x != y {
		return fmt.Sprintf("\n before %s\n after  %s", x, y)
	}
	return ""
}

// seed stores one of everything and returns the event's id.
func seed(t *testing.T, s store.Store) int64 {
	t.Helper()
	ev := newEvent(app, "live-1", "Live.CallbackAfterCreateRoom", at(0))
	mustTx(t, s, func(tx store.Tx) error {
		if _, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "alice", Nick: "A", CreatedAt: at(0)}); err != nil {
			return err
		}
		if _, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "bob", CreatedAt: at(0)}); err != nil {
			return err
		}
		if err := tx.RoomInsert(ctx(t), newRoom(app, "live-1", "alice", at(0), 1, true)); err != nil {
			return err
		}
		if err := tx.RoomInsert(ctx(t), newRoom(app, "live-2", "bob", at(0), 1, true)); err != nil {
			return err
		}
		if err := tx.CallbackConfigPut(ctx(t), store.CallbackConfig{App: app, URL: "https://a", Commands: []string{"A"}, UpdatedAt: at(0)}); err != nil {
			return err
		}
		return tx.EventInsert(ctx(t), &ev)
	})
	return ev.ID
}

// writeEverything calls every write method of tx once, successfully.
func writeEverything(c context.Context, tx store.Tx, eventID int64) error {
	if _, err := tx.AccountUpsert(c, store.Account{App: app, UserID: "alice", Nick: "changed", CreatedAt: at(5)}); err != nil {
		return err
	}
	if _, err := tx.AccountUpsert(c, store.Account{App: app, UserID: "carol", CreatedAt: at(5)}); err != nil {
		return err
	}
	if err := tx.AccountDelete(c, app, "bob"); err != nil {
		return err
	}
	if err := tx.RoomInsert(c, newRoom(app, "live-3", "carol", at(5), 0, true)); err != nil {
		return err
	}
	if err := tx.RoomSetOwner(c, app, "live-1", "carol"); err != nil {
		return err
	}
	if err := tx.RoomUpdate(c, newRoom(app, "live-1", "carol", at(6), 99, false)); err != nil {
		return err
	}
	if err := tx.RoomDelete(c, app, "live-2"); err != nil {
		return err
	}
	if err := tx.CallbackConfigPut(c, store.CallbackConfig{App: app, URL: "https://b", UpdatedAt: at(5)}); err != nil {
		return err
	}
	ev := newEvent(app, "live-3", "Live.CallbackAfterCreateRoom", at(5))
	if err := tx.EventInsert(c, &ev); err != nil {
		return err
	}
	return tx.EventRecordAttempt(c, store.Attempt{EventID: eventID, N: 1, StartedAt: at(5), URL: "https://a", StatusCode: 200},
		store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(5)})
}

func testTx(t *testing.T, h *Harness) {
	t.Run("FnErrorRollsBack", func(t *testing.T) {
		s := h.Fresh(t)
		evID := seed(t, s)
		before := mustSnapshot(t, s, evID)
		fnErr := fmt.Errorf("wrapped: %w", errBoom)
		hookRan := false
		err := s.Tx(ctx(t), func(tx store.Tx) error {
			tx.AfterCommit(func() { hookRan = true })
			if err := writeEverything(ctx(t), tx, evID); err != nil {
				return fmt.Errorf("writeEverything: %w", err)
			}
			return fnErr
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Tx = %v, want fn's error %v", err, fnErr)
		}
		if hookRan {
			t.Error("an AfterCommit hook ran although fn failed")
		}
		if d := before.diff(mustSnapshot(t, s, evID)); d != "" {
			t.Errorf("a failed Tx changed the store:%s", d)
		}
	})

	t.Run("FnSuccessCommitsAll", func(t *testing.T) {
		s := h.Fresh(t)
		evID := seed(t, s)
		before := mustSnapshot(t, s, evID)
		var inside snapshot
		mustTx(t, s, func(tx store.Tx) error {
			if err := writeEverything(ctx(t), tx, evID); err != nil {
				return err
			}
			var err error
			inside, err = takeSnapshot(ctx(t), tx, evID)
			return err
		})
		after := mustSnapshot(t, s, evID)
		if before.diff(after) == "" {
			t.Fatal("a successful Tx changed nothing")
		}
		// Reads inside the transaction saw exactly what was committed.
		if d := inside.diff(after); d != "" {
			t.Errorf("the transaction's own reads differ from the committed state:%s", d)
		}
		if after.accounts != 2 || after.rooms != 2 || after.alice.Nick != "changed" || after.room.Owner != "carol" ||
			after.room.ViewCount != 99 || after.config.URL != "https://b" || len(after.events) != 2 || len(after.attempts) != 1 ||
			after.stats.Delivered != 1 || after.stats.Pending != 1 {
			t.Errorf("committed state = %+v", after)
		}
	})

	t.Run("SeesOwnWrites", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			c := ctx(t)
			if _, err := tx.RoomGet(c, app, "r"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("RoomGet before insert = %v", err)
			}
			if err := tx.RoomInsert(c, newRoom(app, "r", "alice", at(0), 0, true)); err != nil {
				return err
			}
			if r, err := tx.RoomGet(c, app, "r"); err != nil || r.Owner != "alice" {
				return fmt.Errorf("RoomGet after insert = %+v, %v", r, err)
			}
			if _, err := tx.RoomOwnerInfo(c, app, "nope"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("RoomOwnerInfo of a missing room = %v", err)
			}
			if full, err := tx.RoomGet(c, app, "r"); err != nil {
				return err
			} else if r, err := tx.RoomOwnerInfo(c, app, "r"); err != nil || r.App != app || r.RoomID != "r" || r.Owner != "alice" || string(r.Info) != string(full.Info) {
				return fmt.Errorf("RoomOwnerInfo after insert = %+v, %v", r, err)
			}
			if err := tx.RoomSetOwner(c, app, "r", "bob"); err != nil {
				return err
			}
			if rs, err := tx.RoomList(c, store.RoomListParams{App: app, Limit: 10}); err != nil || len(rs) != 1 || rs[0].Owner != "bob" {
				return fmt.Errorf("RoomList after RoomSetOwner = %+v, %v", rs, err)
			}
			ev := newEvent(app, "r", "C", at(0))
			if err := tx.EventInsert(c, &ev); err != nil {
				return err
			}
			if e, err := tx.EventGet(c, ev.ID); err != nil || e.RoomID != "r" {
				return fmt.Errorf("EventGet after insert = %+v, %v", e, err)
			}
			if evs, err := tx.EventListUndelivered(c, store.EventListParams{Limit: 10}); err != nil || len(evs) != 1 {
				return fmt.Errorf("EventListUndelivered after insert = %+v, %v", evs, err)
			}
			if err := tx.CallbackConfigPut(c, store.CallbackConfig{App: app, URL: "https://x", UpdatedAt: at(0)}); err != nil {
				return err
			}
			if cs, err := tx.CallbackConfigList(c); err != nil || len(cs) != 1 || cs[0].URL != "https://x" {
				return fmt.Errorf("CallbackConfigList after put = %+v, %v", cs, err)
			}
			if err := tx.RoomDelete(c, app, "r"); err != nil {
				return err
			}
			if n, err := tx.RoomCount(c, app); err != nil || n != 0 {
				return fmt.Errorf("RoomCount after delete = %d, %v", n, err)
			}
			return nil
		})
	})

	t.Run("UncommittedInvisibleOutside", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.RoomInsert(ctx(t), newRoom(app, "r", "alice", at(0), 0, true)); err != nil {
				return err
			}
			ev := newEvent(app, "r", "C", at(0))
			if err := tx.EventInsert(ctx(t), &ev); err != nil {
				return err
			}
			// Reads through the Store, not the Tx, see the last committed state.
			if _, err := s.RoomGet(ctx(t), app, "r"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("Store.RoomGet of an uncommitted room = %v, want ErrNotFound", err)
			}
			if _, err := s.EventGet(ctx(t), ev.ID); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("Store.EventGet of an uncommitted event = %v, want ErrNotFound", err)
			}
			return nil
		})
	})

	t.Run("ReadsAfterCommitSeeWrites", func(t *testing.T) {
		// Every read after Tx returns sees the commit, whatever connection it runs on.
		s := h.Fresh(t)
		insertRooms(t, s, newRoom(app, "r", "u0", at(0), 0, true))
		for i := 1; i <= 50; i++ {
			owner := fmt.Sprintf("u%d", i)
			mustTx(t, s, func(tx store.Tx) error { return tx.RoomSetOwner(ctx(t), app, "r", owner) })
			r, err := s.RoomGet(ctx(t), app, "r")
			if err != nil || r.Owner != owner {
				t.Fatalf("RoomGet after commit %d = %+v, %v; want owner %s", i, r, err, owner)
			}
		}
	})

	t.Run("AfterCommit", func(t *testing.T) {
		s := h.Fresh(t)
		var order []string
		var seen []error
		mustTx(t, s, func(tx store.Tx) error {
			tx.AfterCommit(func() {
				order = append(order, "first")
				// The hook runs after the commit: a read outside the transaction sees it.
				_, err := s.RoomGet(context.Background(), app, "r")
				seen = append(seen, err)
			})
			if err := tx.RoomInsert(ctx(t), newRoom(app, "r", "alice", at(0), 0, true)); err != nil {
				return err
			}
			tx.AfterCommit(func() { order = append(order, "second") })
			tx.AfterCommit(func() { order = append(order, "third") })
			if len(order) != 0 {
				return fmt.Errorf("hooks ran before fn returned: %v", order)
			}
			return nil
		})
		// Tx has returned: every hook has run, in registration order, once.
		if want := []string{"first", "second", "third"}; !slices.Equal(order, want) {
			t.Errorf("hooks ran as %v, want %v", order, want)
		}
		if len(seen) != 1 || seen[0] != nil {
			t.Errorf("the hook's read of the committed room = %v, want found", seen)
		}
	})

	t.Run("AfterCommitWithoutWrites", func(t *testing.T) {
		s := h.Fresh(t)
		ran := 0
		mustTx(t, s, func(tx store.Tx) error {
			tx.AfterCommit(func() { ran++ })
			return nil
		})
		if ran != 1 {
			t.Errorf("hook of a read-only Tx ran %d times, want 1", ran)
		}
	})

	t.Run("AfterCommitNotOnError", func(t *testing.T) {
		s := h.Fresh(t)
		for _, failing := range []error{errBoom, store.ErrNotFound, context.Canceled} {
			ran := false
			err := s.Tx(ctx(t), func(tx store.Tx) error {
				tx.AfterCommit(func() { ran = true })
				if err := tx.RoomInsert(ctx(t), newRoom(app, "r", "alice", at(0), 0, true)); err != nil {
					return err
				}
				return failing
			})
			if !errors.Is(err, failing) {
				t.Errorf("Tx = %v, want %v", err, failing)
			}
			if ran {
				t.Errorf("hook ran although fn returned %v", failing)
			}
		}
		if n, err := s.RoomCount(ctx(t), app); err != nil || n != 0 {
			t.Errorf("RoomCount after failed Tx calls = %d, %v", n, err)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := h.Fresh(t)
		cancelled, cancel := context.WithCancel(ctx(t))
		cancel()
		expired, cancel2 := context.WithDeadline(ctx(t), time.Unix(1, 0))
		defer cancel2()
		for _, c := range []context.Context{cancelled, expired} {
			ran := false
			err := s.Tx(c, func(tx store.Tx) error {
				ran = true
				return tx.RoomInsert(ctx(t), newRoom(app, "r", "alice", at(0), 0, true))
			})
			if !errors.Is(err, c.Err()) {
				t.Errorf("Tx with a done context = %v, want %v", err, c.Err())
			}
			if ran {
				t.Errorf("fn ran with a done context (%v)", c.Err())
			}
		}
		if n, err := s.RoomCount(ctx(t), app); err != nil || n != 0 {
			t.Errorf("RoomCount = %d, %v; want 0", n, err)
		}
		// The store still works.
		insertRooms(t, s, newRoom(app, "r", "alice", at(0), 0, true))
	})

	t.Run("PanicInFn", func(t *testing.T) {
		// A panic in fn reaches the goroutine that called Tx, fn's writes are undone, and
		// the store keeps working.
		s := h.Fresh(t)
		hookRan := false
		got := func() (p any) {
			defer func() { p = recover() }()
			s.Tx(ctx(t), func(tx store.Tx) error {
				tx.AfterCommit(func() { hookRan = true })
				if err := tx.RoomInsert(ctx(t), newRoom(app, "r", "alice", at(0), 0, true)); err != nil {
					return err
				}
				panic("storetest panic")
			})
			return nil
		}()
		if got != "storetest panic" {
			t.Errorf("Tx panicked with %v, want the value fn panicked with", got)
		}
		if hookRan {
			t.Error("hook ran after a panic")
		}
		if _, err := s.RoomGet(ctx(t), app, "r"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RoomGet after the panic = %v, want ErrNotFound", err)
		}
		insertRooms(t, s, newRoom(app, "r", "alice", at(0), 0, true))
	})

	t.Run("ConcurrentSomeFail", func(t *testing.T) { testConcurrentTx(t, h) })
}

// testConcurrentTx runs many Tx calls at once, some of which fail, which drives a
// group-committing driver to put failing and succeeding calls in one database transaction.
func testConcurrentTx(t *testing.T, h *Harness) {
	const n = 200
	s := h.Fresh(t)
	var (
		hooks      [n]atomic.Int32
		errs       [n]error
		hookedLate [n]bool // Tx returned nil before the hook ran
		wg         sync.WaitGroup
		start      = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			room := fmt.Sprintf("room-%03d", i)
			user := fmt.Sprintf("user-%03d", i)
			errs[i] = s.Tx(ctx(t), func(tx store.Tx) error {
				c := ctx(t)
				tx.AfterCommit(func() { hooks[i].Add(1) })
				if _, err := tx.AccountUpsert(c, store.Account{App: app, UserID: user, CreatedAt: at(i)}); err != nil {
					return err
				}
				if err := tx.RoomInsert(c, newRoom(app, room, user, at(i), int64(i), true)); err != nil {
					return err
				}
				ev := newEvent(app, room, "Live.CallbackAfterCreateRoom", at(i))
				if err := tx.EventInsert(c, &ev); err != nil {
					return err
				}
				if got, err := tx.EventGet(c, ev.ID); err != nil || got.RoomID != room {
					return fmt.Errorf("EventGet of own event = %+v, %v", got, err)
				}
				switch i % 5 {
				case 0: // fails after writing
					return fmt.Errorf("tx %d: %w", i, errBoom)
				case 1: // all of these race for one room id: exactly one wins
					return tx.RoomInsert(c, newRoom(app, "shared", user, at(i), 0, true))
				}
				return nil
			})
			if errs[i] == nil && hooks[i].Load() != 1 {
				hookedLate[i] = true
			}
		})
	}
	close(start)
	wg.Wait()

	var ok, winners int
	winner := ""
	for i := range n {
		room := fmt.Sprintf("room-%03d", i)
		user := fmt.Sprintf("user-%03d", i)
		switch {
		case i%5 == 0:
			if !errors.Is(errs[i], errBoom) {
				t.Errorf("tx %d = %v, want errBoom", i, errs[i])
			}
		case i%5 == 1:
			if errs[i] == nil {
				winners++
				winner = user
			} else if !errors.Is(errs[i], store.ErrConflict) {
				t.Errorf("tx %d = %v, want nil or ErrConflict", i, errs[i])
			}
		default:
			if errs[i] != nil {
				t.Errorf("tx %d = %v, want nil", i, errs[i])
			}
		}
		if hookedLate[i] {
			t.Errorf("tx %d returned before its AfterCommit hook ran", i)
		}
		_, roomErr := s.RoomGet(ctx(t), app, room)
		_, accErr := s.AccountGet(ctx(t), app, user)
		evs, err := s.EventList(ctx(t), store.EventQuery{App: app, RoomID: room, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if errs[i] == nil {
			ok++
			if roomErr != nil || accErr != nil || len(evs) != 1 || hooks[i].Load() != 1 {
				t.Errorf("committed tx %d: room %v, account %v, %d events, hook ran %d times", i, roomErr, accErr, len(evs), hooks[i].Load())
			}
		} else if !errors.Is(roomErr, store.ErrNotFound) || !errors.Is(accErr, store.ErrNotFound) || len(evs) != 0 || hooks[i].Load() != 0 {
			t.Errorf("failed tx %d left a trace: room %v, account %v, %d events, hook ran %d times", i, roomErr, accErr, len(evs), hooks[i].Load())
		}
	}
	if winners != 1 {
		t.Errorf("%d transactions inserted the shared room, want 1", winners)
	}
	if r, err := s.RoomGet(ctx(t), app, "shared"); err != nil || r.Owner != winner {
		t.Errorf("shared room = %+v, %v; want owner %s", r, err, winner)
	}
	if got, err := s.RoomCount(ctx(t), app); err != nil || got != ok+1 {
		t.Errorf("RoomCount = %d, %v; want %d", got, err, ok+1)
	}
	if got, err := s.AccountCount(ctx(t), app); err != nil || got != ok {
		t.Errorf("AccountCount = %d, %v; want %d", got, err, ok)
	}
	evs, err := s.EventListUndelivered(ctx(t), store.EventListParams{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != ok {
		t.Errorf("%d events stored, want %d", len(evs), ok)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			t.Errorf("event ids not increasing: %d after %d", evs[i].ID, evs[i-1].ID)
		}
	}
	if st, err := s.EventStats(ctx(t)); err != nil || st.Pending != int64(ok) {
		t.Errorf("EventStats = %+v, %v; want %d pending", st, err, ok)
	}
}

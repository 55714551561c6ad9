package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// newRoom returns a room of app with a small JSON Info naming it.
func newRoom(a uint64, id, owner string, created time.Time, views int64, public bool) store.Room {
	return store.Room{
		App: a, RoomID: id, Owner: owner, CreatedAt: created, ViewCount: views, PublicVisible: public,
		Info: []byte(fmt.Sprintf(`{"RoomId":%q,"RoomName":"name of %s"}`, id, id)),
	}
}

// insertRooms stores rooms in one transaction.
func insertRooms(t *testing.T, s store.Store, rooms ...store.Room) {
	t.Helper()
	mustTx(t, s, func(tx store.Tx) error {
		for _, r := range rooms {
			if err := tx.RoomInsert(ctx(t), r); err != nil {
				return fmt.Errorf("insert %s: %w", r.RoomID, err)
			}
		}
		return nil
	})
}

// twoRooms opens a fresh store with the rooms r1 and r2 of app, which the per-room
// groups (members, metadata, admins, sanctions, messages) work on.
func twoRooms(t *testing.T, h *Harness) store.Store {
	t.Helper()
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))
	return s
}

// recreateR1 deletes room r1 and creates it again, so that a group can check that what
// hung off the old room is gone.
func recreateR1(t *testing.T, s store.Store) {
	t.Helper()
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true))
}

func testRooms(t *testing.T, h *Harness) {
	t.Run("InsertGet", func(t *testing.T) {
		s := h.Fresh(t)
		pub := newRoom(app, "live-1", "alice", at(1), 7, true)
		priv := newRoom(app, "live-2", "bob", at(2), 0, false)
		// Room ids are opaque strings: any byte that the API allows round-trips.
		odd := newRoom(app, "直播间 #3 'x'", "carol", at(3), 1, true)
		odd.Info = []byte{0, 1, 2, 0xff, '{', '}'}
		insertRooms(t, s, pub, priv, odd)
		for _, want := range []store.Room{pub, priv, odd} {
			got, err := s.RoomGet(ctx(t), app, want.RoomID)
			wantErr(t, "RoomGet "+want.RoomID, err, nil)
			equal(t, "room "+want.RoomID, got, want, normRoom)
		}
	})

	t.Run("EmptyInfo", func(t *testing.T) {
		// A room without attributes (nil or empty Info) is stored and reads back empty.
		s := h.Fresh(t)
		nilInfo := store.Room{App: app, RoomID: "nil", Owner: "alice", CreatedAt: at(1)}
		empty := store.Room{App: app, RoomID: "empty", Owner: "alice", CreatedAt: at(1), Info: []byte{}}
		insertRooms(t, s, nilInfo, empty)
		mustTx(t, s, func(tx store.Tx) error { return tx.RoomUpdate(ctx(t), empty) })
		for _, want := range []store.Room{nilInfo, empty} {
			got, err := s.RoomGet(ctx(t), app, want.RoomID)
			wantErr(t, "RoomGet "+want.RoomID, err, nil)
			equal(t, "room "+want.RoomID, got, want, normRoom)
		}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.RoomUpdate(ctx(t), store.Room{App: app, RoomID: "empty", Owner: "bob"})
		})
	})

	t.Run("InsertDuplicateConflict", func(t *testing.T) {
		s := h.Fresh(t)
		orig := newRoom(app, "live-1", "alice", at(1), 3, true)
		insertRooms(t, s, orig)
		dup := newRoom(app, "live-1", "mallory", at(9), 100, false)
		err := s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomInsert(ctx(t), dup) })
		wantErr(t, "RoomInsert of a taken id", err, store.ErrConflict)
		got, err := s.RoomGet(ctx(t), app, "live-1")
		wantErr(t, "RoomGet", err, nil)
		equal(t, "room after the conflicting insert", got, orig, normRoom)

		// Room ids are per app: the same id in another app is no conflict.
		insertRooms(t, s, newRoom(other, "live-1", "alice", at(1), 0, true))

		// Room ids are compared exactly.
		insertRooms(t, s, newRoom(app, "LIVE-1", "alice", at(1), 0, true))
	})

	t.Run("InsertConflictKeepsTxUsable", func(t *testing.T) {
		// Room creation inserts and maps ErrConflict to its own error; the transaction
		// must still be able to write (and commit) after the failed insert.
		s := h.Fresh(t)
		insertRooms(t, s, newRoom(app, "taken", "alice", at(1), 0, true))
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.RoomInsert(ctx(t), newRoom(app, "taken", "bob", at(2), 0, true)); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("RoomInsert(taken) = %v, want ErrConflict", err)
			}
			return tx.RoomInsert(ctx(t), newRoom(app, "free", "bob", at(2), 0, true))
		})
		got, err := s.RoomGet(ctx(t), app, "taken")
		if err != nil || got.Owner != "alice" {
			t.Errorf("taken room = %+v, %v; want owner alice", got, err)
		}
		if _, err := s.RoomGet(ctx(t), app, "free"); err != nil {
			t.Errorf("room inserted after the conflict: %v", err)
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		s := h.Fresh(t)
		insertRooms(t, s, newRoom(app, "live-1", "alice", at(1), 0, true))
		_, err := s.RoomGet(ctx(t), app, "live-2")
		wantErr(t, "RoomGet of a missing room", err, store.ErrNotFound)
		_, err = s.RoomGet(ctx(t), other, "live-1")
		wantErr(t, "RoomGet of another app's id", err, store.ErrNotFound)
		_, err = s.RoomGet(ctx(t), app, "")
		wantErr(t, "RoomGet of an empty id", err, store.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		s := h.Fresh(t)
		insertRooms(t, s, newRoom(app, "live-1", "alice", at(1), 3, true), newRoom(other, "live-1", "alice", at(1), 3, true))
		// RoomUpdate replaces every column.
		upd := store.Room{App: app, RoomID: "live-1", Owner: "bob", CreatedAt: at(5), ViewCount: 42, PublicVisible: false,
			Info: []byte(`{"RoomName":"renamed"}`)}
		mustTx(t, s, func(tx store.Tx) error { return tx.RoomUpdate(ctx(t), upd) })
		got, err := s.RoomGet(ctx(t), app, "live-1")
		wantErr(t, "RoomGet", err, nil)
		equal(t, "room after update", got, upd, normRoom)
		// The other app's room of the same id is untouched.
		got, err = s.RoomGet(ctx(t), other, "live-1")
		wantErr(t, "RoomGet", err, nil)
		equal(t, "other app's room", got, newRoom(other, "live-1", "alice", at(1), 3, true), normRoom)

		err = s.Tx(ctx(t), func(tx store.Tx) error {
			return tx.RoomUpdate(ctx(t), newRoom(app, "missing", "bob", at(1), 0, true))
		})
		wantErr(t, "RoomUpdate of a missing room", err, store.ErrNotFound)
		if _, err := s.RoomGet(ctx(t), app, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RoomUpdate of a missing room created it: RoomGet = %v", err)
		}
	})

	t.Run("SetOwner", func(t *testing.T) {
		s := h.Fresh(t)
		orig := newRoom(app, "live-1", "alice", at(1), 3, false)
		insertRooms(t, s, orig)
		mustTx(t, s, func(tx store.Tx) error { return tx.RoomSetOwner(ctx(t), app, "live-1", "bob") })
		got, err := s.RoomGet(ctx(t), app, "live-1")
		wantErr(t, "RoomGet", err, nil)
		want := orig
		want.Owner = "bob"
		equal(t, "room after RoomSetOwner (only the owner changes)", got, want, normRoom)

		// Setting the same owner again is not an error.
		mustTx(t, s, func(tx store.Tx) error { return tx.RoomSetOwner(ctx(t), app, "live-1", "bob") })

		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomSetOwner(ctx(t), app, "missing", "bob") })
		wantErr(t, "RoomSetOwner of a missing room", err, store.ErrNotFound)
		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomSetOwner(ctx(t), other, "live-1", "bob") })
		wantErr(t, "RoomSetOwner of another app's id", err, store.ErrNotFound)
	})

	t.Run("SetOwnerUnchecked", func(t *testing.T) {
		s := h.Fresh(t)
		orig := newRoom(app, "live-1", "alice", at(1), 3, false)
		others := newRoom(other, "live-1", "alice", at(1), 0, true)
		insertRooms(t, s, orig, others)
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.RoomSetOwnerUnchecked(ctx(t), app, "live-1", "bob"); err != nil {
				return err
			}
			// The transaction sees its own write.
			if r, err := tx.RoomOwnerInfo(ctx(t), app, "live-1"); err != nil || r.Owner != "bob" {
				return fmt.Errorf("RoomOwnerInfo after RoomSetOwnerUnchecked = %+v, %v", r, err)
			}
			// A missing room is no error, and nothing is created.
			return tx.RoomSetOwnerUnchecked(ctx(t), app, "missing", "bob")
		})
		got, err := s.RoomGet(ctx(t), app, "live-1")
		wantErr(t, "RoomGet", err, nil)
		want := orig
		want.Owner = "bob"
		equal(t, "room after RoomSetOwnerUnchecked (only the owner changes)", got, want, normRoom)
		got, err = s.RoomGet(ctx(t), other, "live-1")
		wantErr(t, "RoomGet of the other app's room", err, nil)
		equal(t, "other app's room", got, others, normRoom)
		_, err = s.RoomGet(ctx(t), app, "missing")
		wantErr(t, "RoomGet of the missing room", err, store.ErrNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		s := h.Fresh(t)
		insertRooms(t, s, newRoom(app, "live-1", "alice", at(1), 0, true), newRoom(app, "live-2", "alice", at(2), 0, true),
			newRoom(other, "live-1", "alice", at(1), 0, true))
		mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "live-1") })
		_, err := s.RoomGet(ctx(t), app, "live-1")
		wantErr(t, "RoomGet after delete", err, store.ErrNotFound)
		_, err = s.RoomGet(ctx(t), app, "live-2")
		wantErr(t, "RoomGet of the other room", err, nil)
		_, err = s.RoomGet(ctx(t), other, "live-1")
		wantErr(t, "RoomGet of another app's room of the same id", err, nil)

		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "live-1") })
		wantErr(t, "RoomDelete of a deleted room", err, store.ErrNotFound)
		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "never") })
		wantErr(t, "RoomDelete of a missing room", err, store.ErrNotFound)

		// The id is free again.
		insertRooms(t, s, newRoom(app, "live-1", "bob", at(3), 0, true))
		got, err := s.RoomGet(ctx(t), app, "live-1")
		if err != nil || got.Owner != "bob" {
			t.Errorf("re-created room = %+v, %v", got, err)
		}
	})

	t.Run("Count", func(t *testing.T) {
		s := h.Fresh(t)
		if n, err := s.RoomCount(ctx(t), app); err != nil || n != 0 {
			t.Fatalf("RoomCount of an empty store = %d, %v", n, err)
		}
		insertRooms(t, s, newRoom(app, "a", "u", at(0), 0, true), newRoom(app, "b", "u", at(0), 0, false),
			newRoom(app, "c", "u", at(0), 0, true), newRoom(other, "a", "u", at(0), 0, true))
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.RoomDelete(ctx(t), app, "c"); err != nil {
				return err
			}
			if n, err := tx.RoomCount(ctx(t), app); err != nil || n != 2 {
				return fmt.Errorf("RoomCount inside the transaction = %d, %v; want 2", n, err)
			}
			return nil
		})
		for a, want := range map[uint64]int{app: 2, other: 1, 7: 0} {
			if n, err := s.RoomCount(ctx(t), a); err != nil || n != want {
				t.Errorf("RoomCount(%d) = %d, %v; want %d", a, n, err, want)
			}
		}
	})

	t.Run("List", func(t *testing.T) { testRoomList(t, h) })
}

func testRoomList(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	rooms := []store.Room{
		newRoom(app, "r-a", "u", at(1), 5, true),
		newRoom(app, "r-b", "u", at(3), 9, true),
		newRoom(app, "r-c", "u", at(1), 5, true), // ties r-a on views and creation: room id decides
		newRoom(app, "r-d", "u", at(0), 5, true),
		newRoom(app, "r-e", "u", at(2), 0, false),
		newRoom(app, "r-f", "u", at(3), 9, false), // ties r-b
		newRoom(app, "r-g", "u", at(5), 1, true),
		newRoom(app, "r-h", "u", at(2), 0, true),
		newRoom(other, "r-z", "u", at(0), 100, true), // another app: never listed
	}
	// Insert in an order that is neither the id order nor the list order.
	for _, i := range []int{6, 2, 8, 0, 4, 7, 1, 5, 3} {
		insertRooms(t, s, rooms[i])
	}
	all := []string{"r-b", "r-f", "r-d", "r-a", "r-c", "r-g", "r-e", "r-h"}
	public := []string{"r-b", "r-d", "r-a", "r-c", "r-g", "r-h"}

	ids := func(rs []store.Room) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.RoomID
		}
		return out
	}
	// page walks the list with After set to the last room of the previous page.
	page := func(t *testing.T, onlyPublic bool, limit int) []string {
		t.Helper()
		var out []string
		var after *store.Room
		for range 20 {
			got, err := s.RoomList(ctx(t), store.RoomListParams{App: app, OnlyPublic: onlyPublic, Limit: limit, After: after})
			if err != nil {
				t.Fatalf("RoomList: %v", err)
			}
			if len(got) > limit {
				t.Fatalf("RoomList returned %d rooms, limit %d", len(got), limit)
			}
			if len(got) == 0 {
				return out
			}
			out = append(out, ids(got)...)
			last := got[len(got)-1]
			after = &last
		}
		t.Fatalf("RoomList paging does not end: %v", out)
		return nil
	}

	t.Run("Order", func(t *testing.T) {
		got, err := s.RoomList(ctx(t), store.RoomListParams{App: app, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), all) {
			t.Errorf("RoomList order = %v, want %v (view count desc, created, room id)", ids(got), all)
		}
		// The rows are complete.
		for _, r := range got {
			want := rooms[slices.IndexFunc(rooms, func(x store.Room) bool { return x.RoomID == r.RoomID })]
			equal(t, "listed room "+r.RoomID, r, want, normRoom)
		}
	})

	t.Run("Limit", func(t *testing.T) {
		got, err := s.RoomList(ctx(t), store.RoomListParams{App: app, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), all[:3]) {
			t.Errorf("RoomList Limit 3 = %v, want %v", ids(got), all[:3])
		}
	})

	t.Run("Paging", func(t *testing.T) {
		for _, limit := range []int{1, 2, 3, 7, 8, 100} {
			if got := page(t, false, limit); !slices.Equal(got, all) {
				t.Errorf("pages of %d = %v, want %v", limit, got, all)
			}
		}
	})

	t.Run("OnlyPublic", func(t *testing.T) {
		for _, limit := range []int{1, 2, 4, 100} {
			if got := page(t, true, limit); !slices.Equal(got, public) {
				t.Errorf("public pages of %d = %v, want %v", limit, got, public)
			}
		}
	})

	t.Run("AfterPrivateRoom", func(t *testing.T) {
		// The cursor is a position in the order, not a row that must be in the result.
		after := rooms[5] // r-f, private
		got, err := s.RoomList(ctx(t), store.RoomListParams{App: app, OnlyPublic: true, Limit: 2, After: &after})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"r-d", "r-a"}; !slices.Equal(ids(got), want) {
			t.Errorf("public rooms after r-f = %v, want %v", ids(got), want)
		}
		// A cursor for a room that has since been deleted still works.
		gone := newRoom(app, "r-cz", "u", at(1), 5, true) // sorts between r-c and r-g
		got, err = s.RoomList(ctx(t), store.RoomListParams{App: app, Limit: 100, After: &gone})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"r-g", "r-e", "r-h"}; !slices.Equal(ids(got), want) {
			t.Errorf("rooms after a deleted cursor = %v, want %v", ids(got), want)
		}
	})

	t.Run("EmptyApp", func(t *testing.T) {
		got, err := s.RoomList(ctx(t), store.RoomListParams{App: 7, Limit: 10})
		if err != nil || len(got) != 0 {
			t.Errorf("RoomList of an app without rooms = %v, %v", ids(got), err)
		}
	})

	t.Run("SeesUpdatedViewCount", func(t *testing.T) {
		s := h.Fresh(t)
		insertRooms(t, s, newRoom(app, "x", "u", at(0), 1, true), newRoom(app, "y", "u", at(0), 2, true))
		mustTx(t, s, func(tx store.Tx) error {
			r, err := tx.RoomGet(ctx(t), app, "x")
			if err != nil {
				return err
			}
			r.ViewCount = 3
			return tx.RoomUpdate(ctx(t), r)
		})
		got, err := s.RoomList(ctx(t), store.RoomListParams{App: app, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if want := "x y"; strings.Join(ids(got), " ") != want {
			t.Errorf("RoomList after a view count change = %v, want %s", ids(got), want)
		}
	})
}

func testRoomListAscending(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s,
		newRoom(app, "r-a", "u", at(1), 5, true),
		newRoom(app, "r-b", "u", at(3), 9, true),
		newRoom(app, "r-c", "u", at(1), 5, true),
		newRoom(app, "r-d", "u", at(0), 5, true),
		newRoom(app, "r-e", "u", at(2), 0, false),
		newRoom(app, "r-h", "u", at(2), 0, true),
	)
	// The exact reverse of the descending order.
	want := []string{"r-h", "r-c", "r-a", "r-d", "r-b"}
	var got []string
	var after *store.Room
	for range 10 {
		page, err := s.RoomList(ctx(t), store.RoomListParams{App: app, OnlyPublic: true, Limit: 2, After: after, Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			got = append(got, r.RoomID)
		}
		last := page[len(page)-1]
		after = &last
	}
	if !slices.Equal(got, want) {
		t.Errorf("ascending pages = %v, want %v", got, want)
	}
}

// testRoomOwnerChange pins RoomOwnerChange: the room as RoomOwnerInfo gives it, what the
// user is to the app and the room (each flag alone, and none from another room or app),
// the owner timers and the stored seats, as the transaction sees them.
func testRoomOwnerChange(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	r := newRoom(app, "r", "alice", at(1), 4, true)
	insertRooms(t, s, r, newRoom(app, "r2", "alice", at(1), 0, true), newRoom(other, "r", "alice", at(1), 0, true))
	norm := func(oc store.OwnerChange) store.OwnerChange {
		oc.Room = normRoom(oc.Room)
		return oc
	}
	want := func() store.OwnerChange {
		return store.OwnerChange{Room: store.Room{App: app, RoomID: "r", Owner: "alice", Info: r.Info}}
	}
	errRollback := errors.New("storetest: rolled back on purpose")
	read := func(rd store.Reader, user string) store.OwnerChange {
		t.Helper()
		oc, err := rd.RoomOwnerChange(ctx(t), app, "r", user)
		wantErr(t, "RoomOwnerChange of "+user, err, nil)
		return oc
	}
	equal(t, "RoomOwnerChange of a bare room", read(s, "bob"), want(), norm)
	for _, k := range []struct {
		a  uint64
		id string
	}{{app, "missing"}, {7, "r"}} {
		_, err := s.RoomOwnerChange(ctx(t), k.a, k.id, "bob")
		wantErr(t, fmt.Sprintf("RoomOwnerChange of missing room %d/%s", k.a, k.id), err, store.ErrNotFound)
	}

	// What bob is in r2 and in the other app's r does not count for r.
	seat := func(a uint64, room string, i int, user string) store.Seat {
		return store.Seat{App: a, RoomID: room, Index: i, UserID: user}
	}
	mustTx(t, s, func(tx store.Tx) error {
		for _, k := range []struct {
			a    uint64
			room string
		}{{app, "r2"}, {other, "r"}} {
			if _, err := tx.MemberAdd(ctx(t), store.Member{App: k.a, RoomID: k.room, UserID: "bob", JoinedAt: at(2)}); err != nil {
				return err
			}
			if _, err := tx.AdminAdd(ctx(t), k.a, k.room, "bob", at(2)); err != nil {
				return err
			}
			if err := tx.SeatPut(ctx(t), seat(k.a, k.room, 2, "bob")); err != nil {
				return err
			}
			if err := tx.SeatRequestPut(ctx(t), store.SeatRequest{App: k.a, RoomID: k.room, ID: "q", UserID: "bob", Index: -1, CreatedAt: at(2)}); err != nil {
				return err
			}
			if err := tx.RoomTimerPut(ctx(t), store.RoomTimer{App: k.a, RoomID: k.room, Kind: store.TimerOwnerLeave, DueAt: at(9)}); err != nil {
				return err
			}
		}
		// An account of the other app, and r's timer of another kind.
		if _, err := tx.AccountUpsert(ctx(t), store.Account{App: other, UserID: "bob", CreatedAt: at(0)}); err != nil {
			return err
		}
		return tx.RoomTimerPut(ctx(t), store.RoomTimer{App: app, RoomID: "r", Kind: store.TimerNoUsers, DueAt: at(9)})
	})
	equal(t, "RoomOwnerChange with bob elsewhere", read(s, "bob"), want(), norm)

	// Each flag alone, read inside the transaction that writes it.
	type step struct {
		name  string
		write func(tx store.Tx) error
		set   func(oc *store.OwnerChange)
	}
	steps := []step{
		{"account", func(tx store.Tx) error {
			_, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "bob", CreatedAt: at(0)})
			return err
		}, func(oc *store.OwnerChange) { oc.Account = true }},
		{"member", func(tx store.Tx) error {
			_, err := tx.MemberAdd(ctx(t), store.Member{App: app, RoomID: "r", UserID: "bob", JoinedAt: at(2)})
			return err
		}, func(oc *store.OwnerChange) { oc.Member = true }},
		{"admin", func(tx store.Tx) error {
			_, err := tx.AdminAdd(ctx(t), app, "r", "bob", at(2))
			return err
		}, func(oc *store.OwnerChange) { oc.Admin = true }},
		{"seat request", func(tx store.Tx) error {
			return tx.SeatRequestPut(ctx(t), store.SeatRequest{App: app, RoomID: "r", ID: "q", UserID: "bob", Index: -1, CreatedAt: at(2)})
		}, func(oc *store.OwnerChange) { oc.SeatRequest = true }},
		{"owner-offline timer", func(tx store.Tx) error {
			return tx.RoomTimerPut(ctx(t), store.RoomTimer{App: app, RoomID: "r", Kind: store.TimerOwnerOffline, DueAt: at(9)})
		}, func(oc *store.OwnerChange) { oc.OwnerTimers = true }},
	}
	for _, st := range steps {
		w := want()
		st.set(&w)
		err := s.Tx(ctx(t), func(tx store.Tx) error {
			if err := st.write(tx); err != nil {
				return err
			}
			oc, err := tx.RoomOwnerChange(ctx(t), app, "r", "bob")
			if err != nil {
				return err
			}
			if got, w := norm(oc), norm(w); !reflect.DeepEqual(got, w) {
				return fmt.Errorf("RoomOwnerChange after %s in the transaction = %+v, want %+v", st.name, got, w)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Errorf("%s: %v", st.name, err)
		}
	}
	equal(t, "RoomOwnerChange after the rolled back writes", read(s, "bob"), want(), norm)

	// All of it at once, the owner-leave timer (the other owner timer), a robot, and seats.
	mustTx(t, s, func(tx store.Tx) error {
		for _, st := range steps[:4] {
			if err := st.write(tx); err != nil {
				return err
			}
		}
		if _, err := tx.MemberAdd(ctx(t), store.Member{App: app, RoomID: "r", UserID: "rob", IsRobot: true, JoinedAt: at(2)}); err != nil {
			return err
		}
		if err := tx.RoomTimerPut(ctx(t), store.RoomTimer{App: app, RoomID: "r", Kind: store.TimerOwnerLeave, DueAt: at(9)}); err != nil {
			return err
		}
		for _, x := range []store.Seat{seat(app, "r", 7, "carol"), {App: app, RoomID: "r", Index: 0, Locked: true, AudioLocked: true},
			seat(app, "r", 3, "bob"), {App: app, RoomID: "r", Index: 5, UserID: "rob", VideoLocked: true}} {
			if err := tx.SeatPut(ctx(t), x); err != nil {
				return err
			}
		}
		return nil
	})
	seats := []store.Seat{{App: app, RoomID: "r", Index: 0, Locked: true, AudioLocked: true}, seat(app, "r", 3, "bob"),
		{App: app, RoomID: "r", Index: 5, UserID: "rob", VideoLocked: true}, seat(app, "r", 7, "carol")}
	listed, err := s.SeatList(ctx(t), app, "r")
	wantErr(t, "SeatList", err, nil)
	equal(t, "SeatList", listed, seats, func(v []store.Seat) []store.Seat { return v })
	w := want()
	w.Account, w.Member, w.Admin, w.SeatRequest, w.OwnerTimers, w.Seats = true, true, true, true, true, seats
	equal(t, "RoomOwnerChange of bob", read(s, "bob"), w, norm)
	w = want()
	w.Member, w.Robot, w.OwnerTimers, w.Seats = true, true, true, seats
	equal(t, "RoomOwnerChange of the robot rob", read(s, "rob"), w, norm)
	w = want()
	w.OwnerTimers, w.Seats = true, seats
	equal(t, "RoomOwnerChange of zed", read(s, "zed"), w, norm)
}

// testRoomInsertOwned pins RoomInsertOwned: it inserts as RoomInsert when the owner is an
// account of the room's app, and otherwise writes nothing and says ErrNotFound, even for
// a taken id; a taken id with an account owner is ErrConflict.
func testRoomInsertOwned(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	mustTx(t, s, func(tx store.Tx) error {
		for _, a := range []store.Account{{App: app, UserID: "alice"}, {App: other, UserID: "bob"}} {
			if _, err := tx.AccountUpsert(ctx(t), a); err != nil {
				return err
			}
		}
		return nil
	})
	r := newRoom(app, "live-1", "alice", at(1), 3, false)
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomInsertOwned(ctx(t), r) })
	got, err := s.RoomGet(ctx(t), app, "live-1")
	wantErr(t, "RoomGet after RoomInsertOwned", err, nil)
	equal(t, "room after RoomInsertOwned", got, r, normRoom)

	// bob is an account of the other app only.
	err = s.Tx(ctx(t), func(tx store.Tx) error {
		return tx.RoomInsertOwned(ctx(t), newRoom(app, "live-2", "bob", at(1), 0, true))
	})
	wantErr(t, "RoomInsertOwned with no owner account", err, store.ErrNotFound)
	_, err = s.RoomGet(ctx(t), app, "live-2")
	wantErr(t, "RoomGet after a refused RoomInsertOwned", err, store.ErrNotFound)
	err = s.Tx(ctx(t), func(tx store.Tx) error {
		return tx.RoomInsertOwned(ctx(t), newRoom(app, "live-1", "bob", at(1), 0, true))
	})
	wantErr(t, "RoomInsertOwned of a taken id with no owner account", err, store.ErrNotFound)
	err = s.Tx(ctx(t), func(tx store.Tx) error {
		return tx.RoomInsertOwned(ctx(t), newRoom(app, "live-1", "alice", at(2), 0, true))
	})
	wantErr(t, "RoomInsertOwned of a taken id", err, store.ErrConflict)

	// The transaction goes on after a conflict (PostgreSQL: the insert's own savepoint), and
	// sees its own account.
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.RoomInsertOwned(ctx(t), newRoom(app, "live-1", "alice", at(2), 0, true)); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("RoomInsertOwned of a taken id = %v", err)
		}
		if _, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "carol"}); err != nil {
			return err
		}
		return tx.RoomInsertOwned(ctx(t), newRoom(app, "live-3", "carol", at(3), 0, true))
	})
	got, err = s.RoomGet(ctx(t), app, "live-3")
	wantErr(t, "RoomGet of the room inserted after a conflict", err, nil)
	equal(t, "room inserted after a conflict", got, newRoom(app, "live-3", "carol", at(3), 0, true), normRoom)
	got, err = s.RoomGet(ctx(t), app, "live-1")
	wantErr(t, "RoomGet of the taken id", err, nil)
	equal(t, "room of the taken id", got, r, normRoom)
}

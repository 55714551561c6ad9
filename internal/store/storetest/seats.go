package storetest

import (
	"errors"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the seat methods (store/seats.go): sparse seats with one user on one seat,
// applications with one per user and an expiry scan, all emptied by RoomDelete.

func testSeats(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))

	seat := func(room string, i int, user string, locks ...bool) store.Seat {
		st := store.Seat{App: app, RoomID: room, Index: i, UserID: user}
		if len(locks) == 3 {
			st.Locked, st.VideoLocked, st.AudioLocked = locks[0], locks[1], locks[2]
		}
		return st
	}
	mustTx(t, s, func(tx store.Tx) error {
		for _, st := range []store.Seat{
			seat("r1", 3, "bob"),
			seat("r1", 1, "alice"),
			seat("r1", 5, "", true, false, true),
			seat("r2", 1, "alice"), // another room: alice may sit there too
			seat("r1", 7, ""),      // empty and unlocked: not stored
		} {
			if err := tx.SeatPut(ctx(t), st); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.SeatList(ctx(t), app, "r1")
	wantErr(t, "SeatList", err, nil)
	want := []store.Seat{seat("r1", 1, "alice"), seat("r1", 3, "bob"), seat("r1", 5, "", true, false, true)}
	if len(got) != len(want) {
		t.Fatalf("SeatList(r1) = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("SeatList(r1)[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}

	// One user, one seat: putting bob on a second seat is a conflict and writes nothing.
	err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.SeatPut(ctx(t), seat("r1", 4, "bob")) })
	wantErr(t, "SeatPut(bob on a second seat)", err, store.ErrConflict)
	// Replacing and clearing: bob moves from 3 to 4 (clear first), seat 5 is unlocked.
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.SeatPut(ctx(t), seat("r1", 3, "")); err != nil {
			return err
		}
		if err := tx.SeatPut(ctx(t), seat("r1", 4, "bob")); err != nil {
			return err
		}
		return tx.SeatPut(ctx(t), seat("r1", 5, ""))
	})
	got, _ = s.SeatList(ctx(t), app, "r1")
	if len(got) != 2 || got[0] != seat("r1", 1, "alice") || got[1] != seat("r1", 4, "bob") {
		t.Errorf("SeatList(r1) after the move = %+v, want alice on 1 and bob on 4", got)
	}
	if other, _ := s.SeatList(ctx(t), other, "r1"); len(other) != 0 {
		t.Errorf("another app sees seats: %+v", other)
	}

	// Applications.
	req := func(room, id, user string, idx, created, expires int) store.SeatRequest {
		r := store.SeatRequest{App: app, RoomID: room, ID: id, UserID: user, Index: idx, CreatedAt: at(created)}
		if expires > 0 {
			r.ExpiresAt = at(expires)
		}
		return r
	}
	mustTx(t, s, func(tx store.Tx) error {
		for _, r := range []store.SeatRequest{
			req("r1", "q2", "carol", -1, 2, 30),
			req("r1", "q1", "dave", 2, 1, 0),
			req("r2", "q3", "carol", 0, 3, 10),
		} {
			if err := tx.SeatRequestPut(ctx(t), r); err != nil {
				return err
			}
		}
		return nil
	})
	err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.SeatRequestPut(ctx(t), req("r1", "q9", "carol", 1, 4, 0)) })
	wantErr(t, "SeatRequestPut(second of carol)", err, store.ErrConflict)
	err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.SeatRequestPut(ctx(t), req("r1", "q1", "erin", 1, 4, 0)) })
	wantErr(t, "SeatRequestPut(id taken)", err, store.ErrConflict)

	r, err := s.SeatRequestGet(ctx(t), app, "r1", "q2")
	wantErr(t, "SeatRequestGet", err, nil)
	if r.UserID != "carol" || r.Index != -1 || !r.CreatedAt.Equal(at(2)) || !r.ExpiresAt.Equal(at(30)) {
		t.Errorf("SeatRequestGet(q2) = %+v", r)
	}
	if _, err := s.SeatRequestGet(ctx(t), app, "r2", "q2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SeatRequestGet(q2 in r2) error = %v, want ErrNotFound", err)
	}
	list, err := s.SeatRequestList(ctx(t), app, "r1")
	wantErr(t, "SeatRequestList", err, nil)
	if len(list) != 2 || list[0].ID != "q1" || list[1].ID != "q2" || !list[0].ExpiresAt.IsZero() {
		t.Errorf("SeatRequestList(r1) = %+v, want q1 (no expiry) then q2", list)
	}
	due, err := s.SeatRequestListDue(ctx(t), at(30), 10)
	wantErr(t, "SeatRequestListDue", err, nil)
	if len(due) != 2 || due[0].ID != "q3" || due[1].ID != "q2" {
		t.Errorf("SeatRequestListDue(at 30) = %+v, want q3 then q2 (q1 never expires)", due)
	}
	if due, _ := s.SeatRequestListDue(ctx(t), at(30), 1); len(due) != 1 {
		t.Errorf("SeatRequestListDue(limit 1) returned %d", len(due))
	}
	var deleted []bool
	mustTx(t, s, func(tx store.Tx) error {
		for range 2 {
			ok, err := tx.SeatRequestDelete(ctx(t), app, "r1", "q1")
			if err != nil {
				return err
			}
			deleted = append(deleted, ok)
		}
		return nil
	})
	if len(deleted) != 2 || !deleted[0] || deleted[1] {
		t.Errorf("SeatRequestDelete twice reported %v, want [true false]", deleted)
	}

	// RoomDelete empties both for that room only.
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	if got, _ := s.SeatList(ctx(t), app, "r1"); len(got) != 0 {
		t.Errorf("seats of a deleted room: %+v", got)
	}
	if got, _ := s.SeatRequestList(ctx(t), app, "r1"); len(got) != 0 {
		t.Errorf("seat requests of a deleted room: %+v", got)
	}
	if got, _ := s.SeatList(ctx(t), app, "r2"); len(got) != 1 {
		t.Errorf("seats of r2 after deleting r1: %+v", got)
	}
	if got, _ := s.SeatRequestList(ctx(t), app, "r2"); len(got) != 1 {
		t.Errorf("seat requests of r2 after deleting r1: %+v", got)
	}
}

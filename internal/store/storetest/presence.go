package storetest

import (
	"errors"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the live-presence methods (store/presence.go): lost-heartbeat records,
// the scan of people in rooms, and room timers, all emptied by RoomDelete.

func testPresence(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))

	// Lost members: put replaces, get finds, list is oldest first and bounded by time.
	mustTx(t, s, func(tx store.Tx) error {
		for _, m := range []store.LostMember{
			{App: app, RoomID: "r1", UserID: "bob", LostAt: at(5)},
			{App: app, RoomID: "r1", UserID: "alice", LostAt: at(3)},
			{App: app, RoomID: "r2", UserID: "bob", LostAt: at(9)},
			{App: app, RoomID: "r1", UserID: "bob", LostAt: at(4)}, // replaces at(5)
		} {
			if err := tx.LostMemberPut(ctx(t), m); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.LostMemberGet(ctx(t), app, "r1", "bob")
	wantErr(t, "LostMemberGet", err, nil)
	if !got.LostAt.Equal(at(4)) {
		t.Errorf("LostMemberGet(r1, bob).LostAt = %v, want %v (the later put)", got.LostAt, at(4))
	}
	if _, err := s.LostMemberGet(ctx(t), app, "r1", "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LostMemberGet(carol) error = %v, want ErrNotFound", err)
	}
	lost, err := s.LostMemberListBefore(ctx(t), at(5), 10)
	wantErr(t, "LostMemberListBefore", err, nil)
	if len(lost) != 2 || lost[0].UserID != "alice" || lost[1].UserID != "bob" || lost[1].RoomID != "r1" {
		t.Errorf("LostMemberListBefore(at 5) = %+v, want alice then bob of r1", lost)
	}
	if lost, _ := s.LostMemberListBefore(ctx(t), at(100), 1); len(lost) != 1 {
		t.Errorf("LostMemberListBefore(limit 1) returned %d", len(lost))
	}
	var deleted []bool
	mustTx(t, s, func(tx store.Tx) error {
		for _, u := range []string{"alice", "alice"} {
			ok, err := tx.LostMemberDelete(ctx(t), app, "r1", u)
			if err != nil {
				return err
			}
			deleted = append(deleted, ok)
		}
		return nil
	})
	if len(deleted) != 2 || !deleted[0] || deleted[1] {
		t.Errorf("LostMemberDelete twice reported %v, want [true false]", deleted)
	}

	// People in rooms: robots are left out; only the members of one node; paging by (app,
	// room, user).
	mustTx(t, s, func(tx store.Tx) error {
		for _, m := range []store.Member{
			{App: app, RoomID: "r2", UserID: "zed", JoinedAt: at(1)},
			{App: app, RoomID: "r1", UserID: "yan", JoinedAt: at(2)},
			{App: app, RoomID: "r1", UserID: "bot", IsRobot: true, JoinedAt: at(3)},
			{App: app, RoomID: "r1", UserID: "amy", JoinedAt: at(4)},
			{App: app, RoomID: "r1", UserID: "ann", JoinedAt: at(5), Node: "node-a"},
			{App: app, RoomID: "r2", UserID: "abe", JoinedAt: at(6), Node: "node-a"},
			{App: app, RoomID: "r1", UserID: "bea", JoinedAt: at(7), Node: "node-b"},
			{App: app, RoomID: "r1", UserID: "bot-a", IsRobot: true, JoinedAt: at(8), Node: "node-a"},
		} {
			if _, err := tx.MemberAdd(ctx(t), m); err != nil {
				return err
			}
		}
		return nil
	})
	page, err := s.MemberListPeople(ctx(t), "", nil, 2)
	wantErr(t, "MemberListPeople", err, nil)
	if len(page) != 2 || page[0].UserID != "amy" || page[1].UserID != "yan" {
		t.Fatalf("MemberListPeople first page = %+v, want amy, yan of r1", page)
	}
	page, err = s.MemberListPeople(ctx(t), "", &page[1], 10)
	wantErr(t, "MemberListPeople", err, nil)
	if len(page) != 1 || page[0].UserID != "zed" || page[0].RoomID != "r2" || page[0].App != app {
		t.Errorf("MemberListPeople second page = %+v, want zed of r2", page)
	}
	page, err = s.MemberListPeople(ctx(t), "node-a", nil, 1)
	wantErr(t, "MemberListPeople(node-a)", err, nil)
	if len(page) != 1 || page[0].UserID != "ann" || page[0].RoomID != "r1" || page[0].Node != "node-a" {
		t.Fatalf("MemberListPeople(node-a) first page = %+v, want ann of r1", page)
	}
	page, err = s.MemberListPeople(ctx(t), "node-a", &page[0], 10)
	wantErr(t, "MemberListPeople(node-a)", err, nil)
	if len(page) != 1 || page[0].UserID != "abe" || page[0].RoomID != "r2" || page[0].Node != "node-a" {
		t.Errorf("MemberListPeople(node-a) second page = %+v, want abe of r2", page)
	}
	if page, _ := s.MemberListPeople(ctx(t), "node-c", nil, 10); len(page) != 0 {
		t.Errorf("MemberListPeople(node-c) = %+v, want none", page)
	}

	// Timers: put replaces the due time of the same kind; due ones come earliest first.
	mustTx(t, s, func(tx store.Tx) error {
		for _, rt := range []store.RoomTimer{
			{App: app, RoomID: "r1", Kind: store.TimerNoUsers, DueAt: at(20)},
			{App: app, RoomID: "r1", Kind: store.TimerOwnerLeave, DueAt: at(10)},
			{App: app, RoomID: "r2", Kind: store.TimerNoUsers, DueAt: at(30)},
			{App: app, RoomID: "r1", Kind: store.TimerNoUsers, DueAt: at(5)}, // replaces at(20)
		} {
			if err := tx.RoomTimerPut(ctx(t), rt); err != nil {
				return err
			}
		}
		return tx.RoomTimerDelete(ctx(t), app, "r2", store.TimerOwnerOffline) // absent: no error
	})
	due, err := s.RoomTimerListDue(ctx(t), at(10), 10)
	wantErr(t, "RoomTimerListDue", err, nil)
	if len(due) != 2 || due[0].Kind != store.TimerNoUsers || !due[0].DueAt.Equal(at(5)) || due[1].Kind != store.TimerOwnerLeave {
		t.Errorf("RoomTimerListDue(at 10) = %+v, want no_users at 5 then owner_leave at 10", due)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomTimerDelete(ctx(t), app, "r1", store.TimerOwnerLeave) })
	if due, _ := s.RoomTimerListDue(ctx(t), at(10), 10); len(due) != 1 {
		t.Errorf("after RoomTimerDelete, %d timers due, want 1", len(due))
	}

	// RoomDelete empties both for that room only.
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	if _, err := s.LostMemberGet(ctx(t), app, "r1", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lost member of a deleted room still there (err %v)", err)
	}
	if due, _ := s.RoomTimerListDue(ctx(t), at(100), 10); len(due) != 1 || due[0].RoomID != "r2" {
		t.Errorf("timers after deleting r1 = %+v, want only r2's", due)
	}
	if lost, _ := s.LostMemberListBefore(ctx(t), at(100), 10); len(lost) != 1 || lost[0].RoomID != "r2" {
		t.Errorf("lost members after deleting r1 = %+v, want only r2's", lost)
	}
}

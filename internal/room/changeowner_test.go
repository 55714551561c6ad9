package room_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// TestChangeOwnerSideEffects pins what an owner change does besides the owner column, on
// the client path and the App admin's: the new owner stops being a room admin, the owner
// timers go (the NoUsers timer stays), the new owner's pending seat application ends, and
// in a KeepOwnerOnSeat room the seats move (the new owner to seat 0, the former owner to
// the new owner's seat, or off the seats), with the callbacks in this order.
func TestChangeOwnerSideEffects(t *testing.T) {
	f := setup(t)
	f.seatRoom("k", 4, room.ApplyToTake, true)
	f.enterRoom("k", testOwner, 1)
	f.enterRoom("k", "u1", 2)
	f.enterRoom("k", "u2", 3)
	if _, err := f.rooms.TakeSeat(f.ctx, f.client("u1"), "k", -1, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.PickOnSeat(f.ctx, f.client(testOwner), "k", 2, "u2"); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("k", testOwner, "", "u2", "")
	timers := []store.RoomTimerKind{store.TimerNoUsers, store.TimerOwnerLeave, store.TimerOwnerOffline}
	if err := f.st.Tx(f.ctx, func(tx store.Tx) error {
		if _, err := tx.AdminAdd(f.ctx, testApp, "k", "u1", f.now); err != nil {
			return err
		}
		for _, k := range timers {
			if err := tx.RoomTimerPut(f.ctx, store.RoomTimer{App: testApp, RoomID: "k", Kind: k, DueAt: f.now.Add(time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantTimers := func(want ...store.RoomTimerKind) {
		t.Helper()
		var got []store.RoomTimerKind
		for _, k := range timers {
			_, err := f.st.RoomTimerGet(f.ctx, testApp, "k", k)
			if err == nil {
				got = append(got, k)
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("timers %v, want %v", got, want)
		}
	}
	f.newEvents()

	// Through the client, to u1: a room admin with a pending application, on no seat.
	if err := f.rooms.ChangeOwner(f.ctx, f.client(testOwner), "k", "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterChangeOwner, webhook.AfterSeatInfoChanged)
	f.wantSeated("k", "u1", "", "u2", "")
	if admin, err := f.st.AdminIs(f.ctx, testApp, "k", "u1"); err != nil || admin {
		t.Errorf("the new owner is still an admin: %v %v", admin, err)
	}
	if reqs, err := f.st.SeatRequestList(f.ctx, testApp, "k"); err != nil || len(reqs) != 0 {
		t.Errorf("pending applications after the owner change: %+v %v", reqs, err)
	}
	wantTimers(store.TimerNoUsers)

	// By the App admin, to u2 on seat 2: a swap with u1, and no timers to delete.
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, "k", "u2"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterChangeOwner, webhook.AfterSeatInfoChanged)
	f.wantSeated("k", "u2", "", "u1", "")
	wantTimers(store.TimerNoUsers)

	// The owner u2 leaves the room (seat 0 empties and stays kept for it) and, still the
	// owner, hands the room through the client to u1, who moves from seat 2 to seat 0.
	if err := f.rooms.Exit(f.ctx, f.client("u2"), 3, "k"); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("k", "", "", "u1", "")
	f.newEvents()
	if err := f.rooms.ChangeOwner(f.ctx, f.client("u2"), "k", "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterChangeOwner, webhook.AfterSeatInfoChanged)
	f.wantSeated("k", "u1", "", "", "")

	// To a user who is not in the room: seat 0 empties and waits for it.
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, "k", "u3"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterChangeOwner, webhook.AfterSeatInfoChanged)
	f.wantSeated("k", "", "", "", "")
	// The same owner again changes nothing.
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, "k", "u3"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()
}

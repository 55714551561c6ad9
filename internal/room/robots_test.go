package room_test

import (
	"fmt"
	"testing"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

func TestRobots(t *testing.T) {
	f := setup(t)
	add := func(users ...string) error { return f.rooms.AddRobots(f.ctx, f.actor, testRoom, users) }
	robots := func() string {
		t.Helper()
		rs, err := f.rooms.Robots(f.ctx, testApp, testRoom)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rs)
	}
	// Duplicates in one request count once.
	if err := add("u1", "u1", "u2"); err != nil {
		t.Fatal(err)
	}
	if got := robots(); got != "[u1 u2]" {
		t.Errorf("robots %s", got)
	}
	// Adding a robot again changes nothing; robots send no member callback.
	if err := add("u1"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()

	wantInvalid(t, add("u1", "u2", "u3", testOwner), "")
	wantInvalid(t, add(), "RobotList_Account")
	wantInvalid(t, add("u3", ""), "RobotList_Account")
	wantErr(t, add("ghost"), room.ErrAccountNotImported, errcode.AccountNotImported)
	wantErr(t, f.rooms.AddRobots(f.ctx, f.actor, "nope", []string{"u1"}), room.ErrRoomNotFound, errcode.RoomNotFound)
	// A fourth robot is refused and the call changes nothing.
	if err := add("u3"); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, add(testOwner), "")
	if got := robots(); got != "[u1 u2 u3]" {
		t.Errorf("robots after a refused add: %s", got)
	}

	// Deleting twice succeeds; accounts that are not robots are ignored.
	for range 2 {
		if err := f.rooms.DelRobots(f.ctx, f.actor, testRoom, []string{"u1", testOwner}); err != nil {
			t.Fatal(err)
		}
	}
	if got := robots(); got != "[u2 u3]" {
		t.Errorf("robots after delete: %s", got)
	}
	wantErr(t, f.rooms.DelRobots(f.ctx, f.actor, testRoom, []string{"ghost"}), room.ErrAccountNotImported, errcode.AccountNotImported)
	_, err := f.rooms.Robots(f.ctx, testApp, "nope")
	wantErr(t, err, room.ErrRoomNotFound, errcode.RoomNotFound)
	f.wantEvents()
}

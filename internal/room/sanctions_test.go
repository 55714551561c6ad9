package room_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

func TestAdmins(t *testing.T) {
	f := setup(t)
	modify := func(op string, users ...string) error {
		return f.rooms.ModifyAdmin(f.ctx, f.actor, testRoom, users, op)
	}
	if err := modify(webhook.AdminAdd, "u1", "u1", "u2"); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterModifyAdmin)
	if len(evs) == 1 {
		var b webhook.ModifyAdmin
		f.body(evs[0], &b)
		if fmt.Sprint(b.Admin_Account) != "[u1 u2]" || b.OpType != webhook.AdminAdd {
			t.Errorf("callback %s", evs[0].Body)
		}
	}
	// Adding admins again changes nothing: no callback.
	if err := modify(webhook.AdminAdd, "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()
	wantInvalid(t, modify(webhook.AdminAdd, testOwner), "")
	wantErr(t, modify(webhook.AdminAdd, "ghost"), room.ErrAccountNotImported, errcode.AccountNotImported)
	wantInvalid(t, modify("promote", "u3"), "OpType")
	wantInvalid(t, modify(webhook.AdminAdd), "Admin_Account")
	wantInvalid(t, modify(webhook.AdminAdd, "u3", ""), "Admin_Account")
	many := make([]string, room.MaxAdmins+1)
	for i := range many {
		many[i] = fmt.Sprintf("x%d", i)
	}
	wantInvalid(t, modify(webhook.AdminAdd, many...), "Admin_Account")
	wantErr(t, f.rooms.ModifyAdmin(f.ctx, f.actor, "nope", []string{"u1"}, webhook.AdminAdd), room.ErrRoomNotFound, errcode.RoomNotFound)
	f.wantEvents()

	if err := modify(webhook.AdminDelete, "u1", "u3"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterModifyAdmin)
	if admins, err := f.rooms.AdminList(f.ctx, testApp, testRoom); err != nil || fmt.Sprint(admins) != "[u2]" {
		t.Errorf("admins %v, %v", admins, err)
	}
}

func TestMute(t *testing.T) {
	f := setup(t)
	if err := f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u1"}, 60); err != nil {
		t.Fatal(err)
	}
	f.wantEvents() // mutes have no callback
	_, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u1", Text: "hi"})
	wantErr(t, err, room.ErrSenderMuted, errcode.SenderMuted)
	mutes, err := f.rooms.MutedList(f.ctx, testApp, testRoom)
	if err != nil || len(mutes) != 1 || mutes[0].UserID != "u1" || !mutes[0].Until.Equal(f.now.Add(time.Minute)) {
		t.Errorf("mutes %+v, %v", mutes, err)
	}
	// A mute ends on its own.
	f.now = f.now.Add(61 * time.Second)
	if _, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u1", Text: "hi"}); err != nil {
		t.Fatalf("send after the mute ended: %v", err)
	}
	f.wantEvents(webhook.AfterSendMsg)

	wantErr(t, f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"ghost"}, 60), room.ErrAccountNotImported, errcode.AccountNotImported)
	wantInvalid(t, f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u1"}, -1), "MuteTime")
	wantInvalid(t, f.rooms.Mute(f.ctx, f.actor, testRoom, nil, 60), "MemberList_Account")
	// MuteTime 0 lifts a mute.
	if err := f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u2"}, 60); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u2"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u2", Text: "hi"}); err != nil {
		t.Fatalf("send after the mute was lifted: %v", err)
	}
}

func TestBan(t *testing.T) {
	f := setup(t)
	// u3 is in the room as a robot, u1 as a member; the ban removes both and reports u1
	// kicked. A robot never had an Online callback (robots do not enter through the
	// client), so it gets no Offline one either: presence callbacks alternate.
	if err := f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rooms.Enter(f.ctx, f.client("u1"), 1, testRoom); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	if err := f.rooms.Ban(f.ctx, f.actor, testRoom, []string{"u2", "u3", "u1"}, 60, "spam"); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterMemberStateChanged)
	if len(evs) == 1 {
		var b webhook.MemberStateChanged
		f.body(evs[0], &b)
		if len(b.MemberList) != 1 || b.MemberList[0].Member_Account != "u1" || b.EventCause != webhook.CauseKicked {
			t.Errorf("callback %s", evs[0].Body)
		}
	}
	for _, u := range []string{"u1", "u3"} {
		if _, err := f.st.MemberGet(f.ctx, testApp, testRoom, u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s is still in the room after the ban (%v)", u, err)
		}
	}
	// A banned user may neither enter (as a robot too) nor send.
	wantErr(t, f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u2"}), room.ErrBanned, errcode.NoPermission)
	_, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u2", Text: "hi"})
	wantErr(t, err, room.ErrBanned, errcode.NoPermission)
	bans, next, err := f.rooms.BannedList(f.ctx, testApp, testRoom, 0, 0)
	if err != nil || len(bans) != 3 || next != 0 || bans[0].Reason != "spam" {
		t.Errorf("bans %+v next %d, %v", bans, next, err)
	}

	wantInvalid(t, f.rooms.Ban(f.ctx, f.actor, testRoom, []string{testOwner}, 60, ""), "")
	wantInvalid(t, f.rooms.Ban(f.ctx, f.actor, testRoom, []string{"u1"}, 0, ""), "Duration")
	wantErr(t, f.rooms.Ban(f.ctx, f.actor, testRoom, []string{"ghost"}, 60, ""), room.ErrAccountNotImported, errcode.AccountNotImported)
	wantErr(t, f.rooms.Ban(f.ctx, f.actor, "nope", []string{"u1"}, 60, ""), room.ErrRoomNotFound, errcode.RoomNotFound)
	_, _, err = f.rooms.BannedList(f.ctx, testApp, testRoom, 0, room.MaxBanListLimit+1)
	wantInvalid(t, err, "Limit")
	f.wantEvents()

	// Unban lets the user in again; a ban also ends on its own.
	if err := f.rooms.Unban(f.ctx, f.actor, testRoom, []string{"u2", "u1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u2"}); err != nil {
		t.Errorf("add_robot after unban: %v", err)
	}
	f.now = f.now.Add(61 * time.Second)
	if err := f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u3"}); err != nil {
		t.Errorf("add_robot after the ban ended: %v", err)
	}
	if n, err := f.st.MemberCount(f.ctx, testApp, testRoom, store.MembersRobots); err != nil || n != 2 {
		t.Errorf("robots %d, %v", n, err)
	}
}

package room_test

import (
	"fmt"
	"testing"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// The people of the permission tests in testRoom: the owner, two room admins (u2, "admin2")
// and ordinary members (u1, u3).
const admin2 = "admin2"

func setupRoles(t *testing.T) *fixture {
	t.Helper()
	f := setup(t)
	if err := f.st.Tx(f.ctx, func(tx store.Tx) error {
		_, err := tx.AccountUpsert(f.ctx, store.Account{App: testApp, UserID: admin2, CreatedAt: f.now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.ModifyAdmin(f.ctx, f.actor, testRoom, []string{"u2", admin2}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.SetMetadata(f.ctx, f.actor, testRoom, []room.Metadata{{Key: "k", Value: "v"}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{testOwner, "u1", "u2", "u3", admin2} {
		f.addMember(u)
	}
	f.newEvents()
	return f
}

// state is everything of testRoom an operation could change, as text.
func (f *fixture) state() string {
	f.t.Helper()
	ctx, app := f.ctx, uint64(testApp)
	row, err := f.st.RoomGet(ctx, app, testRoom)
	if err != nil {
		return "room: " + err.Error()
	}
	admins, _ := f.st.AdminList(ctx, app, testRoom)
	md, _ := f.st.MetadataList(ctx, app, testRoom, nil)
	mutes, _ := f.st.MuteList(ctx, app, testRoom, f.now)
	bans, _ := f.st.BanList(ctx, store.BanListParams{App: app, RoomID: testRoom, Now: f.now, Limit: 100})
	members, _ := f.st.MemberList(ctx, store.MemberListParams{App: app, RoomID: testRoom, Kind: store.MembersAll, Limit: 100})
	msgs, _ := f.st.MessageList(ctx, store.MessageListParams{App: app, RoomID: testRoom, Limit: 100})
	return fmt.Sprintf("owner %s info %s admins %v metadata %v mutes %d bans %d members %d messages %d",
		row.Owner, row.Info, admins, md, len(mutes), len(bans), len(members), len(msgs))
}

// TestClientRefusedChangesNothing calls every mutating operation as App users whose role is
// too low: each answers 100006 (ErrNoPermission), changes nothing and writes no callback.
func TestClientRefusedChangesNothing(t *testing.T) {
	f := setupRoles(t)
	name := "taken over"
	cases := []struct {
		name string
		call func() error
	}{
		{"destroy by an admin", func() error { _, err := f.rooms.Destroy(f.ctx, f.client("u2"), testRoom); return err }},
		{"destroy by a member", func() error { _, err := f.rooms.Destroy(f.ctx, f.client("u1"), testRoom); return err }},
		{"change owner by an admin", func() error { return f.rooms.ChangeOwner(f.ctx, f.client("u2"), testRoom, "u2") }},
		{"change owner by a member", func() error { return f.rooms.ChangeOwner(f.ctx, f.client("u1"), testRoom, "u3") }},
		{"add admin by an admin", func() error {
			return f.rooms.ModifyAdmin(f.ctx, f.client("u2"), testRoom, []string{"u1"}, webhook.AdminAdd)
		}},
		{"remove admin by an admin", func() error {
			return f.rooms.ModifyAdmin(f.ctx, f.client("u2"), testRoom, []string{admin2}, webhook.AdminDelete)
		}},
		{"update by a member", func() error {
			return f.rooms.Update(f.ctx, f.client("u1"), room.UpdateParams{ID: testRoom, RoomName: &name})
		}},
		{"set metadata by a member", func() error {
			return f.rooms.SetMetadata(f.ctx, f.client("u1"), testRoom, []room.Metadata{{Key: "k", Value: "x"}})
		}},
		{"delete metadata by a member", func() error { return f.rooms.DelMetadata(f.ctx, f.client("u1"), testRoom, []string{"k"}) }},
		{"mute by a member", func() error { return f.rooms.Mute(f.ctx, f.client("u1"), testRoom, []string{"u3"}, 60) }},
		{"mute the owner by an admin", func() error {
			return f.rooms.Mute(f.ctx, f.client("u2"), testRoom, []string{"u1", testOwner}, 60)
		}},
		{"mute the owner by the owner", func() error { return f.rooms.Mute(f.ctx, f.client(testOwner), testRoom, []string{testOwner}, 60) }},
		{"mute an admin by an admin", func() error { return f.rooms.Mute(f.ctx, f.client("u2"), testRoom, []string{admin2}, 60) }},
		{"mute oneself", func() error { return f.rooms.Mute(f.ctx, f.client("u2"), testRoom, []string{"u2"}, 60) }},
		{"unmute by a member", func() error { return f.rooms.Mute(f.ctx, f.client("u1"), testRoom, []string{"u3"}, 0) }},
		{"ban by a member", func() error { return f.rooms.Ban(f.ctx, f.client("u1"), testRoom, []string{"u3"}, 60, "") }},
		{"ban the owner by an admin", func() error {
			return f.rooms.Ban(f.ctx, f.client("u2"), testRoom, []string{"u3", testOwner}, 60, "")
		}},
		{"ban an admin by an admin", func() error { return f.rooms.Ban(f.ctx, f.client("u2"), testRoom, []string{admin2}, 60, "") }},
		{"unban by a member", func() error { return f.rooms.Unban(f.ctx, f.client("u1"), testRoom, []string{"u3"}) }},
		{"add robots by the owner", func() error { return f.rooms.AddRobots(f.ctx, f.client(testOwner), testRoom, []string{"u3"}) }},
		{"delete robots by the owner", func() error { return f.rooms.DelRobots(f.ctx, f.client(testOwner), testRoom, []string{"u3"}) }},
		{"create a room for someone else", func() error {
			_, err := f.rooms.Create(f.ctx, f.client("u1"), room.CreateParams{ID: "r2", Owner: "u3", Info: room.Info{RoomType: "Live"}})
			return err
		}},
		{"send as someone else", func() error {
			_, err := f.msgs.SendText(f.ctx, f.client("u1"), room.TextMessage{RoomID: testRoom, Sender: "u3", Text: "hi"})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.state()
			wantErr(t, c.call(), room.ErrNoPermission, errcode.NoPermission)
			if after := f.state(); after != before {
				t.Errorf("state changed:\n%s\nto\n%s", before, after)
			}
			if evs := f.newEvents(); len(evs) != 0 {
				t.Errorf("%d callbacks written, first %s", len(evs), evs[0].Body)
			}
		})
	}
	if _, err := f.rooms.Get(f.ctx, testApp, "r2"); err == nil {
		t.Error("room r2 was created")
	}
}

// TestClientOwnerAndAdmins does, as App users, what the rules allow, and checks the callbacks
// name the user and its platform.
func TestClientOwnerAndAdmins(t *testing.T) {
	f := setupRoles(t)
	owner, admin := f.client(testOwner), f.client("u2")

	// Room admins manage room info, metadata, mutes and bans of ordinary members.
	name := "by admin"
	if err := f.rooms.Update(f.ctx, admin, room.UpdateParams{ID: testRoom, RoomName: &name}); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterUpdateRoomInfo)
	if len(evs) == 1 {
		var b webhook.UpdateRoom
		f.body(evs[0], &b)
		if b.Operator_Account != "u2" || b.RoomInfo.RoomName != name || evs[0].Platform != "Android" || evs[0].ClientIP != "10.0.0.7" {
			t.Errorf("callback %+v %s", evs[0], evs[0].Body)
		}
	}
	if err := f.rooms.SetMetadata(f.ctx, admin, testRoom, []room.Metadata{{Key: "k2", Value: "v2"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.DelMetadata(f.ctx, admin, testRoom, []string{"k"}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSetMetadata, webhook.AfterDelMetadata)
	if err := f.rooms.Mute(f.ctx, admin, testRoom, []string{"u1"}, 60); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.Mute(f.ctx, admin, testRoom, []string{"u1"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.Ban(f.ctx, admin, testRoom, []string{"u3"}, 60, "spam"); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.Unban(f.ctx, admin, testRoom, []string{"u3"}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterMemberStateChanged)

	// The owner also acts on admins, and manages the admins.
	if err := f.rooms.Mute(f.ctx, owner, testRoom, []string{admin2}, 60); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.ModifyAdmin(f.ctx, owner, testRoom, []string{admin2}, webhook.AdminDelete); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.ModifyAdmin(f.ctx, owner, testRoom, []string{"u1"}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterModifyAdmin, webhook.AfterModifyAdmin)

	// An App user sends as itself; creates rooms for itself.
	if _, err := f.msgs.SendText(f.ctx, f.client("u2"), room.TextMessage{RoomID: testRoom, Sender: "u2", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rooms.Create(f.ctx, f.client("u1"), room.CreateParams{ID: "r2", Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSendMsg, webhook.AfterCreateRoom)

	// Only the owner transfers the room, to a user in the room.
	wantErr(t, f.rooms.ChangeOwner(f.ctx, owner, testRoom, "admin"), room.ErrNotMember, errcode.NotMember)
	if err := f.rooms.ChangeOwner(f.ctx, owner, testRoom, testOwner); err != nil { // no change
		t.Fatal(err)
	}
	f.wantEvents()
	if err := f.rooms.ChangeOwner(f.ctx, owner, testRoom, "u2"); err != nil {
		t.Fatal(err)
	}
	evs = f.wantEvents(webhook.AfterChangeOwner)
	if len(evs) == 1 {
		var b webhook.ChangeOwner
		f.body(evs[0], &b)
		if b.Operator_Account != testOwner || b.OriginalOwner_Account != testOwner || b.CurrentOwner_Account != "u2" || evs[0].Platform != "Android" {
			t.Errorf("callback %+v %s", evs[0], evs[0].Body)
		}
	}
	// The former owner is an ordinary member now.
	wantErr(t, f.rooms.ChangeOwner(f.ctx, owner, testRoom, testOwner), room.ErrNoPermission, errcode.NoPermission)

	// The new owner dissolves the room.
	if _, err := f.rooms.Destroy(f.ctx, f.client("u2"), testRoom); err != nil {
		t.Fatal(err)
	}
	evs = f.wantEvents(webhook.AfterDestroyRoom)
	if len(evs) == 1 {
		var b webhook.DestroyRoom
		f.body(evs[0], &b)
		if b.Operator_Account != "u2" || b.EventType != webhook.DestroyByUser {
			t.Errorf("callback %s", evs[0].Body)
		}
	}
}

// TestChangeOwnerToNonMember: an owner acting through the client cannot hand the room to a
// user who is not in it (100005), nor to one of its robots; an App admin can.
func TestChangeOwnerToNonMember(t *testing.T) {
	f := setup(t)
	wantErr(t, f.rooms.ChangeOwner(f.ctx, f.client(testOwner), testRoom, "u1"), room.ErrNotMember, errcode.NotMember)
	if err := f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u3"}); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	wantErr(t, f.rooms.ChangeOwner(f.ctx, f.client(testOwner), testRoom, "u3"), room.ErrNotMember, errcode.NotMember)
	if after := f.state(); after != before {
		t.Errorf("state changed:\n%s\nto\n%s", before, after)
	}
	f.wantEvents()
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterChangeOwner)
}

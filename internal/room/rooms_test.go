package room_test

import (
	"testing"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/webhook"
)

func TestCreateDefaults(t *testing.T) {
	f := setup(t)
	r, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r2", Info: room.Info{RoomType: "Live"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.rooms.Get(f.ctx, testApp, "r2")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []room.Room{r, got} {
		if x.Owner != testAdmin || x.RoomName != "r2" || x.TakeSeatMode != room.FreeToTake || x.SeatTemplate != room.DefaultSeatTemplate ||
			x.MaxSeatCount != 9 || !x.IsPublicVisible || x.Category == nil || len(x.Category) != 0 || !x.CreateTime.Equal(f.now) {
			t.Errorf("room %+v: defaults not applied", x)
		}
	}
	evs := f.wantEvents(webhook.AfterCreateRoom)
	if len(evs) == 1 {
		var b webhook.CreateRoom
		f.body(evs[0], &b)
		if evs[0].RoomID != "r2" || b.Operator_Account != testAdmin || b.RoomInfo.Owner_Account != testAdmin || b.RoomInfo.RoomName != "r2" {
			t.Errorf("callback %s", evs[0].Body)
		}
	}

	_, err = f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r3", Info: room.Info{RoomType: "Other"}})
	wantInvalid(t, err, "RoomType")
	_, err = f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "", Info: room.Info{RoomType: "Live"}})
	wantInvalid(t, err, "RoomId")
	_, err = f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r3", Info: room.Info{RoomType: "Live", Category: []int{1, 2, 3, 4}}})
	wantInvalid(t, err, "Category")
	f.wantEvents()
}

// TestCreateExisting pins the order of create_room's checks (Tencent gives none): a taken
// RoomId is 100003 (100010 for the same owner) before the owner account is checked, so even
// an owner that is not imported gets 100003 (it used to get 70107).
func TestCreateExisting(t *testing.T) {
	f := setup(t)
	create := func(owner string) error {
		_, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: testRoom, Owner: owner, Info: room.Info{RoomType: "Live"}})
		return err
	}
	wantErr(t, create(testOwner), room.ErrRoomExistsSameOwner, errcode.RoomExistsSameUser)
	wantErr(t, create("u1"), room.ErrRoomExists, errcode.RoomExists)
	wantErr(t, create("ghost"), room.ErrRoomExists, errcode.RoomExists)
	_, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r2", Owner: "ghost", Info: room.Info{RoomType: "Live"}})
	wantErr(t, err, room.ErrAccountNotImported, errcode.AccountNotImported)
	f.wantEvents()
}

func TestCreateQuota(t *testing.T) {
	f := setup(t)
	// testRoom is the app's one room; a quota of 2 lets one more in, which brings the app to
	// 100% of it, above the 70% alert level.
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r2", Info: room.Info{RoomType: "Live"}, RoomQuota: 2}); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterCreateRoom, webhook.AfterCreateRoomReachingThreshold)
	if len(evs) == 2 {
		var b webhook.RoomThreshold
		f.body(evs[1], &b)
		if b.CurRoomCount != 2 || b.MaxRoomCount != 2 {
			t.Errorf("threshold callback %s", evs[1].Body)
		}
	}
	_, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r3", Info: room.Info{RoomType: "Live"}, RoomQuota: 2})
	wantErr(t, err, room.ErrRoomQuotaExceeded, errcode.RoomQuota)
	if _, err := f.rooms.Get(f.ctx, testApp, "r3"); err == nil {
		t.Error("a room beyond the quota was created")
	}
	f.wantEvents()
	// Below the alert level no threshold callback is sent.
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r4", Info: room.Info{RoomType: "Live"}, RoomQuota: 100}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterCreateRoom)
}

func TestChangeOwner(t *testing.T) {
	f := setup(t)
	wantErr(t, f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, "ghost"), room.ErrAccountNotImported, errcode.AccountNotImported)
	wantErr(t, f.rooms.ChangeOwner(f.ctx, f.actor, "nope", "u1"), room.ErrRoomNotFound, errcode.RoomNotFound)
	wantInvalid(t, f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, ""), "NewOwner_Account")
	// Naming the current owner changes nothing and sends nothing.
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, testOwner); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()

	if err := f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, "u1"); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterChangeOwner)
	if len(evs) == 1 {
		var b webhook.ChangeOwner
		f.body(evs[0], &b)
		if b.RoomId != testRoom || b.OriginalOwner_Account != testOwner || b.CurrentOwner_Account != "u1" || b.Operator_Account != testAdmin {
			t.Errorf("callback %s", evs[0].Body)
		}
	}
	if r, err := f.rooms.Get(f.ctx, testApp, testRoom); err != nil || r.Owner != "u1" {
		t.Errorf("owner after change: %+v, %v", r, err)
	}
}

func TestDestroy(t *testing.T) {
	f := setup(t)
	if _, err := f.rooms.Destroy(f.ctx, f.actor, testRoom); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterDestroyRoom)
	if len(evs) == 1 {
		var b webhook.DestroyRoom
		f.body(evs[0], &b)
		if b.RoomId != testRoom || b.RoomInfo.Owner_Account != testOwner {
			t.Errorf("callback %s", evs[0].Body)
		}
	}
	_, err := f.rooms.Get(f.ctx, testApp, testRoom)
	wantErr(t, err, room.ErrRoomNotFound, errcode.RoomNotFound)
	_, err = f.rooms.Destroy(f.ctx, f.actor, testRoom)
	wantErr(t, err, room.ErrRoomNotFound, errcode.RoomNotFound)
	_, err = f.rooms.Stats(f.ctx, testApp, testRoom)
	wantErr(t, err, room.ErrRoomNotFound, errcode.RoomNotFound)
	f.wantEvents()
}

func TestUpdate(t *testing.T) {
	f := setup(t)
	name := "Renamed"
	if err := f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: testRoom, RoomName: &name}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterUpdateRoomInfo)
	// No updatable field: success, no callback.
	if err := f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: testRoom}); err != nil {
		t.Fatal(err)
	}
	mode := "Sometimes"
	wantInvalid(t, f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: testRoom, TakeSeatMode: &mode}), "TakeSeatMode")
	wantErr(t, f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: "nope", RoomName: &name}), room.ErrRoomNotFound, errcode.RoomNotFound)
	f.wantEvents()
	if r, _ := f.rooms.Get(f.ctx, testApp, testRoom); r.RoomName != name || r.TakeSeatMode != room.FreeToTake {
		t.Errorf("room after updates: %+v", r)
	}
}

// TestChangeOwnerEndsTheNewOwnersAdminRole pins that an admin who becomes the owner stops
// being an admin, so it keeps no admin powers after handing the room on.
func TestChangeOwnerEndsTheNewOwnersAdminRole(t *testing.T) {
	f := setup(t)
	if err := f.rooms.ModifyAdmin(f.ctx, f.actor, testRoom, []string{"u2"}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, "u2"); err != nil {
		t.Fatal(err)
	}
	admins, err := f.rooms.AdminList(f.ctx, testApp, testRoom)
	if err != nil {
		t.Fatal(err)
	}
	if len(admins) != 0 {
		t.Errorf("admins after u2 became owner = %v, want none", admins)
	}
	f.wantEvents(webhook.AfterModifyAdmin, webhook.AfterChangeOwner)
}

// An update that changes nothing publishes nothing, unless it is REST's explicit write
// (CallbackUnchanged): then the callback goes, marked Unchanged so clients are told nothing.
// A change of IsMessageDisabled is marked for its own push.
func TestUpdateThatChangesNothing(t *testing.T) {
	f := setup(t)
	var seen []room.RoomInfoChanged
	f.rooms.SetObserver(func(ev room.Event) {
		if e, ok := ev.(room.RoomInfoChanged); ok {
			seen = append(seen, e)
		}
	})
	on, name := true, testRoom // the default name is the room id
	owner := f.client(testOwner)
	if err := f.rooms.Update(f.ctx, owner, room.UpdateParams{ID: testRoom, IsMessageDisabled: &on}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterUpdateRoomInfo)
	if len(seen) != 1 || !seen[0].MessageDisabledChanged || seen[0].Unchanged {
		t.Fatalf("observed %+v, want one change of IsMessageDisabled", seen)
	}
	// The same values again, through the client: nothing.
	for _, p := range []room.UpdateParams{{ID: testRoom, IsMessageDisabled: &on}, {ID: testRoom, RoomName: &name, IsMessageDisabled: &on}} {
		if err := f.rooms.Update(f.ctx, owner, p); err != nil {
			t.Fatal(err)
		}
	}
	f.wantEvents()
	if len(seen) != 1 {
		t.Errorf("observed %d events, want no more", len(seen))
	}
	// Through REST: called back, but unchanged for the clients.
	if err := f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: testRoom, IsMessageDisabled: &on, CallbackUnchanged: true}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterUpdateRoomInfo)
	if len(seen) != 2 || !seen[1].Unchanged || seen[1].MessageDisabledChanged || !seen[1].Room.IsMessageDisabled {
		t.Errorf("REST's explicit write observed as %+v", seen[1:])
	}
	// Another field changes: IsMessageDisabled did not.
	other := "Renamed"
	if err := f.rooms.Update(f.ctx, owner, room.UpdateParams{ID: testRoom, RoomName: &other, IsMessageDisabled: &on}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterUpdateRoomInfo)
	if len(seen) != 3 || seen[2].Unchanged || seen[2].MessageDisabledChanged {
		t.Errorf("a rename observed as %+v", seen[2:])
	}
}

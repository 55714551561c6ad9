package room_test

import (
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// battleRooms creates rooms p1, p2, p3 owned by u1, u2, u3 (r1 of the fixture is owner's).
func battleRooms(f *fixture) {
	f.t.Helper()
	for _, u := range []string{"u1", "u2", "u3"} {
		if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "p" + u[1:], Owner: u, Info: room.Info{RoomType: "Live"}}); err != nil {
			f.t.Fatal(err)
		}
	}
	f.newEvents()
}

func (f *fixture) runDue(want int) {
	f.t.Helper()
	n, err := f.rooms.RunDueBattles(f.ctx)
	if err != nil || n != want {
		f.t.Fatalf("RunDueBattles = %d, %v; want %d", n, err, want)
	}
}

// Hosts answer from their own rooms only; the battle starts once nobody is left to answer,
// with only the rooms that joined; a host in another battle cannot join.
func TestBattleAnswers(t *testing.T) {
	f := setup(t)
	battleRooms(f)
	// An App user creates only from a room it owns.
	_, _, err := f.rooms.CreateBattle(f.ctx, f.client("u2"), room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{"p2"}, Duration: time.Minute})
	wantErr(t, err, room.ErrNoPermission, errcode.NoPermission)
	b, res, err := f.rooms.CreateBattle(f.ctx, f.client("u1"), room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{"p2", "p3"},
		Duration: time.Minute, NeedResponse: true})
	if err != nil || len(res) != 2 || b.Timeout != room.DefaultBattleTimeout {
		t.Fatalf("CreateBattle = %+v, %+v, %v", b, res, err)
	}
	f.wantEvents(webhook.AfterCreateBattle)
	// u3 may not answer for p2, nor anyone for the inviting room.
	wantErr(t, f.rooms.AnswerBattle(f.ctx, f.client("u3"), b.ID, "p2", true), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.AnswerBattle(f.ctx, f.client("u1"), b.ID, "p1", true), room.ErrBattleState, errcode.NoPermission)
	wantErr(t, f.rooms.AnswerBattle(f.ctx, f.client("u2"), "nope", "p2", true), room.ErrBattleNotFound, errcode.LiveInvalid)

	// p3 is busy elsewhere: it cannot accept, so it rejects.
	if _, _, err := f.rooms.CreateBattle(f.ctx, f.actor, room.CreateBattleParams{FromRoomID: "p3", ToRoomIDs: []string{testRoom}, Duration: time.Minute}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterCreateBattle, webhook.AfterStartBattle)
	wantErr(t, f.rooms.AnswerBattle(f.ctx, f.client("u3"), b.ID, "p3", true), room.ErrRoomInBattle, errcode.NoPermission)
	if err := f.rooms.AnswerBattle(f.ctx, f.client("u2"), b.ID, "p2", true); err != nil {
		t.Fatal(err)
	}
	f.wantEvents() // p3 has still to answer
	if err := f.rooms.AnswerBattle(f.ctx, f.client("u3"), b.ID, "p3", false); err != nil {
		t.Fatal(err)
	}
	var start webhook.StartBattle
	f.body(f.wantEvents(webhook.AfterStartBattle)[0], &start)
	if len(start.ToRoomList) != 1 || start.ToRoomList[0].RoomId != "p2" || start.ToRoomList[0].Owner_Account != "u2" {
		t.Errorf("start callback ToRoomList %+v, want only p2", start.ToRoomList)
	}
	got, _ := f.rooms.GetBattle(f.ctx, testApp, b.ID, "")
	if got.Status != store.BattleRunning || len(got.Opponents()) != 1 {
		t.Errorf("battle %+v", got)
	}
}

// A running battle of three rooms goes on when one host exits and ends (OpType 1) when
// fewer than two rooms are left.
func TestBattleExits(t *testing.T) {
	f := setup(t)
	battleRooms(f)
	b, _, err := f.rooms.CreateBattle(f.ctx, f.actor, room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{"p2", "p3"}, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterCreateBattle, webhook.AfterStartBattle)
	var seen []room.Event
	f.rooms.SetObserver(func(ev room.Event) { seen = append(seen, ev) })
	if err := f.rooms.ExitBattle(f.ctx, f.client("u2"), b.ID, "p2"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()
	wantErr(t, f.rooms.ExitBattle(f.ctx, f.client("u2"), b.ID, "p2"), room.ErrBattleState, errcode.NoPermission)
	f.now = f.now.Add(10 * time.Second)
	if err := f.rooms.ExitBattle(f.ctx, f.client("u1"), b.ID, "p1"); err != nil {
		t.Fatal(err)
	}
	var end webhook.EndBattle
	f.body(f.wantEvents(webhook.AfterEndBattle)[0], &end)
	if end.OpType != webhook.BattleEndAllLeft || end.EndTime != f.now.Unix() || len(end.ToRoomList) != 2 {
		t.Errorf("end %+v", end)
	}
	if len(seen) != 3 {
		t.Fatalf("observed %d events, want exit, exit, end", len(seen))
	}
	if _, ok := seen[2].(room.BattleEnded); !ok {
		t.Errorf("last event %T", seen[2])
	}
	// An ended battle takes no more exits, answers or scores, and its timer is gone.
	wantErr(t, f.rooms.ExitBattle(f.ctx, f.client("u3"), b.ID, "p3"), room.ErrBattleState, errcode.NoPermission)
	_, err = f.rooms.SetBattleScores(f.ctx, f.actor, b.ID, true, []room.BattleScore{{RoomID: "p3", Score: 1}})
	wantErr(t, err, room.ErrBattleState, errcode.NoPermission)
	f.now = f.now.Add(time.Hour)
	f.runDue(0)
}

// When the time to answer runs out, the rooms that did not answer time out; the battle
// starts with those that joined, and its end timer then runs from the start.
func TestBattleTimeoutStartsWithThoseWhoJoined(t *testing.T) {
	f := setup(t)
	battleRooms(f)
	b, _, err := f.rooms.CreateBattle(f.ctx, f.actor, room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{"p2", "p3"},
		Duration: 30 * time.Second, Timeout: 5 * time.Second, NeedResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.AnswerBattle(f.ctx, f.client("u3"), b.ID, "p3", true); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterCreateBattle)
	f.now = f.now.Add(4 * time.Second)
	f.runDue(0)
	f.now = f.now.Add(time.Second)
	f.runDue(1)
	var start webhook.StartBattle
	f.body(f.wantEvents(webhook.AfterStartBattle)[0], &start)
	if start.StartTime != f.now.Unix() || len(start.ToRoomList) != 1 || start.ToRoomList[0].RoomId != "p3" {
		t.Errorf("start %+v", start)
	}
	got, _ := f.rooms.GetBattle(f.ctx, testApp, "", "p3")
	if got.ID != b.ID || got.Rooms[1].State != store.BattleRoomTimedOut {
		t.Errorf("battle by room %+v", got)
	}
	f.now = f.now.Add(29 * time.Second)
	f.runDue(0)
	f.now = f.now.Add(time.Second)
	f.runDue(1)
	var end webhook.EndBattle
	f.body(f.wantEvents(webhook.AfterEndBattle)[0], &end)
	if end.OpType != webhook.BattleEndTimeUp || end.EndTime-end.StartTime != 30 {
		t.Errorf("end %+v", end)
	}
}

// A destroyed room leaves its battles as its host exiting would, before its own destroy
// callback: an invited room declines (here the battle then starts with the room that
// joined), a room in a running battle exits and the battle ends with OpType 1 once fewer
// than two rooms are left, the inviting room withdraws a battle that has not started
// (OpType 2). The callbacks carry the destroyer's platform.
func TestBattleEndsWhenRoomDestroyed(t *testing.T) {
	f := setup(t)
	battleRooms(f)
	b, _, err := f.rooms.CreateBattle(f.ctx, f.actor, room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{"p2", "p3"},
		Duration: time.Minute, NeedResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.AnswerBattle(f.ctx, f.client("u3"), b.ID, "p3", true); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterCreateBattle)
	var seen []room.Event
	f.rooms.SetObserver(func(ev room.Event) { seen = append(seen, ev) })

	// The admin destroys p2, still asked: it declines and the battle starts with p3.
	if _, err := f.rooms.Destroy(f.ctx, f.actor, "p2"); err != nil {
		t.Fatal(err)
	}
	var start webhook.StartBattle
	f.body(f.wantEvents(webhook.AfterStartBattle, webhook.AfterDestroyRoom)[0], &start)
	if len(start.ToRoomList) != 1 || start.ToRoomList[0].RoomId != "p3" {
		t.Errorf("start %+v, want p3 only", start)
	}
	wantTypes(t, seen, "BattleAnswered", "BattleStarted", "RoomDismissed")
	seen = nil

	// p3's owner destroys its room through the client: the battle is down to one room.
	f.now = f.now.Add(10 * time.Second)
	if _, err := f.rooms.Destroy(f.ctx, f.client("u3"), "p3"); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterEndBattle, webhook.AfterDestroyRoom)
	var end webhook.EndBattle
	f.body(evs[0], &end)
	if end.OpType != webhook.BattleEndAllLeft || end.EndTime != f.now.Unix() || len(end.ToRoomList) != 1 || end.ToRoomList[0].RoomId != "p3" {
		t.Errorf("end %+v", end)
	}
	if evs[0].Platform != "Android" || evs[0].RoomID != "p1" {
		t.Errorf("end callback from platform %q ordered with room %q, want Android, p1", evs[0].Platform, evs[0].RoomID)
	}
	wantTypes(t, seen, "BattleRoomExited", "BattleEnded", "RoomDismissed")
	if got, _ := f.rooms.GetBattle(f.ctx, testApp, b.ID, ""); got.Status != store.BattleEnded {
		t.Errorf("battle %+v, want ended", got)
	}
	f.now = f.now.Add(time.Hour)
	f.runDue(0)

	// A requested battle is withdrawn when its inviting room goes; a room no battle
	// concerns any more is destroyed with its destroy callback only.
	b, _, err = f.rooms.CreateBattle(f.ctx, f.actor, room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{testRoom},
		Duration: time.Minute, NeedResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	if _, err := f.rooms.Destroy(f.ctx, f.actor, "p1"); err != nil {
		t.Fatal(err)
	}
	f.body(f.wantEvents(webhook.AfterEndBattle, webhook.AfterDestroyRoom)[0], &end)
	if end.OpType != webhook.BattleEndNotStarted || end.StartTime != 0 {
		t.Errorf("end of a withdrawn battle %+v", end)
	}
	if _, err := f.rooms.Destroy(f.ctx, f.actor, testRoom); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterDestroyRoom)
}

// A room dissolved by the system ends its battle too, as the system.
func TestBattleEndsWhenRoomDissolved(t *testing.T) {
	f, _ := liveSetup(t, room.Lifetimes{NoUsers: time.Minute})
	battleRooms(f)
	b, _, err := f.rooms.CreateBattle(f.ctx, f.actor, room.CreateBattleParams{FromRoomID: "p1", ToRoomIDs: []string{"p2"}, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The hosts of p1 and p3 stay; p2's leaves.
	for i, u := range []string{"u1", "u2", "u3"} {
		if _, err := f.rooms.Enter(f.ctx, f.client(u), room.ConnID(i+1), "p"+u[1:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.rooms.Exit(f.ctx, f.client("u2"), 2, "p2"); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	f.now = f.now.Add(time.Minute)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v; want p2 dissolved", n, err)
	}
	evs := f.wantEvents(webhook.AfterEndBattle, webhook.AfterDestroyRoom)
	var end webhook.EndBattle
	f.body(evs[0], &end)
	if end.BattleId != b.ID || end.OpType != webhook.BattleEndAllLeft || evs[0].Platform != webhook.PlatformUnknown {
		t.Errorf("end %+v from platform %q", end, evs[0].Platform)
	}
}

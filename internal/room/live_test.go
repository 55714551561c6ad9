package room_test

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Live presence (live.go, doc.go's state machine) on a real SQLite file with a manual clock.

const testGrace = 30 * time.Second

// newRoomService returns a room service on st whose every After-callback is on, as setup's
// is; a second one on the same file is how a test restarts roomd.
func newRoomService(st store.Store, clock func() time.Time) *room.Service {
	configs := webhook.NewConfigs()
	configs.Update(testApp, func(c *webhook.Config) {
		c.URL = "http://127.0.0.1:9/callback"
		for _, cmd := range webhook.Commands {
			if !cmd.IsBefore() {
				c.Commands = append(c.Commands, string(cmd))
			}
		}
	})
	return room.NewService(st, webhook.NewOutbox(configs, clock, nil), clock)
}

// liveRec records the events a service observes.
type liveRec struct {
	mu     sync.Mutex
	events []room.Event
}

func (r *liveRec) add(ev room.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *liveRec) take() []room.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

// liveSetup is setup with a grace period, the given lifetimes and a recording observer.
func liveSetup(t *testing.T, lt room.Lifetimes) (*fixture, *liveRec) {
	f := setup(t)
	f.rooms.SetLiveOptions(room.LiveOptions{Grace: testGrace, Lifetimes: func(uint64) room.Lifetimes { return lt }})
	rec := &liveRec{}
	f.rooms.SetObserver(rec.add)
	return f, rec
}

// restart replaces f.rooms by a new service on the same file, as a new process would have,
// and returns its recorder.
func (f *fixture) restart(lt room.Lifetimes) *liveRec {
	f.rooms = newRoomService(f.st, func() time.Time { return f.now })
	f.rooms.SetLiveOptions(room.LiveOptions{Grace: testGrace, Lifetimes: func(uint64) room.Lifetimes { return lt }})
	rec := &liveRec{}
	f.rooms.SetObserver(rec.add)
	return rec
}

// state is one Live.CallbackAfterMemberStateChanged.
type state struct {
	Room, Type, Cause string
	Users             []string
}

// wantStates checks that exactly the given member-state callbacks (and no other callback)
// were emitted since the last check.
func (f *fixture) wantStates(want ...state) {
	f.t.Helper()
	var got []state
	for _, e := range f.newEvents() {
		if e.Command != string(webhook.AfterMemberStateChanged) {
			got = append(got, state{Type: "other command " + e.Command})
			continue
		}
		var b webhook.MemberStateChanged
		f.body(e, &b)
		s := state{Room: b.RoomId, Type: b.EventType, Cause: b.EventCause}
		for _, m := range b.MemberList {
			s.Users = append(s.Users, m.Member_Account)
		}
		slices.Sort(s.Users)
		got = append(got, s)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("member state callbacks\n got %+v\nwant %+v", got, want)
	}
}

func online(room, cause string, users ...string) state {
	return state{Room: room, Type: webhook.MemberOnline, Cause: cause, Users: users}
}

func offline(room, cause string, users ...string) state {
	return state{Room: room, Type: webhook.MemberOffline, Cause: cause, Users: users}
}

// wantTypes checks the types of the observed events, in order.
func wantTypes(t *testing.T, evs []room.Event, want ...string) {
	t.Helper()
	if got := typeNames(evs); !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

// find returns the first observed event of type T.
func find[T room.Event](t *testing.T, evs []room.Event) T {
	t.Helper()
	for _, ev := range evs {
		if e, ok := ev.(T); ok {
			return e
		}
	}
	var zero T
	t.Fatalf("no %T among %v", zero, typeNames(evs))
	return zero
}

func (f *fixture) enter(user string, conn room.ConnID) {
	f.t.Helper()
	if _, err := f.rooms.Enter(f.ctx, f.client(user), conn, testRoom); err != nil {
		f.t.Fatalf("%s enters on %d: %v", user, conn, err)
	}
}

func (f *fixture) isMember(user string) bool {
	f.t.Helper()
	_, err := f.st.MemberGet(f.ctx, testApp, testRoom, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) isLost(user string) bool {
	f.t.Helper()
	_, err := f.st.LostMemberGet(f.ctx, testApp, testRoom, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

func TestEnterAndExit(t *testing.T) {
	f, rec := liveSetup(t, room.Lifetimes{})
	r, err := f.rooms.Enter(f.ctx, f.client("u1"), 1, testRoom)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != testRoom || r.Owner != testOwner {
		t.Errorf("Enter returned room %s of %s", r.ID, r.Owner)
	}
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"))
	evs := rec.take()
	wantTypes(t, evs, "MembersOnline", "ConnEntered")
	if on := find[room.MembersOnline](t, evs); !slices.Equal(on.Users, []string{"u1"}) || on.Cause != webhook.CauseEnter {
		t.Errorf("MembersOnline %+v", on)
	}
	if ce := find[room.ConnEntered](t, evs); ce.Conn != 1 || ce.UserID != "u1" {
		t.Errorf("ConnEntered %+v", ce)
	}
	if !f.isMember("u1") {
		t.Error("u1 is not a member after entering")
	}
	got, _ := f.rooms.Get(f.ctx, testApp, testRoom)
	if got.ViewCount != 1 {
		t.Errorf("ViewCount %d after one entry, want 1", got.ViewCount)
	}

	// A second connection of the same user: no callback, the connection joins.
	f.enter("u1", 2)
	f.wantStates()
	wantTypes(t, rec.take(), "ConnEntered")
	// Entering again on the same connection changes nothing and is no error.
	f.enter("u1", 2)
	f.wantStates()
	wantTypes(t, rec.take())

	// One of two connections exits: the user stays.
	if err := f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	wantTypes(t, rec.take(), "ConnsLeft")
	if !f.isMember("u1") {
		t.Error("u1 left with a connection still in the room")
	}
	wantErr(t, f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom), room.ErrNotMember, errcode.NotMember)

	// The last one exits: Offline/Leave.
	if err := f.rooms.Exit(f.ctx, f.client("u1"), 2, testRoom); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseLeave, "u1"))
	evs = rec.take()
	wantTypes(t, evs, "MembersOffline", "ConnsLeft")
	if f.isMember("u1") || f.isLost("u1") {
		t.Error("u1 is still a member (or lost) after leaving")
	}

	// A clean disconnect is a leave too, in every room the connection is in.
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r2", Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	f.enter("u1", 3)
	if _, err := f.rooms.Enter(f.ctx, f.client("u1"), 3, "r2"); err != nil {
		t.Fatal(err)
	}
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"), online("r2", webhook.CauseEnter, "u1"))
	rec.take()
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 3, true); err != nil {
		t.Fatal(err)
	}
	got2 := f.newEvents()
	if len(got2) != 2 {
		t.Fatalf("%d callbacks after a clean disconnect from two rooms, want 2", len(got2))
	}
	rooms := map[string]string{}
	for _, e := range got2 {
		var b webhook.MemberStateChanged
		f.body(e, &b)
		rooms[b.RoomId] = b.EventType + "/" + b.EventCause
	}
	if rooms[testRoom] != "Offline/Leave" || rooms["r2"] != "Offline/Leave" {
		t.Errorf("clean disconnect: %v", rooms)
	}
	// Disconnecting a connection that is in no room does nothing.
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 3, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates()

	// Entering a room that does not exist.
	_, err = f.rooms.Enter(f.ctx, f.client("u1"), 4, "nope")
	wantErr(t, err, room.ErrRoomNotFound, errcode.RoomNotFound)
	f.wantStates()
}

func TestHeartbeatLossAndRecovery(t *testing.T) {
	f, rec := liveSetup(t, room.Lifetimes{})
	f.enter("u1", 1)
	f.enter("u1", 2)
	f.newEvents()
	rec.take()

	// One of two connections loses its heartbeat: nothing.
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 1, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	// The last one: Offline/HeartbeatInterrupt and a lost record.
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 2, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1"))
	wantTypes(t, rec.take(), "ConnsLeft", "MembersOffline", "ConnsLeft")
	if f.isMember("u1") || !f.isLost("u1") {
		t.Fatalf("after losing the heartbeat: member %v, lost %v; want lost only", f.isMember("u1"), f.isLost("u1"))
	}

	// Back within the grace period: Online/HeartbeatRecover, and no new view.
	f.now = f.now.Add(testGrace - time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	f.enter("u1", 3)
	f.wantStates(online(testRoom, webhook.CauseHeartbeatRecover, "u1"))
	if f.isLost("u1") || !f.isMember("u1") {
		t.Error("u1 is not back as a member")
	}
	if r, _ := f.rooms.Get(f.ctx, testApp, testRoom); r.ViewCount != 1 {
		t.Errorf("ViewCount %d, want 1 (a recovery is no new view)", r.ViewCount)
	}

	// Lost again; the grace period ends and RunDue forgets the record silently.
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 3, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1"))
	rec.take()
	f.now = f.now.Add(testGrace + time.Second)
	if _, err := f.rooms.RunDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	wantTypes(t, rec.take())
	if f.isLost("u1") {
		t.Error("the lost record outlived the grace period")
	}
	f.enter("u1", 4)
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"))

	// After the grace period but before RunDue ran, coming back is an Enter too.
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 4, false); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(testGrace + time.Second)
	f.enter("u1", 5)
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1"), online(testRoom, webhook.CauseEnter, "u1"))
	if f.isLost("u1") {
		t.Error("the stale lost record was not removed by entering")
	}

	// A lost user who exits cleanly on a connection that is no longer in the room: not a member.
	wantErr(t, f.rooms.Exit(f.ctx, f.client("u1"), 4, testRoom), room.ErrNotMember, errcode.NotMember)
}

func TestKickLive(t *testing.T) {
	f, rec := liveSetup(t, room.Lifetimes{})
	if err := f.rooms.ModifyAdmin(f.ctx, f.actor, testRoom, []string{"u2", "u3"}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	f.enter("u1", 1)
	f.enter("u1", 2)
	f.enter("u2", 3)
	f.enter("u3", 4)
	f.enter(testOwner, 5)
	f.newEvents()
	rec.take()

	// A member kicks nobody; an admin kicks neither an admin nor the owner; nobody kicks itself.
	wantErr(t, f.rooms.Kick(f.ctx, f.client("u1"), testRoom, "u2"), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.Kick(f.ctx, f.client("u2"), testRoom, "u3"), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.Kick(f.ctx, f.client("u2"), testRoom, testOwner), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.Kick(f.ctx, f.actor, testRoom, testOwner), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.Kick(f.ctx, f.client(testOwner), testRoom, testOwner), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.Kick(f.ctx, f.client("u2"), testRoom, "ghost"), room.ErrNotMember, errcode.NotMember)
	wantInvalid(t, f.rooms.Kick(f.ctx, f.client("u2"), testRoom, ""), "userId")
	f.wantStates()
	wantTypes(t, rec.take())

	// An admin kicks a member with two connections.
	if err := f.rooms.Kick(f.ctx, f.client("u2"), testRoom, "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseKicked, "u1"))
	evs := rec.take()
	if k := find[room.UserKicked](t, evs); k.UserID != "u1" || k.Operator != "u2" {
		t.Errorf("UserKicked %+v", k)
	}
	left := find[room.ConnsLeft](t, evs)
	slices.Sort(left.Conns)
	if !slices.Equal(left.Conns, []room.ConnID{1, 2}) {
		t.Errorf("ConnsLeft %v, want [1 2]", left.Conns)
	}
	if off := find[room.MembersOffline](t, evs); off.Cause != webhook.CauseKicked || !slices.Equal(off.Users, []string{"u1"}) {
		t.Errorf("MembersOffline %+v", off)
	}
	if f.isMember("u1") || f.isLost("u1") {
		t.Error("u1 is still in the room")
	}
	// Its connections are out: exiting on them is an error, disconnecting does nothing.
	wantErr(t, f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom), room.ErrNotMember, errcode.NotMember)
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 2, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	// Kicking it again: not a member.
	wantErr(t, f.rooms.Kick(f.ctx, f.client("u2"), testRoom, "u1"), room.ErrNotMember, errcode.NotMember)

	// The owner kicks an admin.
	if err := f.rooms.Kick(f.ctx, f.client(testOwner), testRoom, "u3"); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseKicked, "u3"))

	// A lost member is kicked: forgotten, no second Offline; it comes back with Enter.
	f.enter("u1", 6)
	if err := f.rooms.Disconnect(f.ctx, f.client("u1"), 6, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"), offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1"))
	rec.take()
	if err := f.rooms.Kick(f.ctx, f.actor, testRoom, "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	evs = rec.take()
	wantTypes(t, evs, "UserKicked")
	if f.isLost("u1") {
		t.Error("the kicked lost member is still lost")
	}
	f.enter("u1", 7)
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"))
}

func TestBanLive(t *testing.T) {
	f, rec := liveSetup(t, room.Lifetimes{})
	f.enter("u1", 1)
	f.enter("u1", 2)
	f.enter("u2", 3)
	f.newEvents()
	rec.take()
	// Both at once: u1 online, u2 lost.
	if err := f.rooms.Disconnect(f.ctx, f.client("u2"), 3, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u2"))
	rec.take()
	if err := f.rooms.Ban(f.ctx, f.actor, testRoom, []string{"u1", "u2"}, 60, "spam"); err != nil {
		t.Fatal(err)
	}
	f.wantStates(offline(testRoom, webhook.CauseKicked, "u1"))
	evs := rec.take()
	var kicked []string
	for _, ev := range evs {
		if k, ok := ev.(room.UserKicked); ok {
			kicked = append(kicked, k.UserID)
			if k.Reason != "spam" {
				t.Errorf("UserKicked reason %q", k.Reason)
			}
		}
	}
	slices.Sort(kicked)
	if !slices.Equal(kicked, []string{"u1", "u2"}) {
		t.Errorf("UserKicked for %v, want [u1 u2]", kicked)
	}
	left := find[room.ConnsLeft](t, evs)
	slices.Sort(left.Conns)
	if !slices.Equal(left.Conns, []room.ConnID{1, 2}) {
		t.Errorf("ConnsLeft %v, want [1 2]", left.Conns)
	}
	if f.isMember("u1") || f.isLost("u2") {
		t.Error("a banned user is still in the room")
	}
	wantErr(t, f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom), room.ErrNotMember, errcode.NotMember)
	_, err := f.rooms.Enter(f.ctx, f.client("u1"), 1, testRoom)
	wantErr(t, err, room.ErrBanned, errcode.NoPermission)
	f.wantStates()
	// When the ban ends, the user enters again.
	f.now = f.now.Add(61 * time.Second)
	f.enter("u1", 1)
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"))
}

func TestDestroyDropsConnections(t *testing.T) {
	f, rec := liveSetup(t, room.Lifetimes{})
	f.enter("u1", 1)
	f.enter("u2", 2)
	f.newEvents()
	rec.take()
	wantErr(t, func() error { _, err := f.rooms.Destroy(f.ctx, f.client("u1"), testRoom); return err }(), room.ErrNoPermission, errcode.NoPermission)
	if _, err := f.rooms.Destroy(f.ctx, f.client(testOwner), testRoom); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterDestroyRoom)
	evs := rec.take()
	wantTypes(t, evs, "RoomDismissed")
	if d := evs[0].(room.RoomDismissed); d.BySystem || d.Operator != testOwner {
		t.Errorf("RoomDismissed %+v", d)
	}
	// The connections are out of the room: no callback when they go.
	wantErr(t, f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom), room.ErrNotMember, errcode.NotMember)
	if err := f.rooms.Disconnect(f.ctx, f.client("u2"), 2, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	wantTypes(t, rec.take())
	// A room of the same id starts afresh.
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: testRoom, Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	f.enter("u2", 2)
	f.wantStates(online(testRoom, webhook.CauseEnter, "u2"))
}

func TestRecoverPresence(t *testing.T) {
	f, _ := liveSetup(t, room.Lifetimes{})
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "r2", Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u3"}); err != nil {
		t.Fatal(err)
	}
	f.enter("u1", 1)
	f.enter("u1", 2)
	f.enter("u2", 3)
	if _, err := f.rooms.Enter(f.ctx, f.client("u1"), 1, "r2"); err != nil {
		t.Fatal(err)
	}
	f.newEvents()

	// The process dies; the next one recovers.
	f.now = f.now.Add(5 * time.Second)
	rec := f.restart(room.Lifetimes{})
	n, err := f.rooms.RecoverPresence(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("RecoverPresence moved %d members, want 3 (u1, u2 in %s; u1 in r2)", n, testRoom)
	}
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1", "u2"), offline("r2", webhook.CauseHeartbeatInterrupt, "u1"))
	for _, ev := range rec.take() {
		if off, ok := ev.(room.MembersOffline); ok && off.Operator != room.SystemOperator {
			t.Errorf("MembersOffline by %q", off.Operator)
		}
	}
	if !f.isLost("u1") || !f.isLost("u2") || f.isMember("u1") {
		t.Error("the members were not moved to lost")
	}
	if m, err := f.st.MemberGet(f.ctx, testApp, testRoom, "u3"); err != nil || !m.IsRobot {
		t.Errorf("the robot: %+v, %v; want it still in the room", m, err)
	}
	// Nothing more to recover.
	if n, err := f.rooms.RecoverPresence(f.ctx); err != nil || n != 0 {
		t.Errorf("second RecoverPresence = %d, %v", n, err)
	}
	f.wantStates()

	// u1 reconnects within the grace period; u2 does not.
	f.now = f.now.Add(testGrace / 2)
	f.enter("u1", 1)
	f.wantStates(online(testRoom, webhook.CauseHeartbeatRecover, "u1"))
	f.now = f.now.Add(testGrace)
	if _, err := f.rooms.RunDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	f.enter("u2", 2)
	f.wantStates(online(testRoom, webhook.CauseEnter, "u2"))
}

// TestRecoverPresenceManyMembers: a room whose members span several pages of the recovery
// still gets one callback.
func TestRecoverPresenceManyMembers(t *testing.T) {
	f, _ := liveSetup(t, room.Lifetimes{})
	var users []string
	if err := f.st.Tx(f.ctx, func(tx store.Tx) error {
		for i := range 600 {
			u := "m" + string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
			users = append(users, u)
			if _, err := tx.AccountUpsert(f.ctx, store.Account{App: testApp, UserID: u, CreatedAt: f.now}); err != nil {
				return err
			}
			if _, err := tx.MemberAdd(f.ctx, store.Member{App: testApp, RoomID: testRoom, UserID: u, JoinedAt: f.now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.restart(room.Lifetimes{})
	if n, err := f.rooms.RecoverPresence(f.ctx); err != nil || n != 600 {
		t.Fatalf("RecoverPresence = %d, %v", n, err)
	}
	slices.Sort(users)
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, users...))
}

func TestAutoDissolveNoUsers(t *testing.T) {
	lt := room.Lifetimes{NoUsers: time.Minute}
	f, rec := liveSetup(t, lt)
	f.enter("u1", 1)
	if err := f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	rec.take()
	due := f.now.Add(time.Minute)

	// Not yet due.
	f.now = due.Add(-time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue before due = %d, %v", n, err)
	}
	// Entering before due cancels; leaving again sets a new timer.
	f.enter("u1", 1)
	f.now = due.Add(time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue with somebody in = %d, %v", n, err)
	}
	if err := f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom); err != nil {
		t.Fatal(err)
	}
	due = f.now.Add(time.Minute)
	f.now = due.Add(-time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue before the new due time = %d, %v", n, err)
	}
	f.newEvents()
	rec.take()

	// Due, across a restart: the timer is in the database.
	f.now = due
	rec = f.restart(lt)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue when due = %d, %v; want 1 dissolved", n, err)
	}
	evs := f.wantEvents(webhook.AfterDestroyRoom)
	var body webhook.DestroyRoom
	f.body(evs[0], &body)
	if body.EventType != webhook.DestroyBySystem || body.Operator_Account != room.SystemOperator || body.RoomId != testRoom {
		t.Errorf("destroy callback: EventType %q, Operator_Account %q, RoomId %q", body.EventType, body.Operator_Account, body.RoomId)
	}
	got := rec.take()
	wantTypes(t, got, "RoomDismissed")
	if d := got[0].(room.RoomDismissed); !d.BySystem || d.Operator != room.SystemOperator {
		t.Errorf("RoomDismissed %+v", d)
	}
	if _, err := f.rooms.Get(f.ctx, testApp, testRoom); !errors.Is(err, room.ErrRoomNotFound) {
		t.Errorf("the room after dissolution: %v", err)
	}
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Errorf("RunDue again = %d, %v", n, err)
	}
}

func TestAutoDissolveNotWithRobot(t *testing.T) {
	lt := room.Lifetimes{NoUsers: time.Minute, OwnerLeave: time.Minute}
	f, _ := liveSetup(t, lt)
	if err := f.rooms.AddRobots(f.ctx, f.actor, testRoom, []string{"u3"}); err != nil {
		t.Fatal(err)
	}
	f.enter(testOwner, 1)
	if err := f.rooms.Exit(f.ctx, f.client(testOwner), 1, testRoom); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue with a robot = %d, %v", n, err)
	}
	if _, err := f.rooms.Get(f.ctx, testApp, testRoom); err != nil {
		t.Fatalf("the room with a robot was dissolved: %v", err)
	}
	// The robot is kicked: no presence callback for it (it never had an Online one).
	f.newEvents()
	if err := f.rooms.Kick(f.ctx, f.actor, testRoom, "u3"); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
}

func TestAutoDissolveOwner(t *testing.T) {
	lt := room.Lifetimes{OwnerLeave: 30 * time.Second, OwnerOffline: 10 * time.Second}
	f, rec := liveSetup(t, lt)
	f.enter("u1", 1)
	f.enter(testOwner, 2)

	// The owner leaves and comes back before due: no dissolution.
	if err := f.rooms.Exit(f.ctx, f.client(testOwner), 2, testRoom); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(20 * time.Second)
	f.enter(testOwner, 2)
	f.now = f.now.Add(20 * time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue after the owner came back = %d, %v", n, err)
	}

	// The owner's heartbeat is lost; its shorter timer dissolves the room with u1 in it.
	if err := f.rooms.Disconnect(f.ctx, f.client(testOwner), 2, false); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(9 * time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue before the owner-offline timer = %d, %v", n, err)
	}
	f.newEvents()
	rec.take()
	f.now = f.now.Add(time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue at the owner-offline timer = %d, %v; want 1", n, err)
	}
	f.wantEvents(webhook.AfterDestroyRoom)
	wantTypes(t, rec.take(), "RoomDismissed")
	// u1's connection is no longer in the room.
	wantErr(t, f.rooms.Exit(f.ctx, f.client("u1"), 1, testRoom), room.ErrNotMember, errcode.NotMember)

	// OwnerLeave, on a new room.
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: testRoom, Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	f.enter("u1", 1)
	f.enter(testOwner, 2)
	if err := f.rooms.Exit(f.ctx, f.client(testOwner), 2, testRoom); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(30 * time.Second)
	f.newEvents()
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue at the owner-leave timer = %d, %v; want 1", n, err)
	}
	f.wantEvents(webhook.AfterDestroyRoom)
}

// TestAutoDissolveNeverEntered pins that a room nobody ever enters is dissolved NoUsers
// after its creation.
func TestAutoDissolveNeverEntered(t *testing.T) {
	f := setup(t)
	f.rooms.SetLiveOptions(room.LiveOptions{Grace: time.Minute, Lifetimes: func(uint64) room.Lifetimes {
		return room.Lifetimes{NoUsers: 10 * time.Second}
	}})
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "empty", Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(9 * time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue before due = %d, %v; want 0 rooms dissolved", n, err)
	}
	f.now = f.now.Add(time.Second)
	if n, err := f.rooms.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue at due = %d, %v; want 1 room dissolved", n, err)
	}
	if _, err := f.rooms.Get(f.ctx, testApp, "empty"); !errors.Is(err, room.ErrRoomNotFound) {
		t.Errorf("Get after dissolution: %v, want ErrRoomNotFound", err)
	}
}

package room_test

import (
	"errors"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Presence with several nodes (cluster.go): two room services on one SQLite file stand for
// two nodes on one database (a SQLite store writes no broadcasts, which these tests do not
// need: they check the member rows and callbacks, and hand events over by hand).

// nodesSetup returns the fixture with f.rooms as node "a", and node "b" on the same file.
func nodesSetup(t *testing.T, lt room.Lifetimes) (f *fixture, a, b *room.Service, recA, recB *liveRec) {
	f, recA = liveSetup(t, lt)
	f.rooms.SetNode("a")
	b = newRoomService(f.st, func() time.Time { return f.now })
	b.SetNode("b")
	b.SetLiveOptions(room.LiveOptions{Grace: testGrace, Lifetimes: func(uint64) room.Lifetimes { return lt }})
	recB = &liveRec{}
	b.SetObserver(recB.add)
	return f, f.rooms, b, recA, recB
}

func (f *fixture) enterOn(s *room.Service, user string, conn room.ConnID) {
	f.t.Helper()
	if _, err := s.Enter(f.ctx, f.client(user), conn, testRoom); err != nil {
		f.t.Fatalf("%s enters on %d: %v", user, conn, err)
	}
}

func (f *fixture) exitOn(s *room.Service, user string, conn room.ConnID) {
	f.t.Helper()
	if err := s.Exit(f.ctx, f.client(user), conn, testRoom); err != nil {
		f.t.Fatalf("%s exits on %d: %v", user, conn, err)
	}
}

// A user in a room through two nodes is one member, held by the node of its latest first
// connection: leaving through the other node reports nothing, leaving through the holder
// reports the departure; the no-users timer follows the member rows, whichever node
// writes them.
func TestClusterOneMemberTwoNodes(t *testing.T) {
	f, a, b, _, _ := nodesSetup(t, room.Lifetimes{NoUsers: time.Hour})
	f.enterOn(a, "u1", 1)
	f.wantStates(online(testRoom, webhook.CauseEnter, "u1"))
	f.enterOn(b, "u1", 1) // connection ids are per node: b's 1 is another connection
	f.wantStates()
	if m, err := f.st.MemberGet(f.ctx, testApp, testRoom, "u1"); err != nil || m.Node != "b" {
		t.Fatalf("u1's member row %+v, %v; want held by b", m, err)
	}
	f.exitOn(a, "u1", 1)
	f.wantStates()
	if !f.isMember("u1") {
		t.Fatal("u1 left the room with its connection on a, though it is in it through b")
	}
	if _, err := f.st.RoomTimerGet(f.ctx, testApp, testRoom, store.TimerNoUsers); err == nil {
		t.Error("the no-users timer is set while u1 is in the room")
	}
	f.exitOn(b, "u1", 1)
	f.wantStates(offline(testRoom, webhook.CauseLeave, "u1"))
	n, _ := f.st.MemberCount(f.ctx, testApp, testRoom, store.MembersAll)
	if n != 0 {
		t.Errorf("%d members left", n)
	}
}

// RecoverNode moves the members a dead node held to lost, with one callback per room; they
// come back through another node within the grace period as recovering. A member that
// entered through another node meanwhile, and the members of other nodes, stay. The dead
// node's connections, closed later, report nothing more.
func TestClusterRecoverNode(t *testing.T) {
	f, a, b, _, recB := nodesSetup(t, room.Lifetimes{})
	f.enterOn(a, "u1", 1)
	f.enterOn(a, "u2", 2)
	f.enterOn(b, "u2", 1) // u2 moved to b before a was found dead
	f.enterOn(b, "u3", 2)
	f.newEvents()
	recB.take()

	n, err := b.RecoverNode(f.ctx, "a")
	if err != nil || n != 1 {
		t.Fatalf("RecoverNode(a) = %d, %v; want 1 (u1)", n, err)
	}
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1"))
	if off := find[room.MembersOffline](t, recB.take()); off.Operator != room.SystemOperator || off.MemberCount != 2 {
		t.Errorf("MembersOffline %+v", off)
	}
	if !f.isLost("u1") || !f.isMember("u2") || !f.isMember("u3") {
		t.Error("RecoverNode moved the wrong members")
	}
	if n, err := b.RecoverNode(f.ctx, "a"); err != nil || n != 0 {
		t.Errorf("second RecoverNode = %d, %v", n, err)
	}

	// a learns it was declared dead and closes its connections: nothing more is reported.
	if err := a.Disconnect(f.ctx, f.client("u1"), 1, false); err != nil {
		t.Fatal(err)
	}
	if err := a.Disconnect(f.ctx, f.client("u2"), 2, false); err != nil {
		t.Fatal(err)
	}
	f.wantStates()
	// u1 comes back through b within the grace period.
	f.now = f.now.Add(testGrace / 2)
	f.enterOn(b, "u1", 3)
	f.wantStates(online(testRoom, webhook.CauseHeartbeatRecover, "u1"))
}

// RecoverPresence at start-up takes only the node's own members.
func TestClusterRecoverPresenceOwnNode(t *testing.T) {
	f, a, b, _, _ := nodesSetup(t, room.Lifetimes{})
	f.enterOn(a, "u1", 1)
	f.enterOn(b, "u2", 1)
	f.newEvents()
	a2 := newRoomService(f.st, func() time.Time { return f.now })
	a2.SetNode("a")
	if n, err := a2.RecoverPresence(f.ctx); err != nil || n != 1 {
		t.Fatalf("RecoverPresence of a = %d, %v; want 1", n, err)
	}
	f.wantStates(offline(testRoom, webhook.CauseHeartbeatInterrupt, "u1"))
	if !f.isMember("u2") {
		t.Error("b's member was recovered by a")
	}
}

// ObserveRemote applies a kick decided on another node to this node's connections: the
// user's connections leave the room after the event, so its exit here is refused; a remote
// dissolution takes every connection out of the room.
func TestClusterObserveRemote(t *testing.T) {
	f, a, b, recA, _ := nodesSetup(t, room.Lifetimes{})
	f.enterOn(a, "u1", 1)
	f.enterOn(a, "u1", 2)
	f.enterOn(a, "u2", 3)
	recA.take()
	if err := b.Kick(f.ctx, f.actor, testRoom, "u1"); err != nil {
		t.Fatal(err)
	}
	kick := room.UserKicked{EventHead: b.HeadForTest(f.actor, testRoom), UserID: "u1", Reason: "kicked out of the room"}
	a.ObserveRemote(kick)
	evs := recA.take()
	wantTypes(t, evs, "UserKicked", "ConnsLeft")
	if left := find[room.ConnsLeft](t, evs); len(left.Conns) != 2 {
		t.Errorf("ConnsLeft %+v, want u1's two connections", left)
	}
	if err := a.Exit(f.ctx, f.client("u1"), 1, testRoom); !errors.Is(err, room.ErrNotMember) {
		t.Errorf("exit after a remote kick: %v", err)
	}

	if _, err := b.Destroy(f.ctx, f.actor, testRoom); err != nil {
		t.Fatal(err)
	}
	a.ObserveRemote(room.RoomDismissed{EventHead: b.HeadForTest(f.actor, testRoom)})
	wantTypes(t, recA.take(), "RoomDismissed")
	if err := a.Exit(f.ctx, f.client("u2"), 3, testRoom); !errors.Is(err, room.ErrNotMember) {
		t.Errorf("exit after a remote dissolution: %v", err)
	}
}

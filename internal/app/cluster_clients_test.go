package app_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// Client events across nodes: two roomd servers, nodes "a" and "b", in this process over
// one fresh PostgreSQL database (its own notification channel and locks). Each test relays the broadcasts by hand (relayBroadcasts, as
// the cluster's listener does on each notification) so that it knows when a node has read
// the other's changes.

// startNodes starts one server per node name on one fresh PostgreSQL database, with every
// client callback going to one receiver.
func startNodes(t *testing.T, nodes []string, opts ...serverOption) []*clientEnv {
	t.Helper()
	dsn := testkit.PostgresDatabase(t)
	rc := newReceiver(t)
	var out []*clientEnv
	for _, n := range nodes {
		out = append(out, startNodeOn(t, dsn, rc, n, app.Options{}, opts...))
	}
	return out
}

// startNodeOn starts node on the PostgreSQL database dsn, with callbacks to rc.
func startNodeOn(t *testing.T, dsn string, rc *testkit.Receiver, node string, ao app.Options, opts ...serverOption) *clientEnv {
	t.Helper()
	o := append([]serverOption{withCallback(rc.URL()+"/cb", allClientCommands...), func(c *config.Config) {
		c.Store.Driver, c.Store.DSN = config.DriverPostgres, dsn
		c.Cluster.Node = node
	}}, opts...)
	ts := startServerIn(t, t.TempDir(), ao, o...)
	return &clientEnv{testServer: ts, rc: rc, WS: "ws" + strings.TrimPrefix(ts.Base, "http") + "/v1/client"}
}

// relay makes e's node read the other nodes' broadcasts.
func (e *clientEnv) relay(t *testing.T) {
	t.Helper()
	if err := e.Srv.RelayBroadcastsForTest(context.Background()); err != nil {
		t.Fatalf("relay broadcasts: %v", err)
	}
}

// A client on node a sees an owner change made through REST on node b, a message sent by a
// client on b, and the presence of a user who entered through b.
func TestClusterClientSeesOtherNode(t *testing.T) {
	n := startNodes(t, []string{"a", "b"})
	a, b := n[0], n[1]
	a.importAccounts("alice", "bob", "carol", "dave")
	a.createRoom("r1", "alice")

	carol := a.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	dave := b.dial(t, "dave", "Web")
	dave.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	a.relay(t)
	carol.waitPush(t, "onRemoteUserEnterRoom", `"userId":"dave"`)

	mustOK(t, b.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"bob"}`))
	a.relay(t)
	carol.waitPush(t, "onUserRoleChanged", `"userId":"bob"`, `"userRole":"roomOwner"`)
	carol.waitPush(t, "onUserRoleChanged", `"userId":"alice"`, `"userRole":"generalUser"`)

	dave.call(t, "sendTextMessage", map[string]string{"roomId": "r1", "text": "hello from b"})
	a.relay(t)
	carol.waitPush(t, "onReceiveTextMessage", `"text":"hello from b"`, `"userId":"dave"`)

	// And the other way round: b hears of what carol does on a.
	carol.call(t, "sendTextMessage", map[string]string{"roomId": "r1", "text": "hello from a"})
	b.relay(t)
	dave.waitPush(t, "onReceiveTextMessage", `"text":"hello from a"`, `"userId":"carol"`)

	// A node never hands its own broadcasts to its clients a second time.
	mustOK(t, a.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"alice"}`))
	carol.waitPush(t, "onUserRoleChanged", `"userId":"alice"`, `"userRole":"roomOwner"`)
	a.relay(t)
	b.relay(t)
	dave.waitPush(t, "onUserRoleChanged", `"userId":"alice"`, `"userRole":"roomOwner"`)
	time.Sleep(100 * time.Millisecond)
	for _, p := range []*peer{carol, dave} {
		count := 0
		for _, n := range p.pushes() {
			if n.Method == "onUserRoleChanged" && strings.Contains(string(n.Params), `"userRole":"roomOwner"`) &&
				strings.Contains(string(n.Params), `"userId":"alice"`) {
				count++
			}
		}
		if count != 1 {
			t.Errorf("%s was told %d times that alice is the owner again: %s", p.user, count, notesText(p.pushes()))
		}
	}
}

// A kick decided on node b puts the user out of the room on node a: it is told, its
// connection leaves the room there, and it is no longer a member.
func TestClusterKickOnOtherNode(t *testing.T) {
	n := startNodes(t, []string{"a", "b"})
	a, b := n[0], n[1]
	a.importAccounts("alice", "carol")
	a.createRoom("r1", "alice")

	carol := a.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice := b.dial(t, "alice", "Web")
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "kickRemoteUserOutOfRoom", map[string]string{"roomId": "r1", "userId": "carol"})
	a.relay(t)
	carol.waitPush(t, "onKickedOutOfRoom", `"roomId":"r1"`)
	// The connection on a is out of the room: acting in it is refused as not entered.
	carol.callFail(t, 100005, "sendTextMessage", map[string]string{"roomId": "r1", "text": "still here?"})
	if m := a.members(t, "r1"); !slices.Equal(m, []string{"alice"}) {
		t.Errorf("members after the kick: %v", m)
	}
	// Leaving the room on a is no second departure.
	carol.Close()
	time.Sleep(200 * time.Millisecond)
	states := a.waitMemberState(t, "r1", "Offline/Kicked:carol")
	if slices.Contains(states, "Offline/HeartbeatInterrupt:carol") || slices.Contains(states, "Offline/Leave:carol") {
		t.Errorf("member states %v", states)
	}
}

// A dissolution on node b closes the room for node a's connections.
func TestClusterDismissOnOtherNode(t *testing.T) {
	n := startNodes(t, []string{"a", "b"})
	a, b := n[0], n[1]
	a.importAccounts("alice", "carol")
	a.createRoom("r1", "alice")
	carol := a.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	mustOK(t, b.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	a.relay(t)
	carol.waitPush(t, "onRoomDismissed", `"roomId":"r1"`)
	carol.callFail(t, 100005, "sendTextMessage", map[string]string{"roomId": "r1", "text": "anyone?"})
}

// A user in a room through both nodes is one member: the departure of its connection on
// the node that does not hold the membership is no departure; the room's dissolution timer
// is set and cleared by the entries and exits of any node.
func TestClusterPresenceAcrossNodes(t *testing.T) {
	n := startNodes(t, []string{"a", "b"}, withAutoDissolve(config.AutoDissolve{NoUsers: time.Hour}))
	a, b := n[0], n[1]
	a.importAccounts("alice", "carol")
	a.createRoom("r1", "alice")

	carolA := a.dial(t, "carol", "Web")
	carolA.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	carolB := b.dial(t, "carol", "Web")
	carolB.call(t, "enterRoom", map[string]string{"roomId": "r1"}) // b now holds carol's membership
	carolA.call(t, "exitRoom", map[string]string{"roomId": "r1"})
	if m := a.members(t, "r1"); !slices.Equal(m, []string{"carol"}) {
		t.Errorf("members after carol left through a but not b: %v", m)
	}
	if _, err := a.Srv.Store().RoomTimerGet(context.Background(), testApp, "r1", store.TimerNoUsers); err == nil {
		t.Errorf("the no-users timer is set while carol is in the room through b")
	}
	carolB.call(t, "exitRoom", map[string]string{"roomId": "r1"})
	states := a.waitMemberState(t, "r1", "Offline/Leave:carol")
	if want := []string{"Online/Enter:carol", "Offline/Leave:carol"}; !slices.Equal(states, want) {
		t.Errorf("member states %v, want %v", states, want)
	}
	if _, err := a.Srv.Store().RoomTimerGet(context.Background(), testApp, "r1", store.TimerNoUsers); err != nil {
		t.Errorf("no no-users timer after everyone left: %v", err)
	}
	// An entry through the other node clears it.
	carolA.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	if _, err := b.Srv.Store().RoomTimerGet(context.Background(), testApp, "r1", store.TimerNoUsers); err == nil {
		t.Errorf("the no-users timer is still set after carol entered through a")
	}
}

// When node a is found dead, its members are seen as having lost their heartbeat; they
// come back through node b within the grace period as recovering, and a's connections,
// closed when a learns it was declared dead, report nothing more. A member that had moved
// to b before a was found dead stays.
func TestClusterRecoverNode(t *testing.T) {
	n := startNodes(t, []string{"a", "b"}, withClient(func(c *config.Client) { c.ReconnectGrace = time.Minute }))
	a, b := n[0], n[1]
	a.importAccounts("alice", "carol", "dave")
	a.createRoom("r1", "alice")
	carol := a.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	dave := a.dial(t, "dave", "Web")
	dave.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	daveB := b.dial(t, "dave", "Web")
	daveB.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice := b.dial(t, "alice", "Web")
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})

	moved, err := b.Srv.Rooms.RecoverNode(context.Background(), "a")
	if err != nil || moved != 1 {
		t.Fatalf("RecoverNode(a) = %d, %v; want 1 (carol)", moved, err)
	}
	a.waitMemberState(t, "r1", "Offline/HeartbeatInterrupt:carol")
	if m := sorted(b.members(t, "r1")); !slices.Equal(m, []string{"alice", "dave"}) {
		t.Errorf("members after a was recovered: %v", m)
	}
	alice.waitPush(t, "onRemoteUserLeaveRoom", `"userId":"carol"`)

	a.Srv.CloseAllClientsForTest()
	carolB := b.dial(t, "carol", "Web")
	carolB.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	states := a.waitMemberState(t, "r1", "Online/HeartbeatRecover:carol")
	for _, s := range states {
		if strings.HasSuffix(s, ":dave") && strings.HasPrefix(s, "Offline") {
			t.Errorf("dave, in the room through b, was reported %s", s)
		}
	}
	if got := strings.Count(strings.Join(states, " "), "Offline/HeartbeatInterrupt:carol"); got != 1 {
		t.Errorf("carol went offline %d times: %v", got, states)
	}
	if m := sorted(b.members(t, "r1")); !slices.Equal(m, []string{"alice", "carol", "dave"}) {
		t.Errorf("members after carol came back: %v", m)
	}
}

// Through the cluster's own listener (no relay by hand): a client on node a sees the owner
// changes made through REST on node b, in the order b committed them, each once.
func TestClusterListenPath(t *testing.T) {
	n := startNodes(t, []string{"a", "b"})
	a, b := n[0], n[1]
	a.importAccounts("alice", "bob", "carol")
	a.createRoom("r1", "alice")
	carol := a.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	owners := []string{"bob", "alice", "bob", "alice", "bob"}
	for _, o := range owners {
		mustOK(t, b.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"`+o+`"}`))
	}
	ownersSeen := func(ns []client.Notification) []string {
		var out []string
		for _, n := range ns {
			var p struct{ UserID, UserRole string }
			if n.Method == "onUserRoleChanged" && json.Unmarshal(n.Params, &p) == nil && p.UserRole == "roomOwner" {
				out = append(out, p.UserID)
			}
		}
		return out
	}
	carol.waitPushes(t, "five owner changes", func(ns []client.Notification) bool { return len(ownersSeen(ns)) >= len(owners) })
	time.Sleep(200 * time.Millisecond)
	if got := ownersSeen(carol.pushes()); !slices.Equal(got, owners) {
		t.Errorf("carol saw the owners %v, want %v", got, owners)
	}
}

// Broadcasts older than a minute are pruned, and only those; the relay goes on after a
// prune.
func TestClusterPruneBroadcasts(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	rc := newReceiver(t)
	a := startNodeOn(t, dsn, rc, "a", app.Options{})
	a.importAccounts("alice", "carol")
	a.createRoom("r1", "alice")
	mustOK(t, a.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"admin"}`))
	cl := a.Srv.Store().(store.Cluster)
	count := func() int {
		bs, err := cl.BroadcastList(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(bs)
	}
	if count() == 0 {
		t.Fatal("no broadcast written")
	}
	before := count()
	if err := a.Srv.PruneBroadcastsForTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != before {
		t.Errorf("recent broadcasts pruned: %d left of %d", got, before)
	}
	// Node b's clock is two minutes ahead: for it, every broadcast is old.
	b := startNodeOn(t, dsn, rc, "b", app.Options{Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	if err := b.Srv.PruneBroadcastsForTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Errorf("%d broadcasts left after pruning them all", got)
	}
	carol := b.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	mustOK(t, a.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"alice"}`))
	carol.waitPush(t, "onUserRoleChanged", `"userId":"alice"`, `"userRole":"roomOwner"`)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// A node cut off from the database is declared dead by the other, which reports its
// members as having lost their heartbeat; a member that reconnects through the other node
// within the grace period recovers. When the network comes back, the cut-off node closes
// its connections, and that reports nothing more.
func TestClusterNodeDeathPresence(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	proxy, proxied := testkit.ProxyPostgres(t, dsn)
	rc := newReceiver(t)
	fast := func(c *config.Config) {
		c.Cluster.BeatInterval, c.Cluster.NodeTTL, c.Cluster.LeaseTTL = testBeat, testLeaseTTL, testLeaseTTL
		c.Client.ReconnectGrace = time.Minute
	}
	a := startNodeOn(t, proxied, rc, "a", app.Options{}, fast)
	b := startNodeOn(t, dsn, rc, "b", app.Options{}, fast)
	b.importAccounts("alice", "carol")
	b.createRoom("r1", "alice")
	carol := a.dial(t, "carol", "Web")
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice := b.dial(t, "alice", "Web")
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	b.waitMemberState(t, "r1", "Online/Enter:carol")

	revived := a.Srv.Node().Revivals()
	proxy.CutReset()
	alice.waitPush(t, "onRemoteUserLeaveRoom", `"userId":"carol"`)
	b.waitMemberState(t, "r1", "Offline/HeartbeatInterrupt:carol")
	if m := b.members(t, "r1"); !slices.Equal(m, []string{"alice"}) {
		t.Errorf("members once node a was found dead: %v", m)
	}

	carolB := b.dial(t, "carol", "Web")
	carolB.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"carol"`)
	b.waitMemberState(t, "r1", "Online/HeartbeatRecover:carol")

	proxy.Restore()
	testkit.Eventually(t, "node a learns it was declared dead", 10*time.Second, func() (bool, string) {
		return a.Srv.Node().Revivals() > revived, ""
	})
	select {
	case <-carol.drained:
	case <-time.After(10 * time.Second):
		t.Fatal("carol's connection to node a was not closed when a learnt it had been declared dead")
	}
	time.Sleep(500 * time.Millisecond)
	states := memberStates(rc.Delivered(), "r1")
	want := []string{"Online/Enter:carol", "Online/Enter:alice", "Offline/HeartbeatInterrupt:carol", "Online/HeartbeatRecover:carol"}
	if !slices.Equal(dedupe(states), want) {
		t.Errorf("member states %v, want %v", states, want)
	}
	if m := sorted(b.members(t, "r1")); !slices.Equal(m, []string{"alice", "carol"}) {
		t.Errorf("members at the end: %v", m)
	}
}

// dedupe drops consecutive repeats (a callback resent after a lost reply).
func dedupe(s []string) []string {
	return slices.Compact(slices.Clone(s))
}

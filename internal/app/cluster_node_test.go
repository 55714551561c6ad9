package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/cluster"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

// Several roomd servers in this process over one PostgreSQL schema: the delivery leader
// delivers every node's callbacks in order, a clean stop hands delivery over, a change of
// callback configuration reaches every node, timers run once per cluster, and a node cut
// off from the database loses its roles and comes back knowing it was declared dead.

// Short beats and leases, so that failovers take a fraction of a second.
const (
	testBeat     = 100 * time.Millisecond
	testLeaseTTL = 600 * time.Millisecond
)

// clusterNode is one server of a test cluster and the attempts its dispatcher recorded.
type clusterNode struct {
	*testServer
	attempts atomic.Int64
}

// startNode starts a server named node on dsn whose callbacks go to rc.
func startNode(t *testing.T, dsn, node string, rc *testkit.Receiver, opts ...serverOption) *clusterNode {
	t.Helper()
	n := &clusterNode{}
	o := app.Options{Observer: func(dispatcher.Result) { n.attempts.Add(1) }}
	opts = append([]serverOption{withCallback(rc.URL(), cmdCreate, cmdOwner, cmdDestroy, cmdCreateBattle, cmdEndBattle), func(c *config.Config) {
		c.Store.Driver, c.Store.DSN = config.DriverPostgres, dsn
		c.Cluster = config.Cluster{Node: node, BeatInterval: testBeat, NodeTTL: testLeaseTTL, LeaseTTL: testLeaseTTL}
	}}, opts...)
	n.testServer = startServer(t, o, opts...)
	if got := n.Srv.NodeID(); got != node {
		t.Fatalf("node id %q, want %q", got, node)
	}
	return n
}

// waitRole waits until n holds role (or, when held is false, until it does not).
func waitRole(t *testing.T, n *clusterNode, role cluster.Role, held bool, timeout time.Duration) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%s holds %s = %v", n.Srv.NodeID(), role, held), timeout, func() (bool, string) {
		return n.Srv.Node().Holds(role) == held, ""
	})
}

// ownerSequence returns the CurrentOwner_Account of room's ChangeOwner callbacks, one per
// webhook-id, in arrival order, and fails on a webhook-id that came with two bodies.
func ownerSequence(t *testing.T, got []callbackRequest, room string) []string {
	t.Helper()
	var seq []string
	seen := map[string]string{}
	for _, c := range got {
		if c.Command != cmdOwner || c.RoomID != room || c.Status != 200 {
			continue
		}
		if prev, ok := seen[c.ID]; ok {
			if prev != string(c.Body) {
				t.Errorf("webhook-id %s sent with two bodies", c.ID)
			}
			continue
		}
		seen[c.ID] = string(c.Body)
		var b struct{ CurrentOwner_Account string }
		json.Unmarshal(c.Body, &b)
		seq = append(seq, b.CurrentOwner_Account)
	}
	return seq
}

// changeOwners changes room's owner to prefix0 … prefix(n-1) through ts.
func changeOwners(t *testing.T, ts *testServer, room, prefix string, n int) []string {
	t.Helper()
	var want []string
	for i := range n {
		u := fmt.Sprintf("%s%d", prefix, i)
		mustOK(t, ts.call("live_engine_http_srv/change_room_owner", fmt.Sprintf(`{"RoomId":%q,"NewOwner_Account":%q}`, room, u)))
		want = append(want, u)
	}
	return want
}

// Callbacks caused through the node that does not deliver are delivered by the leader, in
// order; when the leader stops cleanly, the other takes delivery over at once and nothing
// is lost.
func TestClusterDeliveryLeader(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	rc := newReceiver(t)
	a := startNode(t, dsn, "node-a", rc)
	waitRole(t, a, cluster.Delivery, true, 5*time.Second)
	b := startNode(t, dsn, "node-b", rc)
	time.Sleep(3 * testBeat)
	if b.Srv.Node().Holds(cluster.Delivery) || b.Srv.Node().Holds(cluster.Timers) {
		t.Fatal("node-b holds a role node-a holds")
	}

	users := make([]string, 0, 40)
	for i := range 20 {
		users = append(users, fmt.Sprintf("u%d", i), fmt.Sprintf("v%d", i))
	}
	b.importAccounts(users...)
	b.createRoom("r1", testAdmin)
	want := changeOwners(t, b.testServer, "r1", "u", 20)
	got := rc.WaitFor(t, "20 owner changes", 15*time.Second, func(g []callbackRequest) bool { return len(ownerSequence(t, g, "r1")) >= 20 })
	if seq := ownerSequence(t, got, "r1"); strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Fatalf("owner changes arrived as %v, want %v", seq, want)
	}
	if n := b.attempts.Load(); n != 0 {
		t.Errorf("node-b, not the leader, made %d attempts", n)
	}
	if a.attempts.Load() == 0 {
		t.Error("node-a, the leader, made no attempt")
	}

	// A clean stop releases the lease: node-b delivers at its next beat.
	stopped := time.Now()
	a.Close()
	waitRole(t, b, cluster.Delivery, true, 5*time.Second)
	d := time.Since(stopped)
	if d > testLeaseTTL+5*testBeat {
		t.Errorf("node-b took delivery over %s after node-a stopped", d)
	}
	t.Logf("clean stop: node-b delivers %s after node-a's Close began (beat %s, lease %s)", d.Round(time.Millisecond), testBeat, testLeaseTTL)
	waitRole(t, b, cluster.Timers, true, 5*time.Second)
	want = append(want, changeOwners(t, b.testServer, "r1", "v", 20)...)
	got = rc.WaitFor(t, "40 owner changes", 15*time.Second, func(g []callbackRequest) bool { return len(ownerSequence(t, g, "r1")) >= 40 })
	if seq := ownerSequence(t, got, "r1"); strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Fatalf("owner changes arrived as %v, want %v", seq, want)
	}
}

// An update_callback made on one node takes effect on the others within a second: the
// leader, on another node, sends the next callback to the new URL.
func TestClusterCallbackConfig(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	rc := newReceiver(t)
	b := startNode(t, dsn, "node-b", rc)
	waitRole(t, b, cluster.Delivery, true, 5*time.Second)
	a := startNode(t, dsn, "node-a", rc)

	rc2 := newReceiver(t)
	mustOK(t, a.call("live_config/update_callback", map[string]any{"Url": rc2.URL(), "CallbackCommandList": []string{cmdCreate}}))
	changed := time.Now()
	testkit.Eventually(t, "node-b's get_callback answers the new URL", time.Second, func() (bool, string) {
		env := mustOK(t, b.call("live_config/get_callback", `{}`))
		return strings.Contains(string(env.Raw), rc2.URL()), string(env.Raw)
	})
	if d := time.Since(changed); d > time.Second {
		t.Errorf("the change took %s to reach node-b", d)
	}
	a.createRoom("r-new-url", testAdmin)
	rc2.WaitFor(t, "the create callback at the new URL", 10*time.Second, func(g []callbackRequest) bool {
		for _, c := range g {
			if c.Command == cmdCreate && strings.Contains(string(c.Body), `"RoomId":"r-new-url"`) {
				return true
			}
		}
		return false
	})
	for _, c := range rc.All() {
		if strings.Contains(string(c.Body), `"RoomId":"r-new-url"`) {
			t.Errorf("a callback of r-new-url went to the old URL: %s", c.Body)
		}
	}
	if a.attempts.Load() != 0 {
		t.Errorf("node-a, not the leader, made %d attempts", a.attempts.Load())
	}
}

// A battle's end comes once from the cluster, not once per node: the timers run on the
// node holding the "timers" lease.
func TestClusterTimersOnce(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	rc := newReceiver(t)
	a := startNode(t, dsn, "node-a", rc)
	b := startNode(t, dsn, "node-b", rc)
	testkit.Eventually(t, "one node holds the timers", 5*time.Second, func() (bool, string) {
		ha, hb := a.Srv.Node().Holds(cluster.Timers), b.Srv.Node().Holds(cluster.Timers)
		if ha && hb {
			t.Fatal("both nodes hold the timers")
		}
		return ha || hb, ""
	})
	a.importAccounts("x", "y")
	a.createRoom("x1", "x")
	b.createRoom("y1", "y")
	for i, n := range []*clusterNode{a, b} {
		from, to := []string{"x1", "y1"}[i], []string{"y1", "x1"}[i]
		mustOK(t, n.call(pk+"create_battle", battleBody(from, []string{to}, "Duration", 1000)))
		rc.WaitFor(t, "the battle's end", 10*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdEndBattle)) >= i+1 })
	}
	time.Sleep(2500 * time.Millisecond) // two more rounds of timers on each node
	ids := map[string]bool{}
	for _, c := range callbacksOf(rc.All(), cmdEndBattle) {
		ids[c.ID] = true
	}
	if len(ids) != 2 {
		t.Errorf("%d end-of-battle callbacks for 2 battles", len(ids))
	}
}

// A node cut off from the database gives its roles up before its leases expire; the
// other node declares it dead and takes them over, and callbacks continue. When the
// network comes back, the cut-off node learns that it was declared dead (its beat reports
// revived), and goes on as a node without roles.
func TestClusterPartition(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	proxy, proxied := testkit.ProxyPostgres(t, dsn)
	rc := newReceiver(t)
	a := startNode(t, proxied, "node-a", rc)
	waitRole(t, a, cluster.Delivery, true, 5*time.Second)
	b := startNode(t, dsn, "node-b", rc)
	b.importAccounts("w0", "w1", "w2", "w3", "w4", "p0", "p1", "p2", "p3", "p4")
	b.createRoom("r1", testAdmin)
	want := changeOwners(t, b.testServer, "r1", "w", 5)
	rc.WaitFor(t, "5 owner changes", 10*time.Second, func(g []callbackRequest) bool { return len(ownerSequence(t, g, "r1")) >= 5 })

	proxy.CutReset()
	cut := time.Now()
	waitRole(t, a, cluster.Delivery, false, 5*time.Second)
	gaveUp := time.Since(cut)
	if gaveUp > testLeaseTTL {
		t.Errorf("node-a gave delivery up %s after the cut, later than its lease", gaveUp)
	}
	waitRole(t, b, cluster.Delivery, true, 5*time.Second)
	t.Logf("partition: node-a gave delivery up %s after the cut, node-b took it %s after (beat %s, lease %s)",
		gaveUp.Round(time.Millisecond), time.Since(cut).Round(time.Millisecond), testBeat, testLeaseTTL)
	waitRole(t, b, cluster.Timers, true, 5*time.Second)
	want = append(want, changeOwners(t, b.testServer, "r1", "p", 5)...)
	got := rc.WaitFor(t, "10 owner changes", 10*time.Second, func(g []callbackRequest) bool { return len(ownerSequence(t, g, "r1")) >= 10 })
	if seq := ownerSequence(t, got, "r1"); strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Fatalf("owner changes arrived as %v, want %v", seq, want)
	}

	revived := a.Srv.Node().Revivals()
	proxy.Restore()
	testkit.Eventually(t, "node-a learns it was declared dead", 10*time.Second, func() (bool, string) {
		return a.Srv.Node().Revivals() > revived, ""
	})
	time.Sleep(5 * testBeat)
	if a.Srv.Node().Holds(cluster.Delivery) || !b.Srv.Node().Holds(cluster.Delivery) {
		t.Error("delivery moved back to node-a")
	}
	// node-a serves again, and its callbacks are delivered by node-b.
	mustOK(t, a.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r1","NewOwner_Account":"w0"}`))
	want = append(want, "w0")
	got = rc.WaitFor(t, "11 owner changes", 10*time.Second, func(g []callbackRequest) bool { return len(ownerSequence(t, g, "r1")) >= 11 })
	if seq := ownerSequence(t, got, "r1"); strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Fatalf("owner changes arrived as %v, want %v", seq, want)
	}
}

// A leader whose beat stops (it hangs, without leaving) gives its roles up at its local
// deadline; the other node takes them over once the leases expire, and the callbacks
// committed meanwhile on either node are delivered, in order.
func TestClusterLeaderStopsBeating(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	rc := newReceiver(t)
	a := startNode(t, dsn, "node-a", rc)
	waitRole(t, a, cluster.Delivery, true, 5*time.Second)
	b := startNode(t, dsn, "node-b", rc)
	b.importAccounts("u0", "u1", "u2", "v0", "v1", "v2")
	b.createRoom("r1", testAdmin)

	a.Srv.Node().Halt()
	halted := time.Now()
	want := changeOwners(t, a.testServer, "r1", "u", 3) // a still serves REST
	waitRole(t, a, cluster.Delivery, false, 5*time.Second)
	waitRole(t, b, cluster.Delivery, true, 5*time.Second)
	d := time.Since(halted)
	if d < testLeaseTTL*3/4-testBeat || d > testLeaseTTL+5*testBeat {
		t.Errorf("node-b took delivery over %s after node-a stopped beating (lease %s)", d, testLeaseTTL)
	}
	t.Logf("stopped beating: node-b delivers %s after node-a's last beat (beat %s, lease %s)", d.Round(time.Millisecond), testBeat, testLeaseTTL)
	want = append(want, changeOwners(t, b.testServer, "r1", "v", 3)...)
	got := rc.WaitFor(t, "6 owner changes", 10*time.Second, func(g []callbackRequest) bool { return len(ownerSequence(t, g, "r1")) >= 6 })
	if seq := ownerSequence(t, got, "r1"); strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Fatalf("owner changes arrived as %v, want %v", seq, want)
	}
}

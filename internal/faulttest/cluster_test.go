package faulttest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	roomclient "github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/testkit"
)

// The cluster tests run two or three roomd processes over one PostgreSQL database, a fresh
// one per test (testkit.PostgresDatabase: they need ROOMD_TEST_POSTGRES_DSN, and fail
// without it when CI is set), with one callback receiver, and check what issue 10 promises
// of several nodes: per-room order whatever node takes a change, client pushes across
// nodes, nothing lost when a node dies, and a node cut off from the database handing its
// work over and coming back.
//
// Every node is configured with its own callback URL path (/callback/node-a, …), so that
// the receiver can tell which node sent a callback: that is how the tests find the delivery
// leader and see delivery move. The rest of the configuration is the same on every node.

// Short cluster timings, so that a dead node is noticed within seconds.
const (
	clusterBeat     = 200 * time.Millisecond
	clusterNodeTTL  = 2 * time.Second
	clusterLeaseTTL = 2 * time.Second
)

// node is one roomd process of a cluster.
type node struct {
	*roomd
	name  string
	proxy *testkit.Proxy // the node's way to the database, when it goes through a proxy
	// served counts the REST calls the load sent to this node.
	served atomic.Int64
}

// cluster is several roomd nodes over one database.
type cluster struct {
	t     *testing.T
	dsn   string // the database, reached directly
	rcv   *receiver
	nodes []*node
	rr    atomic.Uint64
	// avoid, when set, names a node the load must not use (a partitioned one).
	avoid atomic.Pointer[node]
}

// clusterOptions shape a cluster.
type clusterOptions struct {
	nodes int
	// proxied lists the nodes (by index) that reach the database through a proxy the test
	// can cut.
	proxied []int
}

// newCluster makes a fresh database, applies the migrations with roomd migrate and prepares
// the nodes (node-a, node-b, …); it starts none of them.
func newCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	dsn := testkit.PostgresDatabase(t)
	c := &cluster{t: t, dsn: dsn, rcv: newReceiver(t)}
	pcfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range o.nodes {
		n := &node{name: fmt.Sprintf("node-%c", 'a'+i)}
		nodeDSN := dsn
		if slices.Contains(o.proxied, i) {
			n.proxy = testkit.NewProxy(t, net.JoinHostPort(pcfg.Host, fmt.Sprint(pcfg.Port)))
			nodeDSN = testkit.PostgresURL("127.0.0.1", n.proxy.Port(), pcfg.User, pcfg.Password, pcfg.Database)
		}
		cfg := procConfig{
			Apps:        []appSpec{{ID: appA, Key: keyA, CallbackURL: c.rcv.Receiver.URL() + "/callback/" + n.name}},
			PostgresDSN: nodeDSN,
			Cluster:     &clusterSpec{Node: n.name, BeatInterval: clusterBeat, NodeTTL: clusterNodeTTL, LeaseTTL: clusterLeaseTTL},
		}
		n.roomd = newRoomd(t, t.TempDir(), cfg)
		c.nodes = append(c.nodes, n)
	}
	out, err := exec.Command(roomdBin, "migrate", "--config", c.nodes[0].cfgPath, "--data", c.nodes[0].dir).CombinedOutput()
	if err != nil {
		t.Fatalf("roomd migrate: %v\n%s", err, out)
	}
	return c
}

// startAll starts every node that is not running, at the same time.
func (c *cluster) startAll() {
	c.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		if n.alive() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.start()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.t.Fatalf("%s: %v", c.nodes[i].name, err)
		}
	}
}

// pick returns the next running node in turn (round robin), skipping the avoided one, or
// nil when none runs.
func (c *cluster) pick() *node {
	avoid := c.avoid.Load()
	for range len(c.nodes) {
		n := c.nodes[int(c.rr.Add(1)%uint64(len(c.nodes)))]
		if n != avoid && n.URL() != "" {
			return n
		}
	}
	return nil
}

// base is the load driver's base: the URL of the next node in turn.
func (c *cluster) base() string {
	n := c.pick()
	if n == nil {
		return ""
	}
	n.served.Add(1)
	return n.URL()
}

// any returns the URL of a running node for one-off calls.
func (c *cluster) any() string {
	for _, n := range c.nodes {
		if u := n.URL(); u != "" {
			return u
		}
	}
	c.t.Fatal("no node is running")
	return ""
}

// sender returns the node that sent a callback, from its URL path.
func sender(a arrival) string {
	return strings.TrimPrefix(a.Path, "/callback/")
}

// senders counts the delivered callbacks by the node that sent them.
func senders(got []arrival) map[string]int {
	m := map[string]int{}
	for _, a := range got {
		m[sender(a)]++
	}
	return m
}

// servedCounts describes how many load calls each node took.
func (c *cluster) servedCounts() string {
	var parts []string
	for _, n := range c.nodes {
		parts = append(parts, fmt.Sprintf("%s %d", n.name, n.served.Load()))
	}
	return strings.Join(parts, ", ")
}

// waitSender waits until a callback sent by a node other than not arrives after since, and
// returns that node and when its callback came.
func (c *cluster) waitSender(timeout time.Duration, since time.Time, not string) (string, time.Time, bool) {
	var who string
	var at time.Time
	ok := waitFor(timeout, 20*time.Millisecond, func() bool {
		for _, a := range c.rcv.delivered() {
			if a.At.After(since) && sender(a) != not {
				who, at = sender(a), a.At
				return true
			}
		}
		return false
	})
	return who, at, ok
}

// primeLeader starts node n alone and makes one owner change through it, and waits for its
// callback: n is then the delivery leader (the only node, so it holds the lease; leadership
// stays where it is while its holder lives). It returns the room used.
func (c *cluster) primeLeader(n *node, cl *client) {
	c.t.Helper()
	n.mustStart()
	cl.createRoom(c.t, n.URL(), "prime")
	cl.importAccounts(c.t, n.URL(), []string{"prime_owner"})
	cl.mustCall(c.t, n.URL(), "live_engine_http_srv/change_room_owner", map[string]string{"RoomId": "prime", "NewOwner_Account": "prime_owner"})
	if !waitFor(20*time.Second, 20*time.Millisecond, func() bool { return len(c.rcv.delivered()) > 0 }) {
		c.t.Fatalf("%s alone delivered no callback within 20s", n.name)
	}
	if s := sender(c.rcv.delivered()[0]); s != n.name {
		c.t.Fatalf("the first callback came from %q, want %s (the only node)", s, n.name)
	}
}

// TestClusterOrder spreads owner changes round robin over three nodes: every room's
// consecutive changes are taken by different nodes. Every OK'd change's callback must
// arrive, in commit order per room.
func TestClusterOrder(t *testing.T) {
	c := newCluster(t, clusterOptions{nodes: 3})
	c.startAll()
	cl := newClient(t, appA, keyA)
	rooms := setupRooms(t, cl, c.any(), "order", 12)
	d := &loadDriver{c: cl, base: c.base, rooms: rooms}
	start := time.Now()
	d.start()
	t.Cleanup(d.stop)
	pause(context.Background(), 4*time.Second)
	d.stop()
	n := counts(rooms)
	t.Logf("%d changes OK'd, %d failed, %d without a reply in %s; calls per node: %s",
		n[outcomeOK], n[outcomeFailed], n[outcomeUnknown], time.Since(start).Round(time.Millisecond), c.servedCounts())
	if n[outcomeOK] < len(rooms) {
		t.Fatalf("only %d changes got an OK reply: the load made no real progress", n[outcomeOK])
	}
	if n[outcomeFailed]+n[outcomeUnknown] > 0 {
		t.Errorf("%d changes failed and %d got no reply with every node up", n[outcomeFailed], n[outcomeUnknown])
	}
	final := finalOwners(t, cl, c.any(), rooms)
	waitDelivered(t, c.rcv, rooms, final, 30*time.Second)
	all := c.rcv.all()
	dups := verify(t, rooms, all, final)
	lat := latencies(rooms, c.rcv.delivered())
	t.Logf("%d requests, %d redeliveries with the same webhook-id; sent by %v; latency from OK reply to arrival p50 %s, p99 %s",
		len(all), dups, senders(c.rcv.delivered()), lat[len(lat)/2], lat[len(lat)*99/100])
	for _, nd := range c.nodes {
		if !nd.alive() {
			t.Errorf("%s died", nd.name)
		}
	}
}

// TestClusterClientAcrossNodes connects a client (package client) to node A and changes the
// owner of its room through REST on node B, and the other way round: each client must be
// pushed onUserRoleChanged for the new owner.
func TestClusterClientAcrossNodes(t *testing.T) {
	c := newCluster(t, clusterOptions{nodes: 2})
	c.startAll()
	cl := newClient(t, appA, keyA)
	a, b := c.nodes[0], c.nodes[1]
	cl.importAccounts(t, a.URL(), []string{"watcher_a", "watcher_b", "owner_1", "owner_2"})
	for _, tc := range []struct {
		room             string
		watcher          string
		clientOn, restOn *node
		newOwner         string
	}{
		{"across-ab", "watcher_a", a, b, "owner_1"},
		{"across-ba", "watcher_b", b, a, "owner_2"},
	} {
		cl.createRoom(t, tc.restOn.URL(), tc.room)
		conn := dialClient(t, tc.clientOn.URL(), tc.watcher)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := conn.Call(ctx, "enterRoom", map[string]string{"roomId": tc.room}, nil); err != nil {
			cancel()
			t.Fatalf("%s enters %s on %s: %v", tc.watcher, tc.room, tc.clientOn.name, err)
		}
		cancel()
		sent := time.Now()
		cl.mustCall(t, tc.restOn.URL(), "live_engine_http_srv/change_room_owner", map[string]string{"RoomId": tc.room, "NewOwner_Account": tc.newOwner})
		want := fmt.Sprintf(`"userId":%q`, tc.newOwner)
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case n, ok := <-conn.Notifications():
				if !ok {
					t.Fatalf("%s's connection to %s ended: %v", tc.watcher, tc.clientOn.name, conn.Err())
				}
				if n.Method == "onUserRoleChanged" && strings.Contains(string(n.Params), want) && strings.Contains(string(n.Params), `"roomOwner"`) {
					t.Logf("client on %s was pushed the owner change made through REST on %s %s after the reply",
						tc.clientOn.name, tc.restOn.name, time.Since(sent).Round(time.Millisecond))
					break wait
				}
			case <-timeout:
				t.Fatalf("client on %s was not pushed onUserRoleChanged for %s within 10s of the change on %s", tc.clientOn.name, tc.newOwner, tc.restOn.name)
			}
		}
		conn.Close()
	}
}

// dialClient connects user to the client API at base, failing the test when it cannot.
func dialClient(t *testing.T, base, user string) *roomclient.Conn {
	t.Helper()
	sig := testkit.NewClient(t, base, appA, keyA, user).Sig
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := roomclient.Dial(ctx, wsURL(base), roomclient.Options{SDKAppID: appA, UserID: user, UserSig: sig})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", base, user, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestClusterKill9 kills the delivery leader of three nodes with SIGKILL while 12 rooms
// change owner through every node in turn. Every change OK'd by any node must be delivered,
// in order per room (redeliveries carry the same webhook-id and are counted), and delivery
// must move to another node: the leader's rooms continue from it.
func TestClusterKill9(t *testing.T) {
	c := newCluster(t, clusterOptions{nodes: 3})
	cl := newClient(t, appA, keyA)
	leader := c.nodes[0]
	c.primeLeader(leader, cl)
	c.startAll()
	rooms := setupRooms(t, cl, c.any(), "kill", 12)
	d := &loadDriver{c: cl, base: c.base, rooms: rooms}
	d.start()
	t.Cleanup(d.stop)

	pause(context.Background(), 1500*time.Millisecond)
	before := senders(c.rcv.delivered())
	if before[leader.name] == 0 || len(before) != 1 {
		t.Logf("callbacks before the kill came from %v; want only %s (the leader)", before, leader.name)
	}
	leader.kill()
	killed := time.Now()
	who, at, ok := c.waitSender(20*time.Second, killed, leader.name)
	if !ok {
		d.stop()
		t.Fatalf("no other node delivered a callback within 20s of %s's kill", leader.name)
	}
	t.Logf("%s killed; %s delivered the next callback %s later (node_ttl %s, lease_ttl %s)",
		leader.name, who, at.Sub(killed).Round(time.Millisecond), clusterNodeTTL, clusterLeaseTTL)
	// Let the survivors take the load for a while, then stop it.
	pause(context.Background(), 2*time.Second)
	d.stop()

	n := counts(rooms)
	t.Logf("%d changes OK'd, %d failed, %d without a reply; calls per node: %s",
		n[outcomeOK], n[outcomeFailed], n[outcomeUnknown], c.servedCounts())
	final := finalOwners(t, cl, c.any(), rooms)
	waitDelivered(t, c.rcv, rooms, final, 30*time.Second)
	all := c.rcv.all()
	dups := verify(t, rooms, all, final)
	afterKill := map[string]int{}
	for _, a := range c.rcv.delivered() {
		// A request the killed node had written just before its end may be read a moment
		// after it.
		if a.At.After(killed.Add(200 * time.Millisecond)) {
			afterKill[sender(a)]++
		}
	}
	t.Logf("%d requests, %d redeliveries with the same webhook-id; delivered before the kill by %v, after it by %v",
		len(all), dups, before, afterKill)
	if afterKill[leader.name] > 0 {
		t.Errorf("%d callbacks came from the killed node after its kill", afterKill[leader.name])
	}
	for _, nd := range c.nodes[1:] {
		if !nd.alive() {
			t.Errorf("%s died", nd.name)
		}
	}
}

// TestClusterPartition cuts the delivery leader (node A) off from the database, through a
// TCP proxy that stops forwarding (a partition that drops packets: A's queries hang),
// while 8 rooms change owner through node B. A must stop delivering and B take delivery
// over: every change B OK's during the partition is delivered before it ends. When the
// proxy forwards again, A must recover: changes made through it are OK'd and delivered. At
// the end every OK'd change has arrived, in order per room.
func TestClusterPartition(t *testing.T) { runPartition(t, false) }

// TestClusterPartitionReset is the same with a cut that resets A's connections and refuses
// new ones (the database restarting, or a firewall that rejects).
func TestClusterPartitionReset(t *testing.T) {
	if testing.Short() {
		t.Skip("the blackhole partition (TestClusterPartition) runs in -short")
	}
	runPartition(t, true)
}

func runPartition(t *testing.T, reset bool) {
	c := newCluster(t, clusterOptions{nodes: 2, proxied: []int{0}})
	cl := newClient(t, appA, keyA)
	a, b := c.nodes[0], c.nodes[1]
	c.primeLeader(a, cl)
	b.mustStart()
	rooms := setupRooms(t, cl, b.URL(), "part", 8)
	d := &loadDriver{c: cl, base: c.base, rooms: rooms, gap: 10 * time.Millisecond}
	d.start()
	t.Cleanup(d.stop)
	pause(context.Background(), time.Second)

	// The cut. From now on the load goes to B only; calls A has in flight hang (or fail).
	c.avoid.Store(a)
	if reset {
		a.proxy.CutReset()
	} else {
		a.proxy.CutBlackhole()
	}
	cut := time.Now()
	who, at, ok := c.waitSender(20*time.Second, cut, a.name)
	if !ok {
		d.stop()
		t.Fatalf("no callback from another node within 20s of cutting %s off the database", a.name)
	}
	t.Logf("%s cut off the database; %s delivered the next callback %s later", a.name, who, at.Sub(cut).Round(time.Millisecond))

	// B must deliver what it OK's during the partition, with A still cut off. The OK'd
	// changes of rooms whose call A held when the cut came are not waited for: those rooms
	// are stuck until A's call ends.
	pause(context.Background(), 2*time.Second)
	mark := time.Now()
	var missing []string
	if !waitFor(15*time.Second, 50*time.Millisecond, func() bool {
		missing = missingOKBefore(rooms, c.rcv.delivered(), mark)
		return len(missing) == 0
	}) {
		d.stop()
		t.Fatalf("during the partition, %d changes OK'd by %s were not delivered within 15s: %v", len(missing), b.name, missing)
	}
	during := time.Now()
	if !a.alive() {
		t.Fatalf("%s exited while cut off the database (it should wait for the database to come back)", a.name)
	}
	// A must not deliver while it cannot hold its lease: allow it lease_ttl after the cut.
	var late []string
	for _, x := range c.rcv.delivered() {
		if sender(x) == a.name && x.At.After(cut.Add(clusterLeaseTTL+200*time.Millisecond)) {
			late = append(late, x.Current)
		}
	}
	if len(late) > 0 {
		t.Errorf("%s delivered %d callbacks more than lease_ttl after it lost the database: %v", a.name, len(late), late)
	}

	// The proxy forwards again: A must serve and its changes be delivered.
	a.proxy.Restore()
	restored := time.Now()
	var firstOK time.Duration
	if !waitFor(20*time.Second, 50*time.Millisecond, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := cl.roomOwner(ctx, a.URL(), rooms[0].Room)
		return err == nil
	}) {
		d.stop()
		t.Fatalf("%s did not answer get_room_info within 20s of the database coming back", a.name)
	}
	c.avoid.Store(nil)
	a.served.Store(0)
	// Let the load use both nodes again until A has OK'd some changes.
	if !waitFor(20*time.Second, 50*time.Millisecond, func() bool { return a.served.Load() > 20 && counts(rooms)[outcomeOK] > 0 }) {
		t.Errorf("the load sent no calls to %s after it came back", a.name)
	}
	firstOK = time.Since(restored)
	pause(context.Background(), time.Second)
	d.stop()
	// A call A held when the cut came may have committed with its reply lost, and A can
	// then only answer an error: whether it committed is unknown, and the checks resolve it
	// from the callbacks (as for a call whose node was killed).
	ambiguous := map[int]int{}
	for _, l := range rooms {
		l.mu.Lock()
		for i, ch := range l.changes {
			if ch.Base == a.URL() && ch.Outcome == outcomeFailed && ch.Replied.After(cut) {
				ambiguous[ch.Code]++
				l.changes[i].Outcome = outcomeUnknown
			}
		}
		l.mu.Unlock()
	}
	if len(ambiguous) > 0 {
		t.Logf("%s answered errors (code: count %v) to calls it held across the partition; counted as unknown outcomes", a.name, ambiguous)
	}

	n := counts(rooms)
	t.Logf("%d changes OK'd, %d failed, %d without a reply; calls per node: %s", n[outcomeOK], n[outcomeFailed], n[outcomeUnknown], c.servedCounts())
	final := finalOwners(t, cl, a.URL(), rooms)
	waitDelivered(t, c.rcv, rooms, final, 30*time.Second)
	all := c.rcv.all()
	dups := verify(t, rooms, all, final)
	t.Logf("partition %s; %s served again %s after the proxy came back; %d requests, %d redeliveries with the same webhook-id; sent by %v",
		during.Sub(cut).Round(time.Millisecond), a.name, firstOK.Round(time.Millisecond), len(all), dups, senders(c.rcv.delivered()))
	if !a.alive() || !b.alive() {
		t.Errorf("a node died: %s alive %v, %s alive %v", a.name, a.alive(), b.name, b.alive())
	}
}

// missingOKBefore returns the changes of rooms OK'd before mark that have no delivered
// callback.
func missingOKBefore(rooms []*roomLog, got []arrival, mark time.Time) []string {
	seen := map[string]bool{}
	for _, a := range got {
		seen[a.Room+"\x00"+a.Current] = true
	}
	var missing []string
	for _, l := range rooms {
		for _, ch := range l.snapshot() {
			if ch.Outcome == outcomeOK && ch.Replied.Before(mark) && !seen[l.Room+"\x00"+ch.Owner] {
				missing = append(missing, ch.Owner)
			}
		}
	}
	return missing
}

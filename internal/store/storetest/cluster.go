package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of store.Cluster (store/cluster.go): two stores on one database play two
// nodes. Only a driver that several processes may share runs it (postgres); its stores
// must implement store.Cluster and their transactions store.ClusterTx.
//
// The cases wait on the database's clock (beat and lease expiries) with short ttls and
// generous margins; they never assert how fast anything is.

// ClusterOpenFunc opens two stores on one new, empty, fully migrated database, as two nodes
// would. It reports failures with t.Fatal. The suite closes both stores, exactly once.
type ClusterOpenFunc func(t *testing.T) (a, b store.Store)

// Cluster runs the cluster conformance cases; each gets a database of its own.
func Cluster(t *testing.T, open ClusterOpenFunc) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, a, b store.Store)
	}{
		{"EventOrderTwoNodes", func(t *testing.T, a, b store.Store) { eventOrder(t, []store.Store{a, b}, a) }},
		{"Nodes", testClusterNodes},
		{"ClaimDeadOnce", testClusterClaimDeadOnce},
		{"Leases", testClusterLeases},
		{"Notifications", testClusterNotifications},
		{"Broadcasts", testClusterBroadcasts},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t)
			if a == nil || b == nil {
				t.Fatal("open returned a nil store")
			}
			for _, s := range []store.Store{a, b} {
				t.Cleanup(func() {
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
			}
			c.run(t, a, b)
		})
	}
}

// cluster returns s as a store.Cluster, failing t when it is none.
func cluster(t *testing.T, s store.Store) store.Cluster {
	t.Helper()
	c, ok := s.(store.Cluster)
	if !ok {
		t.Fatalf("%T does not implement store.Cluster", s)
	}
	return c
}

// clusterTx returns tx as a store.ClusterTx, or an error for fn to return.
func clusterTx(tx store.Tx) (store.ClusterTx, error) {
	c, ok := tx.(store.ClusterTx)
	if !ok {
		return nil, fmt.Errorf("%T does not implement store.ClusterTx", tx)
	}
	return c, nil
}

func nodeIDs(ns []store.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// Beats: a new node is revived, a renewed one is not, an expired but unclaimed one is
// renewed, a claimed or departed one is revived when it beats again; NodeList shows live
// nodes only, with database times.
func testClusterNodes(t *testing.T, sa, sb store.Store) {
	a, b := cluster(t, sa), cluster(t, sb)
	c := t.Context()
	beat := func(cl store.Cluster, node string, ttl time.Duration, want bool) {
		t.Helper()
		revived, err := cl.NodeBeat(c, node, ttl)
		if err != nil {
			t.Fatalf("NodeBeat(%s): %v", node, err)
		}
		if revived != want {
			t.Errorf("NodeBeat(%s) revived = %v, want %v", node, revived, want)
		}
	}
	beat(a, "node-a", time.Minute, true)
	beat(a, "node-a", time.Minute, false)
	beat(b, "node-b", time.Minute, true)
	nodes, err := b.NodeList(c)
	wantErr(t, "NodeList", err, nil)
	if ids := nodeIDs(nodes); !slices.Equal(ids, []string{"node-a", "node-b"}) {
		t.Fatalf("NodeList = %v, want [node-a node-b]", ids)
	}
	for _, n := range nodes {
		if n.StartedAt.IsZero() || !n.ExpiresAt.After(n.StartedAt) || n.ExpiresAt.Sub(n.StartedAt) > time.Minute+time.Second {
			t.Errorf("node %s: started %v, expires %v; want an expiry about a minute after the start", n.ID, n.StartedAt, n.ExpiresAt)
		}
	}

	// Expired and not claimed: left out of NodeList, renewed by its next beat.
	beat(a, "node-c", 150*time.Millisecond, true)
	time.Sleep(300 * time.Millisecond)
	if nodes, _ := a.NodeList(c); slices.Contains(nodeIDs(nodes), "node-c") {
		t.Errorf("NodeList = %v lists node-c, whose beat expired", nodeIDs(nodes))
	}
	beat(a, "node-c", 150*time.Millisecond, false)

	// Claimed: revived.
	time.Sleep(300 * time.Millisecond)
	dead, err := b.NodeClaimDead(c, "node-b")
	wantErr(t, "NodeClaimDead", err, nil)
	if !slices.Equal(dead, []string{"node-c"}) {
		t.Errorf("NodeClaimDead = %v, want [node-c]", dead)
	}
	beat(a, "node-c", time.Minute, true)

	// Departed: gone at once, revived when it beats again.
	wantErr(t, "NodeLeave", a.NodeLeave(c, "node-c"), nil)
	if nodes, _ := a.NodeList(c); !slices.Equal(nodeIDs(nodes), []string{"node-a", "node-b"}) {
		t.Errorf("NodeList after NodeLeave(node-c) = %v", nodeIDs(nodes))
	}
	beat(a, "node-c", time.Minute, true)
	wantErr(t, "NodeLeave of an absent node", a.NodeLeave(c, "node-x"), nil)
}

// NodeClaimDead returns each dead node to exactly one of two claimers that race, never a
// live node and never the claimer itself.
func testClusterClaimDeadOnce(t *testing.T, sa, sb store.Store) {
	a, b := cluster(t, sa), cluster(t, sb)
	c := t.Context()
	const dead = 20
	for round := range 3 {
		for i := range dead {
			if _, err := a.NodeBeat(c, fmt.Sprintf("dead-%d-%d", round, i), 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"claimer-a", "claimer-b"} {
			if _, err := a.NodeBeat(c, n, 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.NodeBeat(c, "alive", time.Minute); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			claims = map[string][]string{}
			errs   []error
		)
		for _, claimer := range []struct {
			cl   store.Cluster
			self string
		}{{a, "claimer-a"}, {b, "claimer-b"}} {
			for range 2 { // each claimer twice at once, too
				wg.Go(func() {
					got, err := claimer.cl.NodeClaimDead(c, claimer.self)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, n := range got {
						claims[n] = append(claims[n], claimer.self)
					}
				})
			}
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("NodeClaimDead: %v", errors.Join(errs...))
		}
		for i := range dead {
			n := fmt.Sprintf("dead-%d-%d", round, i)
			if len(claims[n]) != 1 {
				t.Errorf("round %d: %s claimed by %v, want exactly one claimer", round, n, claims[n])
			}
			delete(claims, n)
		}
		// Each claimer's own expired row may be claimed by the other, never by itself.
		for n, by := range claims {
			switch {
			case n == "alive":
				t.Errorf("round %d: the live node was claimed by %v", round, by)
			case (n == "claimer-a" || n == "claimer-b") && (len(by) != 1 || by[0] == n):
				t.Errorf("round %d: %s claimed by %v, want the other claimer once", round, n, by)
			case n != "claimer-a" && n != "claimer-b":
				t.Errorf("round %d: unexpected claim of %s by %v", round, n, by)
			}
		}
	}
}

// Leases: exclusive while unexpired, renewable by the holder, taken over once expired,
// released by the holder only, and given up by NodeLeave.
func testClusterLeases(t *testing.T, sa, sb store.Store) {
	a, b := cluster(t, sa), cluster(t, sb)
	c := t.Context()
	hold := func(cl store.Cluster, name, node string, ttl time.Duration, want bool) {
		t.Helper()
		ok, err := cl.LeaseHold(c, name, node, ttl)
		if err != nil {
			t.Fatalf("LeaseHold(%s, %s): %v", name, node, err)
		}
		if ok != want {
			t.Errorf("LeaseHold(%s, %s) = %v, want %v", name, node, ok, want)
		}
	}
	hold(a, "timers", "node-a", time.Minute, true)
	hold(b, "timers", "node-b", time.Minute, false)
	hold(a, "timers", "node-a", time.Minute, true) // renewed
	hold(b, "retention", "node-b", time.Minute, true)
	hold(a, "retention", "node-a", time.Minute, false)

	// Released by its holder only.
	wantErr(t, "LeaseRelease by another node", b.LeaseRelease(c, "timers", "node-b"), nil)
	hold(b, "timers", "node-b", time.Minute, false)
	wantErr(t, "LeaseRelease", a.LeaseRelease(c, "timers", "node-a"), nil)
	hold(b, "timers", "node-b", time.Second, true)
	hold(a, "timers", "node-a", time.Minute, false)

	// Expired: another node takes it over; the former holder no longer holds it.
	time.Sleep(1500 * time.Millisecond)
	hold(a, "timers", "node-a", time.Minute, true)
	hold(b, "timers", "node-b", time.Minute, false)

	// A renewal that keeps a short lease alive past its first ttl.
	hold(b, "short", "node-b", time.Second, true)
	for range 3 {
		time.Sleep(600 * time.Millisecond)
		hold(b, "short", "node-b", time.Second, true)
	}
	hold(a, "short", "node-a", time.Minute, false)

	// NodeLeave gives up the node's leases.
	wantErr(t, "NodeLeave", b.NodeLeave(c, "node-b"), nil)
	hold(a, "retention", "node-a", time.Minute, true)
	hold(a, "short", "node-a", time.Minute, true)

	// Concurrent takers of a free lease: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan string, 8)
	for i := range 8 {
		cl := []store.Cluster{a, b}[i%2]
		node := fmt.Sprintf("racer-%d", i)
		wg.Go(func() {
			if ok, err := cl.LeaseHold(c, "race", node, time.Minute); err != nil {
				t.Errorf("LeaseHold(race, %s): %v", node, err)
			} else if ok {
				wins <- node
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Errorf("%d racers hold the lease, want 1", n)
	}
}

// listener runs Listen on cl until t ends and hands over what it receives.
type listener struct {
	notes chan store.Notification
}

func listen(t *testing.T, cl store.Cluster) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{notes: make(chan store.Notification, 1000)}
	done := make(chan error, 1)
	go func() { done <- cl.Listen(ctx, func(n store.Notification) { l.notes <- n }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Listen returned %v after its context ended, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Listen did not return after its context ended")
		}
	})
	return l
}

// next returns the next notification, failing t when none comes within 10 s.
func (l *listener) next(t *testing.T, what string) store.Notification {
	t.Helper()
	select {
	case n := <-l.notes:
		return n
	case <-time.After(10 * time.Second):
		t.Fatalf("no notification within 10 s, waiting for %s", what)
		return store.Notification{}
	}
}

// expect fails t unless the next notifications are want, in order.
func (l *listener) expect(t *testing.T, want ...store.Notification) {
	t.Helper()
	for i, w := range want {
		if got := l.next(t, fmt.Sprintf("%+v", w)); got != w {
			t.Fatalf("notification %d = %+v, want %+v (all wanted: %+v)", i, got, w, want)
		}
	}
}

// quiet fails t when a notification arrives within d.
func (l *listener) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case n := <-l.notes:
		t.Fatalf("unexpected notification %+v", n)
	case <-time.After(d):
	}
}

var (
	noteEvents     = store.Notification{Kind: store.NotifyEvents}
	noteBroadcasts = store.Notification{Kind: store.NotifyBroadcasts}
	noteListening  = store.Notification{Reconnected: true}
)

func noteConfig(app uint64) store.Notification {
	return store.Notification{Kind: store.NotifyConfig, App: app}
}

// Notifications at commit: each kind a commit on one node causes reaches the listener of
// the other (and of its own node), in commit order, once per kind and transaction; a rolled
// back transaction and writes of other kinds announce nothing.
func testClusterNotifications(t *testing.T, sa, sb store.Store) {
	la := listen(t, cluster(t, sa))
	la.expect(t, noteListening)
	c := t.Context()
	event := func(tx store.Tx) (store.Event, error) {
		e := store.Event{App: app, RoomID: "r1", Command: "Live.CallbackAfterCreateRoom", Body: []byte(`{}`),
			CreatedAt: at(1), NextAttemptAt: at(1), State: store.EventPending}
		err := tx.EventInsert(c, &e)
		return e, err
	}
	broadcast := func(tx store.Tx) error {
		ctx, err := clusterTx(tx)
		if err != nil {
			return err
		}
		return ctx.BroadcastInsert(c, &store.Broadcast{App: app, RoomID: "r1", Origin: "node-b", Kind: "OwnerChanged", Body: []byte(`{}`)})
	}
	config := func(tx store.Tx, a uint64) error {
		return tx.CallbackConfigPut(c, store.CallbackConfig{App: a, URL: "http://127.0.0.1:1/cb", UpdatedAt: at(1)})
	}

	// One kind per transaction, on b: heard on a in commit order.
	mustTx(t, sb, func(tx store.Tx) error { return config(tx, 7) })
	mustTx(t, sb, func(tx store.Tx) error { _, err := event(tx); return err })
	mustTx(t, sb, broadcast)
	var recorded store.Event
	mustTx(t, sb, func(tx store.Tx) error { // a Before-callback's record is never pending: no announcement
		recorded = store.Event{App: app, RoomID: "r1", Command: "Live.CallbackBeforeCreateRoom", Body: []byte(`{}`),
			CreatedAt: at(1), NextAttemptAt: at(1), State: store.EventDelivered, DeliveredAt: at(1)}
		return tx.EventInsertRecorded(c, &recorded, &store.Attempt{N: 1, StartedAt: at(1), URL: "http://x", StatusCode: 200})
	})
	mustTx(t, sb, func(tx store.Tx) error { _, err := tx.EventRequeue(c, recorded.ID, at(2)); return err })
	mustTx(t, sb, func(tx store.Tx) error { // writes of no announced kind
		_, err := tx.AccountUpsert(c, store.Account{App: app, UserID: "u1", CreatedAt: at(1)})
		return err
	})
	mustTx(t, sb, func(tx store.Tx) error { return config(tx, 8) })
	la.expect(t, noteConfig(7), noteEvents, noteBroadcasts, noteEvents, noteConfig(8))

	// A transaction that rolls back announces nothing.
	errRollback := errors.New("storetest: rolled back on purpose")
	if err := sb.Tx(c, func(tx store.Tx) error {
		if _, err := event(tx); err != nil {
			return err
		}
		if err := broadcast(tx); err != nil {
			return err
		}
		if err := config(tx, 9); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("Tx = %v, want the fn's error", err)
	}
	mustTx(t, sb, func(tx store.Tx) error { return config(tx, 10) })
	la.expect(t, noteConfig(10))

	// Many writes of several kinds in one transaction: each kind once (and each app once).
	mustTx(t, sb, func(tx store.Tx) error {
		for range 3 {
			if _, err := event(tx); err != nil {
				return err
			}
			if err := broadcast(tx); err != nil {
				return err
			}
			if err := config(tx, 11); err != nil {
				return err
			}
			if err := config(tx, 12); err != nil {
				return err
			}
		}
		return nil
	})
	var got []store.Notification
	for range 4 {
		got = append(got, la.next(t, "the four kinds of one transaction"))
	}
	for _, w := range []store.Notification{noteEvents, noteBroadcasts, noteConfig(11), noteConfig(12)} {
		if !slices.Contains(got, w) {
			t.Errorf("one transaction of every kind announced %+v, missing %+v", got, w)
		}
	}

	// Concurrent calls that a driver may group: the failing ones announce nothing, every
	// kind of the others is heard (perhaps once for several of them).
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			err := sb.Tx(c, func(tx store.Tx) error {
				if i%2 == 1 {
					if err := config(tx, 100+uint64(i)); err != nil {
						return err
					}
					return errRollback
				}
				return config(tx, 100+uint64(i))
			})
			if (i%2 == 1) != errors.Is(err, errRollback) {
				t.Errorf("Tx %d = %v", i, err)
			}
		})
	}
	wg.Wait()
	heard := map[uint64]bool{}
	for range 8 {
		n := la.next(t, "the configs of the calls that committed")
		if n.Kind != store.NotifyConfig || n.App < 100 || n.App%2 == 1 || heard[n.App] {
			t.Fatalf("concurrent calls: unexpected notification %+v (heard %v)", n, heard)
		}
		heard[n.App] = true
	}

	// The listener's own node is heard too; and a second listener hears the same.
	lb := listen(t, cluster(t, sb))
	lb.expect(t, noteListening)
	mustTx(t, sa, func(tx store.Tx) error { return config(tx, 13) })
	la.expect(t, noteConfig(13))
	lb.expect(t, noteConfig(13))
	la.quiet(t, 200*time.Millisecond)
	lb.quiet(t, 0)
}

// Broadcasts: ids in commit order across the two nodes (a reader paging by id misses none),
// BroadcastLast, and BroadcastPrune oldest first, bounded by time and count.
func testClusterBroadcasts(t *testing.T, sa, sb store.Store) {
	a := cluster(t, sa)
	c := t.Context()
	if last, err := a.BroadcastLast(c); err != nil || last != 0 {
		t.Fatalf("BroadcastLast of no broadcast = %d, %v; want 0", last, err)
	}
	if list, err := a.BroadcastList(c, 0, 10); err != nil || len(list) != 0 {
		t.Fatalf("BroadcastList of no broadcast = %v, %v", list, err)
	}

	const writers, perWriter = 6, 30
	stop := make(chan struct{})
	paged := map[int64]store.Broadcast{}
	var cursor int64
	var readErr error
	page := func() error {
		for {
			bs, err := a.BroadcastList(c, cursor, 7)
			if err != nil {
				return err
			}
			for _, b := range bs {
				if b.ID <= cursor {
					return fmt.Errorf("BroadcastList after %d returned id %d", cursor, b.ID)
				}
				paged[b.ID] = b
				cursor = b.ID
			}
			if len(bs) < 7 {
				return nil
			}
		}
	}
	var reader sync.WaitGroup
	reader.Go(func() { readErr = untilClosed(stop, page) })
	var mu sync.Mutex
	committed := map[int64]store.Broadcast{}
	var wg sync.WaitGroup
	for w := range writers {
		s, origin := []store.Store{sa, sb}[w%2], []string{"node-a", "node-b"}[w%2]
		wg.Go(func() {
			for i := range perWriter {
				b := store.Broadcast{App: app, RoomID: fmt.Sprintf("r%d", w), Origin: origin, Kind: "SeatsChanged",
					Body: []byte(fmt.Sprintf("w%d-%d", w, i))}
				fail := i%4 == 3
				err := s.Tx(c, func(tx store.Tx) error {
					ctx, err := clusterTx(tx)
					if err != nil {
						return err
					}
					if err := ctx.BroadcastInsert(c, &b); err != nil {
						return err
					}
					if fail {
						return errors.New("storetest: rolled back on purpose")
					}
					return nil
				})
				if fail != (err != nil) {
					t.Errorf("Tx of writer %d, broadcast %d: %v", w, i, err)
				}
				if !fail && err == nil {
					mu.Lock()
					committed[b.ID] = b
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	reader.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	if err := page(); err != nil {
		t.Fatal(err)
	}
	if len(paged) != len(committed) {
		t.Errorf("the cursor reader saw %d broadcasts, %d were committed: ids are not in commit order", len(paged), len(committed))
	}
	var maxID int64
	for id, want := range committed {
		maxID = max(maxID, id)
		got, ok := paged[id]
		if !ok {
			t.Errorf("broadcast %d (%s) committed but never seen by the cursor reader", id, want.Body)
			continue
		}
		if got.App != want.App || got.RoomID != want.RoomID || got.Origin != want.Origin || got.Kind != want.Kind ||
			string(got.Body) != string(want.Body) || !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.IsZero() {
			t.Errorf("broadcast %d = %s, want %s", id, show(got), show(want))
		}
	}
	for id, b := range paged {
		if _, ok := committed[id]; !ok {
			t.Errorf("broadcast %d (%s) visible but not committed", id, b.Body)
		}
	}
	if last, err := a.BroadcastLast(c); err != nil || last != maxID {
		t.Errorf("BroadcastLast = %d, %v; want %d", last, err, maxID)
	}

	// Prune: only those created before the cutoff, oldest (lowest id) first, at most limit.
	var old []int64
	mustTx(t, sb, func(tx store.Tx) error {
		old = old[:0]
		ctx, err := clusterTx(tx)
		if err != nil {
			return err
		}
		for i := range 5 {
			b := store.Broadcast{App: app, RoomID: "old", Origin: "node-b", Kind: "Old", CreatedAt: at(i)}
			if err := ctx.BroadcastInsert(c, &b); err != nil {
				return err
			}
			old = append(old, b.ID)
		}
		return nil
	})
	n, err := a.BroadcastPrune(c, at(4), 3)
	if err != nil || n != 3 {
		t.Fatalf("BroadcastPrune(at 4, limit 3) = %d, %v; want 3", n, err)
	}
	n, err = a.BroadcastPrune(c, at(4), 10)
	if err != nil || n != 1 {
		t.Fatalf("BroadcastPrune(at 4, limit 10) = %d, %v; want 1 (the one at 4 stays)", n, err)
	}
	rest, err := a.BroadcastList(c, old[0]-1, 0)
	wantErr(t, "BroadcastList", err, nil)
	if len(rest) != 1 || rest[0].ID != old[4] || len(rest[0].Body) != 0 || !rest[0].CreatedAt.Equal(at(4)) {
		t.Errorf("after pruning, the old broadcasts left are %+v, want only id %d, created at 4 s", rest, old[4])
	}
	if last, _ := a.BroadcastLast(c); last != old[4] {
		t.Errorf("BroadcastLast = %d, want %d", last, old[4])
	}
	if n, err := a.BroadcastPrune(c, time.Now().Add(time.Hour), 0); err != nil || n != len(committed)+1 {
		t.Errorf("BroadcastPrune(everything) = %d, %v; want %d", n, err, len(committed)+1)
	}
}

package cluster_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/cluster"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/testkit"
)

const (
	beat = 50 * time.Millisecond
	ttl  = 300 * time.Millisecond
)

// holders counts, per role, the nodes whose work runs, and fails the test when two run at
// once.
type holders struct {
	t  *testing.T
	mu sync.Mutex
	by map[cluster.Role]map[string]bool
}

func (h *holders) work(node string) map[cluster.Role]cluster.Work {
	w := map[cluster.Role]cluster.Work{}
	for _, r := range cluster.Roles {
		w[r] = cluster.Work{
			Begin: func(context.Context) error {
				h.mu.Lock()
				defer h.mu.Unlock()
				for other, on := range h.by[r] {
					if on && other != node {
						h.t.Errorf("%s begins %s while %s holds it", node, r, other)
					}
				}
				h.by[r][node] = true
				return nil
			},
			End: func(context.Context) {
				h.mu.Lock()
				defer h.mu.Unlock()
				h.by[r][node] = false
			},
		}
	}
	return w
}

func startNode(t *testing.T, dsn, id string, h *holders, dead *atomic.Value) *cluster.Node {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := cluster.New(cluster.Options{Store: st, Node: id, BeatInterval: beat, NodeTTL: ttl, LeaseTTL: ttl, Work: h.work(id),
		Handlers: cluster.Handlers{RecoverNode: func(_ context.Context, node string) (int, error) {
			dead.Store(node)
			return 0, nil
		}}})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

// Two nodes: the first takes every role at Start; a clean stop hands them over at the
// next beat; a node that stops beating loses them at its deadline, the other takes them
// once the leases expire and recovers it as dead. No role ever runs on two nodes at once.
func TestRolesMoveBetweenNodes(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	h := &holders{t: t, by: map[cluster.Role]map[string]bool{}}
	for _, r := range cluster.Roles {
		h.by[r] = map[string]bool{}
	}
	var dead atomic.Value
	a := startNode(t, dsn, "a", h, &dead)
	for _, r := range cluster.Roles {
		if !a.Holds(r) {
			t.Fatalf("a does not hold %s after Start", r)
		}
	}
	b := startNode(t, dsn, "b", h, &dead)
	time.Sleep(3 * beat)
	for _, r := range cluster.Roles {
		if b.Holds(r) {
			t.Fatalf("b holds %s, which a holds", r)
		}
	}

	// A clean stop: b takes over at its next beat.
	stopped := time.Now()
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "b holds every role", 2*time.Second, func() (bool, string) {
		return b.Holds(cluster.Delivery) && b.Holds(cluster.Timers) && b.Holds(cluster.Retention), ""
	})
	if d := time.Since(stopped); d > ttl {
		t.Errorf("b took the roles %s after a's clean stop, not at its next beat", d)
	}

	// b stops beating: c takes over once the leases expire, and recovers b.
	c := startNode(t, dsn, "c", h, &dead)
	b.Halt()
	halted := time.Now()
	testkit.Eventually(t, "b gives its roles up", 2*time.Second, func() (bool, string) {
		return !b.Holds(cluster.Delivery) && !b.Holds(cluster.Timers) && !b.Holds(cluster.Retention), ""
	})
	if d := time.Since(halted); d > ttl {
		t.Errorf("b gave its roles up %s after its last beat, past its lease of %s", d, ttl)
	}
	testkit.Eventually(t, "c holds every role", 3*time.Second, func() (bool, string) {
		return c.Holds(cluster.Delivery) && c.Holds(cluster.Timers) && c.Holds(cluster.Retention), ""
	})
	testkit.Eventually(t, "c recovers b", 3*time.Second, func() (bool, string) {
		v, _ := dead.Load().(string)
		return v == "b", v
	})
	c.Stop(context.Background())
	b.Stop(context.Background())
}

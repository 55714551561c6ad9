package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Role names a cluster-wide role; it is the name of its lease.
type Role string

// The roles of a roomd cluster.
const (
	// Delivery runs the dispatcher: one leader delivers every room's callbacks, which
	// keeps per-room order across nodes without coordinating per event.
	Delivery Role = "delivery"
	// Timers runs the room timers (reconnect grace, auto-dissolve, seat requests) and the
	// battle timers, once per cluster.
	Timers Role = "timers"
	// Retention prunes the delivery log, once per cluster.
	Retention Role = "retention"
)

// Roles lists the roles in the order they are taken.
var Roles = []Role{Delivery, Timers, Retention}

// Work is what a role does while held.
type Work struct {
	// Begin starts the role's work; ctx lasts as long as the node runs. An error gives
	// the lease back (another node may take it).
	Begin func(ctx context.Context) error
	// End stops it and returns promptly; ctx bounds the wait.
	End func(ctx context.Context)
}

// Handlers are called by the node's listener, one at a time, in commit order; they must
// not block for long. A nil handler is skipped.
type Handlers struct {
	// Events: other nodes (or this one) committed outbox events.
	Events func()
	// Config: the callback configuration of app changed.
	Config func(ctx context.Context, app uint64)
	// ConfigAll: notifications may have been missed; read every app's configuration.
	ConfigAll func(ctx context.Context)
	// Broadcasts: other nodes committed room events for this node's clients.
	Broadcasts func()
	// RecoverNode recovers the members of a dead node (called from the beat loop).
	RecoverNode func(ctx context.Context, node string) (int, error)
	// Revived is called when this node learns that it was declared dead while it could
	// not beat: its members were recovered by another node.
	Revived func()
}

// Options configure a Node.
type Options struct {
	Store  store.Cluster
	Node   string
	Logger *slog.Logger
	// BeatInterval, NodeTTL and LeaseTTL: see config.Cluster.
	BeatInterval, NodeTTL, LeaseTTL time.Duration
	// Work maps each role this node may take to its work; roles absent are never taken.
	Work map[Role]Work
	Handlers
}

// Node is a running node of a cluster (see the package documentation).
type Node struct {
	o      Options
	margin time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// beatStop stops the beat loop alone (Halt).
	beatStop context.CancelFunc

	frozen atomic.Bool
	live   bool // a beat has succeeded (beat loop only)
	// revivals counts the beats that reported this node revived after it had been live.
	revivals atomic.Int64

	roles map[Role]*role
}

// role is the state of one role on this node.
type role struct {
	name Role
	work Work
	// mu serializes the role's transitions (Begin and End run under it).
	mu   sync.Mutex
	held bool
	// deadline is when this node gives the role up unless renewed (UnixNano; 0 while
	// free). Read without mu by Holds.
	deadline atomic.Int64
	timer    *time.Timer
}

// New returns a node; nothing runs until Start.
func New(o Options) *Node {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{o: o, margin: o.LeaseTTL / 4, roles: map[Role]*role{}}
	for _, name := range Roles {
		if w, ok := o.Work[name]; ok {
			n.roles[name] = &role{name: name, work: w}
		}
	}
	return n
}

// ID returns the node's id.
func (n *Node) ID() string { return n.o.Node }

// callTimeout bounds one statement of the beat: a statement that hangs (a cut connection)
// must not hold the beat loop past the point where the leases matter.
func (n *Node) callTimeout() time.Duration { return max(n.o.LeaseTTL/2, time.Millisecond) }

// Start beats once (an error is returned: the database must be reachable to start), then
// starts the beat loop and the listener, which run until Stop.
func (n *Node) Start(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, max(n.callTimeout(), 5*time.Second))
	_, err := n.o.Store.NodeBeat(cctx, n.o.Node, n.o.NodeTTL)
	cancel()
	if err != nil {
		return fmt.Errorf("node %s: first beat: %w", n.o.Node, err)
	}
	n.live = true
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	var bctx context.Context
	bctx, n.beatStop = context.WithCancel(n.ctx)
	n.o.Logger.Info("node_started", "node", n.o.Node)
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.beatLoop(bctx)
	}()
	go func() {
		defer n.wg.Done()
		n.listenLoop(n.ctx)
	}()
	return nil
}

// Holds reports whether this node holds role now (and its local deadline has not passed).
func (n *Node) Holds(r Role) bool {
	ro := n.roles[r]
	if ro == nil {
		return false
	}
	d := ro.deadline.Load()
	return d != 0 && time.Now().UnixNano() < d
}

// Revivals reports how many times this node learnt that it had been declared dead while
// it could not beat (for tests and metrics).
func (n *Node) Revivals() int64 { return n.revivals.Load() }

// Freeze makes the node take no new role; it keeps renewing those it holds.
func (n *Node) Freeze() { n.frozen.Store(true) }

// Halt stops the beat loop and nothing else, as when the node hangs or is cut off from
// the database: its roles end at their local deadlines. For tests.
func (n *Node) Halt() {
	if n.beatStop != nil {
		n.beatStop()
	}
}

// Stop ends the loops and every held role, releases the leases and deletes the node's
// row, within ctx.
func (n *Node) Stop(ctx context.Context) error {
	n.Freeze()
	if n.cancel == nil {
		return nil
	}
	n.cancel()
	n.wg.Wait()
	var errs []error
	for _, name := range Roles {
		r := n.roles[name]
		if r == nil {
			continue
		}
		if n.end(r, ctx, "stop") {
			if err := n.o.Store.LeaseRelease(ctx, string(name), n.o.Node); err != nil {
				errs = append(errs, fmt.Errorf("release lease %s: %w", name, err))
			}
		}
	}
	if err := n.o.Store.NodeLeave(ctx, n.o.Node); err != nil {
		errs = append(errs, fmt.Errorf("node leave: %w", err))
	}
	n.o.Logger.Info("node_stopped", "node", n.o.Node)
	return errors.Join(errs...)
}

// beatLoop beats every BeatInterval until ctx ends.
func (n *Node) beatLoop(ctx context.Context) {
	t := time.NewTicker(n.o.BeatInterval)
	defer t.Stop()
	for {
		n.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beat is one beat: NodeBeat, NodeClaimDead and the roles' leases.
func (n *Node) beat(ctx context.Context) {
	call := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, n.callTimeout()) }
	cctx, cancel := call()
	revived, err := n.o.Store.NodeBeat(cctx, n.o.Node, n.o.NodeTTL)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		n.o.Logger.Warn("node_beat_failed", "node", n.o.Node, "err", err)
	} else {
		if revived && n.live {
			// Declared dead while partitioned: another node recovered our members and may
			// hold our roles' leases by now.
			n.o.Logger.Warn("node_revived", "node", n.o.Node)
			n.revivals.Add(1)
			n.dropAll("revived")
			if n.o.Revived != nil {
				n.o.Revived()
			}
		}
		n.live = true
		cctx, cancel = call()
		dead, err := n.o.Store.NodeClaimDead(cctx, n.o.Node)
		cancel()
		if err != nil && ctx.Err() == nil {
			n.o.Logger.Warn("node_claim_dead_failed", "node", n.o.Node, "err", err)
		}
		for _, d := range dead {
			n.recover(ctx, d)
		}
	}
	for _, name := range Roles {
		r := n.roles[name]
		if r == nil || ctx.Err() != nil {
			continue
		}
		if n.frozen.Load() && !r.isHeld() {
			continue
		}
		sent := time.Now()
		cctx, cancel = call()
		held, err := n.o.Store.LeaseHold(cctx, string(name), n.o.Node, n.o.LeaseTTL)
		cancel()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				n.o.Logger.Warn("lease_hold_failed", "node", n.o.Node, "role", name, "err", err)
			}
		case held:
			n.renewed(ctx, r, sent)
		default:
			n.end(r, ctx, "held by another node")
		}
	}
}

// recover recovers a dead node's members.
func (n *Node) recover(ctx context.Context, dead string) {
	n.o.Logger.Warn("node_dead", "node", n.o.Node, "dead", dead)
	if n.o.RecoverNode == nil {
		return
	}
	m, err := n.o.RecoverNode(ctx, dead)
	if err != nil {
		// The dead node's row is gone, so nobody else will: log it loudly. Its members
		// still lose their heartbeat when their grace periods are checked.
		n.o.Logger.Error("node_recover_failed", "node", n.o.Node, "dead", dead, "err", err)
		return
	}
	n.o.Logger.Info("node_recovered", "node", n.o.Node, "dead", dead, "members", m)
}

func (r *role) isHeld() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held
}

// renewed records a successful LeaseHold sent at sent: the role's deadline moves on, and
// the role begins if it was free.
func (n *Node) renewed(ctx context.Context, r *role, sent time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	deadline := sent.Add(n.o.LeaseTTL - n.margin)
	wait := time.Until(deadline)
	if wait <= 0 {
		return // too late to count: the renewal took longer than the lease allows
	}
	if !r.held {
		if n.frozen.Load() {
			return
		}
		if err := r.work.Begin(n.ctx); err != nil {
			n.o.Logger.Error("role_begin_failed", "node", n.o.Node, "role", r.name, "err", err)
			cctx, cancel := context.WithTimeout(ctx, n.callTimeout())
			n.o.Store.LeaseRelease(cctx, string(r.name), n.o.Node)
			cancel()
			return
		}
		r.held = true
		n.o.Logger.Info("role_taken", "node", n.o.Node, "role", r.name)
	}
	r.deadline.Store(deadline.UnixNano())
	if r.timer == nil {
		r.timer = time.AfterFunc(wait, func() { n.expire(r) })
	} else {
		r.timer.Reset(wait)
	}
}

// expire gives r up when its deadline has passed without a renewal.
func (n *Node) expire(r *role) {
	r.mu.Lock()
	late := r.held && time.Now().UnixNano() >= r.deadline.Load()
	r.mu.Unlock()
	if late {
		ctx, cancel := context.WithTimeout(context.Background(), n.margin)
		defer cancel()
		n.end(r, ctx, "lease not renewed before its deadline")
	}
}

// end gives r up if held and reports whether it was.
func (n *Node) end(r *role, ctx context.Context, why string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held {
		return false
	}
	r.held = false
	r.deadline.Store(0)
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(n.margin, time.Second))
	defer cancel()
	r.work.End(ectx)
	n.o.Logger.Warn("role_given_up", "node", n.o.Node, "role", r.name, "reason", why)
	return true
}

// dropAll gives every held role up at once.
func (n *Node) dropAll(why string) {
	var wg sync.WaitGroup
	for _, r := range n.roles {
		wg.Go(func() { n.end(r, context.Background(), why) })
	}
	wg.Wait()
}

// listenLoop runs the listener until ctx ends, restarting it after a failure.
func (n *Node) listenLoop(ctx context.Context) {
	for {
		err := n.o.Store.Listen(ctx, func(nt store.Notification) { n.dispatch(ctx, nt) })
		if ctx.Err() != nil {
			return
		}
		n.o.Logger.Warn("cluster_listen_failed", "node", n.o.Node, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(n.o.BeatInterval, time.Second)):
		}
		// What was announced while nobody listened is caught up as after a reconnection.
		n.dispatch(ctx, store.Notification{Reconnected: true})
	}
}

// dispatch hands one notification to the handlers.
func (n *Node) dispatch(ctx context.Context, nt store.Notification) {
	h := n.o.Handlers
	switch {
	case nt.Reconnected:
		if h.Events != nil {
			h.Events()
		}
		if h.ConfigAll != nil {
			h.ConfigAll(ctx)
		}
		if h.Broadcasts != nil {
			h.Broadcasts()
		}
	case nt.Kind == store.NotifyEvents:
		if h.Events != nil {
			h.Events()
		}
	case nt.Kind == store.NotifyConfig:
		if h.Config != nil {
			h.Config(ctx, nt.App)
		}
	case nt.Kind == store.NotifyBroadcasts:
		if h.Broadcasts != nil {
			h.Broadcasts()
		}
	}
}

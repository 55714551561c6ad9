package app

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/cluster"
	"github.com/roomd/roomd/internal/store"
)

// The roles of a node: on a store that several nodes share (store.Cluster), each is held
// under a lease by one node at a time (package cluster); alone on its store (SQLite), the
// node holds every role from Start to Close.

// Node returns the node's cluster runtime, or nil when the node runs alone on its store.
func (s *Server) Node() *cluster.Node { return s.node }

// NodeID is the node's id among those sharing the database ("" when alone).
func (s *Server) NodeID() string {
	if s.node == nil {
		return ""
	}
	return s.node.ID()
}

// roleHeld reports whether this node holds role now: always when alone on its store.
func (s *Server) roleHeld(r cluster.Role) bool {
	return s.node == nil || s.node.Holds(r)
}

// roleLease is retention's Lease on a shared store: the node's "retention" role, whose lease
// the node renews every beat.
type roleLease struct{ s *Server }

// Hold implements retention.Lease.
func (l roleLease) Hold(context.Context, time.Duration) (bool, error) {
	return l.s.roleHeld(cluster.Retention), nil
}

// roleLoop runs one goroutine while a role is held: begin starts it, end cancels it and
// waits for it to return (up to ctx).
type roleLoop struct {
	s      *Server
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (t *roleLoop) begin(ctx context.Context, run func(ctx context.Context)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancel != nil {
		return nil
	}
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		run(ctx)
	}(t.done)
	return nil
}

// timerWork runs the room and battle timers while this node holds the "timers" role.
type timerWork struct{ roleLoop }

func (t *timerWork) begin(ctx context.Context) error { return t.roleLoop.begin(ctx, t.s.runTimers) }

func (t *roleLoop) end(ctx context.Context) {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.cancel, t.done = nil, nil
	t.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// broadcastPruneInterval is how often the retention role prunes the broadcasts.
const broadcastPruneInterval = 10 * time.Second

// prunerWork prunes the broadcasts while this node holds the "retention" role.
type prunerWork struct{ loop roleLoop }

func (p *prunerWork) begin(ctx context.Context) error {
	s := p.loop.s
	return p.loop.begin(ctx, func(ctx context.Context) {
		t := time.NewTicker(broadcastPruneInterval)
		defer t.Stop()
		for {
			if err := s.pruneBroadcasts(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("prune_broadcasts_failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

func (p *prunerWork) end(ctx context.Context) { p.loop.end(ctx) }

// startAlone starts the roles of a node alone on its store: delivery and timers run until
// Close; its members of the previous process lost their connections with it.
func (s *Server) startAlone() error {
	// The dispatcher runs until Close stops it, not for as long as some request lives.
	if err := s.Delivery.Begin(context.Background()); err != nil {
		return fmt.Errorf("start dispatcher: %w", err)
	}
	// The members of the previous process lost their connections with it: they are
	// reported as having lost their heartbeat and may come back within the grace period.
	if n, err := s.Rooms.RecoverPresence(context.Background()); err != nil {
		return fmt.Errorf("recover presence: %w", err)
	} else if n > 0 {
		s.log.Info("presence_recovered", "members", n)
	}
	return s.timers.begin(context.Background())
}

// startNode starts this node's part in a cluster over cl: its members of a previous run
// (the node id is stable across restarts) are recovered, then the node beats, takes roles
// and listens (package cluster).
func (s *Server) startNode(cl store.Cluster) error {
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	id := s.cfg.Cluster.NodeID(port)
	// The room service records the node in the members its connections make, and
	// broadcasts its events to the other nodes' clients (room/cluster.go).
	s.Rooms.SetNode(id)
	relay := make(chan struct{}, 1)
	s.node = cluster.New(cluster.Options{
		Store: cl, Node: id, Logger: s.log.With("node", id),
		BeatInterval: s.cfg.Cluster.BeatInterval, NodeTTL: s.cfg.Cluster.NodeTTL, LeaseTTL: s.cfg.Cluster.LeaseTTL,
		Work: map[cluster.Role]cluster.Work{
			// A term of delivery ends by End, not with the node's context.
			cluster.Delivery: {Begin: func(context.Context) error { return s.Delivery.Begin(context.Background()) }, End: func(ctx context.Context) {
				if err := s.Delivery.End(ctx); err != nil {
					s.log.Warn("delivery_term_end", "err", err)
				}
			}},
			cluster.Timers:    {Begin: s.timers.begin, End: s.timers.end},
			// The delivery log is pruned by s.Retention, which asks roleLease; the
			// broadcasts are pruned here.
			cluster.Retention: {Begin: s.pruner.begin, End: s.pruner.end},
		},
		Handlers: cluster.Handlers{
			Events: s.Delivery.Wake,
			Config: func(ctx context.Context, app uint64) {
				if err := s.settings.Reload(ctx, app); err != nil && ctx.Err() == nil {
					s.log.Error("callback_config_reload_failed", "app", app, "err", err)
				}
			},
			ConfigAll: func(ctx context.Context) {
				if err := s.settings.Load(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("callback_config_reload_failed", "err", err)
				}
			},
			Broadcasts: func() {
				select {
				case relay <- struct{}{}:
				default:
				}
			},
			RecoverNode: s.Rooms.RecoverNode,
			// Declared dead while cut off: this node's members were recovered by another
			// (they lost their heartbeat). Its clients reconnect and enter again.
			Revived: s.client.CloseAll,
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.stopNode = cancel
	// Members of this node's previous run (it crashed, or was killed) whom no other node
	// has recovered: they lost their connections with it.
	if n, err := s.Rooms.RecoverNode(ctx, id); err != nil {
		return fmt.Errorf("recover presence of node %s: %w", id, err)
	} else if n > 0 {
		s.log.Info("presence_recovered", "node", id, "members", n)
	}
	if err := s.node.Start(ctx); err != nil {
		return err
	}
	// Other nodes' room events reach this node's clients (cluster_clients.go), one relay
	// at a time, woken by the listener.
	s.wg.Go(func() {
		for {
			if err := s.relayBroadcasts(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("relay_broadcasts_failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-relay:
			}
		}
	})
	return nil
}

// stopRoles ends this node's roles: alone, its timers (delivery is stopped by Close
// itself); in a cluster, it leaves (package cluster: roles ended, leases released, row
// deleted), so that the other nodes take the roles over at their next beat.
func (s *Server) stopRoles(ctx context.Context) error {
	if s.node == nil {
		s.timers.end(ctx)
		return nil
	}
	if s.stopNode != nil {
		s.stopNode()
	}
	return s.node.Stop(ctx)
}

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

// nodeRecoverer is the room service's recovery of a dead node's members (package room).
type nodeRecoverer interface {
	RecoverNode(ctx context.Context, node string) (int, error)
}

// broadcastRelay feeds other nodes' room events to this node's clients (cluster_clients.go).
type broadcastRelay interface {
	relayBroadcasts(ctx context.Context) error
}

// clientCloser closes every client connection (package clientapi).
type clientCloser interface {
	CloseAll()
}

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

// timerWork runs the room and battle timers while this node holds the "timers" role.
type timerWork struct {
	s      *Server
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (t *timerWork) begin(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancel != nil {
		return nil
	}
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t.s.runTimers(ctx)
	}(t.done)
	return nil
}

func (t *timerWork) end(ctx context.Context) {
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
			cluster.Retention: {Begin: func(context.Context) error { return nil }, End: func(context.Context) {}},
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
			RecoverNode: func(ctx context.Context, node string) (int, error) {
				if r, ok := any(s.Rooms).(nodeRecoverer); ok {
					return r.RecoverNode(ctx, node)
				}
				return 0, nil
			},
			Revived: func() {
				if c, ok := any(s.client).(clientCloser); ok {
					c.CloseAll()
				}
			},
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.stopNode = cancel
	// Members of this node's previous run (it crashed, or was killed) whom no other node
	// has recovered: they lost their connections with it.
	if r, ok := any(s.Rooms).(nodeRecoverer); ok {
		if n, err := r.RecoverNode(ctx, id); err != nil {
			return fmt.Errorf("recover presence of node %s: %w", id, err)
		} else if n > 0 {
			s.log.Info("presence_recovered", "node", id, "members", n)
		}
	}
	if err := s.node.Start(ctx); err != nil {
		return err
	}
	if r, ok := any(s).(broadcastRelay); ok {
		s.wg.Go(func() {
			for {
				if err := r.relayBroadcasts(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("relay_broadcasts_failed", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-relay:
				}
			}
		})
	}
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

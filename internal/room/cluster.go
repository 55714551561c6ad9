package room

import (
	"context"

	"github.com/roomd/roomd/internal/store"
)

// Several nodes on one database (docs/architecture.md, "Several nodes: client events").
//
// Each node has its own connections and its own live registry (live.go); the members table
// is shared. A member row records the node whose connection made the user a member
// (store.Member.Node), and only that node reports the user's departure: the last
// connection of the user on another node leaves silently. A change committed on one node
// reaches the clients of the others through a broadcast written in the same transaction
// (publish.go, eventcodec.go) and handed to each other node's observer by ObserveRemote.
// When a node dies, another one calls RecoverNode: the members that node held are treated
// as having lost their heartbeat, as RecoverPresence does at start-up for this node's
// previous incarnation.

// SetNode names this node of a cluster; "" (the default) is a single node, which writes no
// broadcasts. It is called once, before the service serves.
func (s *Service) SetNode(node string) { s.node = node }

// Node returns the node's name ("" on a single node).
func (s *Service) Node() string { return s.node }

// broadcast writes ev for the other nodes' clients in tx, when the service is clustered
// and ev is one they are told of.
func (s *Service) broadcast(ctx context.Context, tx store.Tx, ev Event) error {
	if s.node == "" {
		return nil
	}
	ctx2, ok := tx.(store.ClusterTx)
	if !ok {
		return nil
	}
	kind, body, ok := EncodeEvent(ev)
	if !ok {
		return nil
	}
	h := ev.Head()
	return ctx2.BroadcastInsert(ctx, &store.Broadcast{App: h.App, RoomID: h.RoomID, Origin: s.node, Kind: kind, Body: body})
}

// ObserveRemote hands an event committed by another node to this node's observer, as if it
// had been committed here, after applying what it means for this node's connections: a
// kicked (or banned) user's connections leave the room (a ConnsLeft follows the event), and
// a dissolved room's connections all leave it. Events of one room must be given in the
// order the other nodes committed them (broadcast id order).
func (s *Service) ObserveRemote(ev Event) {
	h := ev.Head()
	k := liveKey{h.App, h.RoomID}
	switch e := ev.(type) {
	case UserKicked:
		defer s.live.lock(k)()
		s.observe(ev)
		if conns := s.live.dropUser(k, e.UserID); len(conns) > 0 {
			s.observe(ConnsLeft{EventHead: h, Conns: conns})
		}
	case RoomDismissed:
		defer s.live.lock(k)()
		s.observe(ev)
		s.live.dropRoom(k)
	default:
		s.observe(ev)
	}
}

// RecoverNode treats the members that node's connections held as having lost their
// heartbeat (Offline/HeartbeatInterrupt, one callback per room), so that they may come back
// through any node within the grace period and be told HeartbeatRecover. The cluster calls
// it for a node it found dead; it returns how many members it moved.
func (s *Service) RecoverNode(ctx context.Context, node string) (int, error) {
	return s.recoverMembers(ctx, node)
}

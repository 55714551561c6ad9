package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
)

// Client events across nodes (docs/architecture.md, "Several nodes: client events"). Each
// node writes the room events its clients' changes and its REST calls cause as broadcasts,
// in the transaction of the change (room/cluster.go); the others read them after the
// NotifyBroadcasts notification that the commit sends, and hand them to their own clients.
// The notification carries no body: relayBroadcasts reads what is new from the database,
// after this node's cursor.

// relayCursor is this node's reading position in the broadcasts.
type relayCursor struct {
	mu     sync.Mutex // one relay at a time: broadcasts are handed over in id order
	init   bool
	cursor int64 // the highest broadcast id handed over (or skipped)
}

// Broadcasts are read in pages of relayPage; broadcastKeep is how long they are kept (a
// node that was cut off for longer has lost its clients anyway: it closed them).
const (
	relayPage     = 500
	broadcastKeep = time.Minute
)

// clusterStore returns the store's Cluster side when the server runs as a node of a
// cluster (a node id is set and the driver supports it).
func (s *Server) clusterStore() (store.Cluster, bool) {
	if s.Rooms.Node() == "" {
		return nil, false
	}
	c, ok := s.store.(store.Cluster)
	return c, ok
}

// initBroadcastRelay puts the cursor at the last broadcast committed so far: a node that
// starts has no client that could have heard of the older ones. Start calls it before
// serving; relayBroadcasts calls it when it was not.
func (s *Server) initBroadcastRelay(ctx context.Context) error {
	c, ok := s.clusterStore()
	if !ok {
		return nil
	}
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	return s.initRelayLocked(ctx, c)
}

func (s *Server) initRelayLocked(ctx context.Context, c store.Cluster) error {
	if s.relay.init {
		return nil
	}
	last, err := c.BroadcastLast(ctx)
	if err != nil {
		return err
	}
	s.relay.cursor, s.relay.init = last, true
	return nil
}

// relayBroadcasts hands the broadcasts committed since the last call to this node's clients,
// in id order: those of other nodes are decoded and given to the room service
// (room.Service.ObserveRemote), which applies them to this node's connections and passes
// them to the client API; this node's own are skipped (its clients heard of them at
// commit). The cluster calls it on every NotifyBroadcasts notification and after the
// listener reconnected; calls may overlap and repeat (they are serialised, and each reads
// only what is new). A broadcast of a kind this version does not know (a newer node's, in a
// rolling upgrade) or that does not decode is logged and skipped. On a single node it does
// nothing.
func (s *Server) relayBroadcasts(ctx context.Context) error {
	c, ok := s.clusterStore()
	if !ok {
		return nil
	}
	self := s.Rooms.Node()
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	if err := s.initRelayLocked(ctx, c); err != nil {
		return err
	}
	for {
		page, err := c.BroadcastList(ctx, s.relay.cursor, relayPage)
		if err != nil {
			return err
		}
		for _, b := range page {
			s.relay.cursor = b.ID
			if b.Origin == self {
				continue
			}
			ev, err := room.DecodeEvent(b.Kind, b.Body)
			if err != nil {
				level := s.log.Error
				if errors.Is(err, room.ErrUnknownEventKind) {
					level = s.log.Warn
				}
				level("broadcast_skipped", "id", b.ID, "origin", b.Origin, "kind", b.Kind, "room", b.RoomID, "err", err)
				continue
			}
			s.Rooms.ObserveRemote(ev)
		}
		if len(page) < relayPage {
			return nil
		}
	}
}

// pruneBroadcasts deletes the broadcasts older than broadcastKeep, in batches, and returns
// when none is left. Every node has read them within that time, or has been cut off for
// longer and closed its clients. The cluster's retention role calls it (one node at a
// time); on a single node it does nothing.
func (s *Server) pruneBroadcasts(ctx context.Context) error {
	c, ok := s.clusterStore()
	if !ok {
		return nil
	}
	before := s.now().Add(-broadcastKeep)
	for {
		n, err := c.BroadcastPrune(ctx, before, 1000)
		if err != nil || n < 1000 {
			return err
		}
	}
}

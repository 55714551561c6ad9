package clientapi

import "github.com/roomd/roomd/internal/api/clientws"

// Several nodes: the events other nodes commit reach Observe through the room service
// (room.Service.ObserveRemote), which first applies to this node's live registry what they
// mean for its connections (a kick, a dissolution), then hands them over exactly as local
// events. Every push is made from this node's hub, so no handler needs to know where an
// event came from.

// CloseAll closes every client connection, as a lost heartbeat: the node was declared dead
// while cut off from the database, and another node has already reported its members
// Offline/HeartbeatInterrupt. The clients reconnect, to this node or another, and enter
// their rooms again within the grace period (HeartbeatRecover). Unlike Shutdown, the
// client API keeps accepting connections.
func (api *API) CloseAll() {
	api.mu.Lock()
	all := make([]*clientws.Session, 0, len(api.sessions))
	for _, s := range api.sessions {
		all = append(all, s)
	}
	api.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
}

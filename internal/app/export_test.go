package app

import "context"

// RelayBroadcastsForTest runs relayBroadcasts, as the cluster's listener does on a
// NotifyBroadcasts notification.
func (s *Server) RelayBroadcastsForTest(ctx context.Context) error { return s.relayBroadcasts(ctx) }

// PruneBroadcastsForTest runs pruneBroadcasts, as the cluster's retention role does.
func (s *Server) PruneBroadcastsForTest(ctx context.Context) error { return s.pruneBroadcasts(ctx) }

// CloseAllClientsForTest closes every client connection, as a node that learns it was
// declared dead does.
func (s *Server) CloseAllClientsForTest() { s.client.CloseAll() }

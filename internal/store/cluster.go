package store

import (
	"context"
	"time"
)

// Cluster is the seam that lets several roomd nodes share one database. A driver whose
// database several processes can write (postgres) implements it; a store that does not
// (SQLite: one process owns the file) runs as a single node, and package app then uses the
// single-node implementations of every cluster-wide role (see docs/architecture.md,
// "Several nodes").
//
// All times a Cluster compares (lease and beat expiries) are the database's clock, so
// nodes with skewed clocks agree on who holds what.
type Cluster interface {
	// NodeBeat records that node is alive for ttl more. It reports revived = true when
	// node had no row: it is new, or NodeClaimDead declared it dead (or NodeLeave removed
	// it) since its last beat — a partitioned node coming back: every member and lease it
	// held is void. A row whose beat expired but that no node has claimed yet is simply
	// renewed (revived = false): nothing of the node was recovered by another.
	NodeBeat(ctx context.Context, node string, ttl time.Duration) (revived bool, err error)
	// NodeClaimDead returns the nodes other than self whose beat has expired and deletes
	// their rows in the same statement, so that exactly one caller recovers each dead node.
	NodeClaimDead(ctx context.Context, self string) ([]string, error)
	// NodeLeave deletes node's row (a clean stop: nobody needs to recover it) and gives up
	// every lease node holds, so that other nodes may take them at once.
	NodeLeave(ctx context.Context, node string) error
	// NodeList returns the live nodes (for /readyz, metrics and the console).
	NodeList(ctx context.Context) ([]Node, error)

	// LeaseHold takes or renews the named cluster-wide lease for node until ttl from now
	// and reports whether node holds it: false while another node holds an unexpired one.
	LeaseHold(ctx context.Context, name, node string, ttl time.Duration) (bool, error)
	// LeaseRelease gives the named lease up if node holds it.
	LeaseRelease(ctx context.Context, name, node string) error

	// Listen calls fn with every notification sent on the cluster's channel by any node,
	// this one included, in commit order, until ctx ends (it then returns ctx's error);
	// except this store's own NotifyEvents and NotifyBroadcasts, when their transactions'
	// after-commit hooks ran (those tell of the events and broadcasts), which it may pass
	// over. When the store cannot tell whether such a transaction committed, Listen calls
	// fn with NotifyEvents itself (a node does not relay its own broadcasts).
	// fn runs on Listen's goroutine, one call at a time; a slow fn delays the next ones.
	// Each time Listen starts listening on a connection — the first one included, and
	// again after its connection was lost and made again — it calls fn with Reconnected
	// set: whatever committed before may have been missed, so the caller catches up by
	// reading the database then, and from that call on misses nothing.
	Listen(ctx context.Context, fn func(Notification)) error

	// BroadcastList returns up to limit broadcasts with id > after, in id order (limit <= 0:
	// all of them).
	BroadcastList(ctx context.Context, after int64, limit int) ([]Broadcast, error)
	// BroadcastLast returns the highest broadcast id (0 when there is none): where a node
	// that starts begins to read.
	BroadcastLast(ctx context.Context) (int64, error)
	// BroadcastPrune deletes up to limit broadcasts created before before, oldest first,
	// and returns how many (limit <= 0: all of them).
	BroadcastPrune(ctx context.Context, before time.Time, limit int) (int, error)
}

// ClusterTx is implemented by the transactions of a Cluster store. The room service
// type-asserts it, so single-node stores need not implement it.
type ClusterTx interface {
	// BroadcastInsert appends a room event for the other nodes' clients and sets b.ID (and
	// b.CreatedAt, to the database's clock, when it is zero). Broadcast ids, like event
	// ids, are assigned in commit order across all nodes.
	BroadcastInsert(ctx context.Context, b *Broadcast) error
}

// Node is one live roomd process of a cluster.
type Node struct {
	ID        string
	StartedAt time.Time
	ExpiresAt time.Time
}

// NotificationKind tells what a notification announces.
type NotificationKind string

// The notifications a Cluster driver sends at commit, without being asked: a transaction
// that inserted outbox events or made them pending again (EventInsert, EventRequeue)
// announces NotifyEvents, one that inserted broadcasts NotifyBroadcasts, one that wrote an
// app's callback configuration NotifyConfig with the app. A transaction announces each at
// most once, and one that rolls back announces nothing. They carry no bodies: the listener
// reads what is new from the database.
const (
	NotifyEvents     NotificationKind = "events"
	NotifyBroadcasts NotificationKind = "broadcasts"
	NotifyConfig     NotificationKind = "config"
)

// Notification is one message on the cluster's channel.
type Notification struct {
	Kind NotificationKind
	App  uint64 // NotifyConfig: the app whose callback configuration changed
	// Reconnected is set (and Kind empty) when the listener starts listening on a new
	// connection, the first included: notifications may have been missed before.
	Reconnected bool
}

// Broadcast is a room event published by one node for the clients connected to the
// others. Body is the event's encoding (package room); nodes skip their own (Origin).
type Broadcast struct {
	ID        int64
	App       uint64
	RoomID    string
	Origin    string // the node that committed it
	Kind      string // the event's type name
	Body      []byte
	CreatedAt time.Time
}

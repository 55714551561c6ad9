// Package cluster runs one roomd node's part in a cluster of nodes sharing one database
// (store.Cluster, the PostgreSQL driver): its beat, the cluster-wide roles it holds under
// named leases, the recovery of dead nodes and the notifications from the other nodes.
// A node alone on its store (SQLite) does not use it: package app then holds every role
// itself, from Start to Close.
//
// # The node
//
//	starting ──first beat──▶ live ──(a beat reports revived)──▶ live, everything dropped
//	                           │
//	                           └──Stop──▶ stopped (roles ended, leases released, row deleted)
//
// Every BeatInterval the node:
//
//  1. beats (NodeBeat with NodeTTL). A beat that reports revived after the node has been
//     live means that another node declared it dead while it could not beat (a partition
//     from the database) and recovered its members: every role it holds is dropped at
//     once, and Revived is called (package app closes every client connection, so that
//     the clients reconnect and enter their rooms again);
//  2. claims the dead nodes (NodeClaimDead) and calls RecoverNode for each: their members
//     are seen as having lost their heartbeat. Exactly one node recovers each dead node;
//  3. takes or renews the lease of each role (LeaseHold with LeaseTTL).
//
// # Roles
//
// Each role ("delivery", "timers", "retention") is held under a lease of its name:
//
//	free ──LeaseHold true──▶ held (Begin) ──LeaseHold true──▶ held (deadline moved on)
//	held ──LeaseHold false, local deadline passed, revived, or Stop──▶ free (End)
//
// A renewal that succeeds sets the role's local deadline to the time the renewal was sent
// plus LeaseTTL minus a margin (a quarter of LeaseTTL). The lease in the database expires
// LeaseTTL after the statement ran, which is no earlier than when it was sent, so a holder
// that cannot renew (the database is unreachable, or slow) gives the role up by a timer at
// its local deadline, at least the margin before another node can take the lease over.
// Two nodes therefore never hold a role at once, whatever their clocks say: lease expiries
// are compared on the database's clock, deadlines measured on the node's own. A failed
// LeaseHold changes nothing by itself; only the deadline ends the role.
//
// While a role is held, its Work runs: Begin when it is taken, End when it is given up.
// End must return promptly (the delivery term cuts its attempts short: the next holder
// sends them again with the same webhook-id).
//
// # Notifications
//
// One listener (store.Cluster.Listen) dispatches every notification to the Handlers:
// NotifyEvents to Events (the delivery leader's loader reads the new events), NotifyConfig
// to Config (the app's callback configuration is read again), NotifyBroadcasts to
// Broadcasts (other nodes' room events are relayed to this node's clients). After the
// listener's connection was lost and made again (Reconnected, or a Listen that failed and
// was restarted) all three catch up at once.
//
// # Stopping
//
// Freeze, at the start of a graceful stop, makes the node take no new role (it still
// renews those it holds, so that a long drain does not lose them). Stop ends the loops,
// ends every held role, releases its leases and deletes the node's row (NodeLeave), so
// that the other nodes take the roles over at their next beat and nobody recovers this
// node. Halt (tests) stops the beat without any of that, as a node that hangs or is cut
// off: its roles end at their local deadlines and another node declares it dead.
package cluster

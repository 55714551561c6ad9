// Package store is roomd's one persistence seam: the Store interface, its row types and the
// ErrNotFound and ErrConflict sentinels. Domain packages (room, account, webhook) talk to
// the database only through it; drivers implement it (package sqlite is the embedded
// default; package postgres keeps the data in PostgreSQL), and every driver must pass the conformance suite
// in package storetest, which pins the behaviour described here.
//
// # Reads and writes
//
// A Store is a Reader: its read methods run outside any transaction and see the last
// committed state, never the uncommitted writes of a transaction in progress, and always
// every write whose Tx has returned. Writes happen only inside Store.Tx, through the Tx
// passed to fn; the Tx is also a Reader that sees the transaction's own writes. Methods
// that report ErrNotFound or ErrConflict have written nothing, and the transaction stays
// usable: fn may handle the error and go on (a batch account_delete does), and its other
// writes commit when it returns nil. Times are kept at millisecond precision and attempt
// durations at microsecond precision.
//
// # Transactions and group commit
//
// Tx(ctx, fn) runs fn in a write transaction. When fn returns nil, its writes commit
// together; when fn returns an error, every write of fn is undone and Tx returns that error
// (compare with errors.Is). A panic in fn undoes fn's writes too and is raised again on the
// goroutine that called Tx. A context that is already done makes Tx return its error
// without running fn. After Close, Tx returns an error; it never blocks.
//
// A driver may group concurrent Tx calls into one database transaction (group commit): a
// commit, and the fsync it costs, is then shared by every call that queued up while the
// previous commit was in progress. The sqlite driver does this with a single writer
// goroutine. Grouping must not be visible to callers, so each fn runs inside its own
// SAVEPOINT: a failing fn is rolled back to its savepoint and the other calls of the group
// still commit. Two consequences for code that runs in fn: it may run on a goroutine other
// than the caller's, and it holds up every other writer while it runs, so it must only do
// database work (no network calls, no waiting on other goroutines, no nested Tx). A failure of
// the database transaction itself (begin, savepoint or commit) fails every call of the group
// that had not failed already, and none of them commits.
//
// # AfterCommit hooks
//
// tx.AfterCommit(hook) registers a hook to run once fn's writes have committed. Hooks run
// before Tx returns, in registration order, on the goroutine that committed, and at most
// once. They do not run when fn returns an error or panics, or when the commit fails. A hook
// sees the committed state through the Store's read methods; it must not block and must not
// call Tx (the writer is waiting for it). The outbox uses a hook to wake the dispatcher as
// soon as an event it stored is committed.
//
// # The outbox
//
// An Event is a stored After-callback, inserted in the same Tx as the state change it
// reports, so that a callback exists if and only if its change committed. Its persisted
// states are:
//
//	pending ──▶ delivered | dead
//	   │
//	   └──▶ retrying ──▶ retrying ──▶ … ──▶ delivered | dead
//
// pending is the state of a new event; retrying follows a failed attempt that will be
// tried again at NextAttemptAt; delivered and dead are final (dead when the attempt budget
// is spent or retries are off), though an operator's resend (EventRequeue) puts such an event back to pending.
// EventRecordAttempt stores one attempt and the event's next state in one write.
// EventListUndelivered returns the pending and retrying events in id order; event ids
// increase with every insert and keep increasing after a restart, since they appear in the
// webhook-id header together with Instance, which tells two databases apart.
//
// The dispatcher also speaks of "sending": an event whose attempt is in flight. That state
// exists in the dispatcher's memory only and is never written. An attempt whose outcome was
// not recorded before a crash leaves its event pending or retrying, and it is sent again,
// with the same webhook-id, after restart (at-least-once delivery).
//
// # Durability
//
// What a commit survives is chosen by the store.durability setting, which the sqlite driver
// maps to SQLite's synchronous pragma in WAL mode:
//
//   - "process" (the default): a commit survives a crash or kill -9 of roomd, but the last
//     commits may be lost if the machine loses power (synchronous=NORMAL).
//   - "power": every commit waits for fsync and survives power loss as well
//     (synchronous=FULL). Group commit keeps the cost per Tx low under concurrent load.
//
// With PostgreSQL, the server's own settings decide this instead.
//
// # Several nodes
//
// A driver that several roomd processes may share (postgres) also implements Cluster, and
// its transactions ClusterTx (cluster.go): node beats, cluster-wide leases, notifications
// that its group transactions send at commit, and broadcasts of room events between nodes.
// It keeps every invariant above across processes (event ids in commit order among them),
// and passes storetest.Cluster besides storetest.Run. The sqlite driver is single-node.
package store

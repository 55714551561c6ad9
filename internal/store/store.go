package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when an insert would duplicate a unique key.
var ErrConflict = errors.New("store: conflict")

// Store is the one persistence seam of roomd. Every driver (sqlite, postgres) implements
// it and passes the conformance suite in package storetest.
type Store interface {
	Reader

	// Tx runs fn in a write transaction and returns fn's error, or the commit's. Drivers may
	// group concurrent calls into one database transaction (group commit); each fn is then
	// isolated by a savepoint, so an error from fn undoes fn's writes only and the others
	// still commit. When Tx returns nil, fn's writes are durable at the configured durability
	// level, and every hook fn registered with AfterCommit has run. fn must not keep tx.
	// A panic in fn undoes fn's writes and is raised again in the caller of Tx; a done ctx
	// makes Tx return ctx's error without running fn. See the package documentation.
	Tx(ctx context.Context, fn func(tx Tx) error) error

	// Instance returns a random id created with the database; it keeps the event ids of two
	// databases apart (webhook-id headers).
	Instance() string

	// Close stops the writer and closes the database.
	Close() error
}

// Reader holds the read queries, one group per noun, each in the file named after it.
// Outside a transaction they see the last committed state.
type Reader interface {
	AccountReader        // accounts.go
	RoomReader           // rooms.go
	MetadataReader       // metadata.go
	RoomStatsReader      // stats.go
	MemberReader         // members.go
	PresenceReader       // presence.go
	AdminReader          // admins.go
	SanctionReader       // sanctions.go
	MessageReader        // messages.go
	CallbackConfigReader // callbacks.go
	SeatReader           // seats.go
	EventReader          // events.go
	GiftReader           // gifts.go
	ProfileReader        // profiles.go
	FollowReader         // follows.go
	GroupMessageReader   // groupmsgs.go
	BattleReader         // battles.go
}

// Tx is a write transaction. Its methods see the transaction's own writes.
type Tx interface {
	Reader
	AccountWriter        // accounts.go
	RoomWriter           // rooms.go
	MetadataWriter       // metadata.go
	RoomStatsWriter      // stats.go
	MemberWriter         // members.go
	PresenceWriter       // presence.go
	AdminWriter          // admins.go
	SanctionWriter       // sanctions.go
	MessageWriter        // messages.go
	CallbackConfigWriter // callbacks.go
	SeatWriter           // seats.go
	EventWriter          // events.go
	GiftWriter           // gifts.go
	ProfileWriter        // profiles.go
	FollowWriter         // follows.go
	BattleWriter         // battles.go

	// AfterCommit registers fn to run once the enclosing transaction has committed, before Tx
	// returns; hooks run in registration order, on the committing goroutine, and must not
	// block. They do not run when fn's writes are rolled back.
	AfterCommit(fn func())
}

// lazyKey marks a context given to Store.Tx by WithLazyCommit.
type lazyKey struct{}

// WithLazyCommit returns ctx marked for a Tx call whose commit may wait a little for
// company: a driver that groups calls into one database transaction may hold such a call
// back for up to a millisecond, while other calls are queueing, so that it shares their
// commit instead of paying for one of its own. Nothing else changes: Tx still returns only
// once the call has committed at the configured durability. It suits work nobody is
// waiting on, such as the record of a callback attempt already made; a driver that does
// not group commits ignores it.
func WithLazyCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, lazyKey{}, true)
}

// LazyCommit reports whether ctx was marked by WithLazyCommit.
func LazyCommit(ctx context.Context) bool {
	v, _ := ctx.Value(lazyKey{}).(bool)
	return v
}

// footprintKey marks a context given to Store.Tx by WithFootprint.
type footprintKey struct{}

// Footprint is what a Tx call declares of itself so that a driver that pays a round trip
// for every read (PostgreSQL) may send the call's first read ahead, together with the
// reads of the other calls grouped with it, instead of one round trip per call.
//
// A call with a footprint promises that it writes no account, and no row of any room but
// the one named by App and RoomID (of no room at all when RoomID is empty). The outbox
// (events and broadcasts) and the records of callback attempts are not rows of a room. A
// driver sends a call's read ahead only when every call grouped before it has a footprint
// and none of them names the same room, so the read sees what it would have seen in its
// turn. A driver may ignore footprints.
type Footprint struct {
	App    uint64
	RoomID string
	// First, when set, names the call's first read, made before it writes anything, and
	// User is the user that read is about.
	First FirstRead
	User  string
}

// FirstRead names the first read of a Tx call with a footprint.
type FirstRead int

const (
	// NoFirstRead declares no read.
	NoFirstRead FirstRead = iota
	// ReadOwnerChange is RoomOwnerChange(App, RoomID, User).
	ReadOwnerChange
	// ReadRoomInsert is the checks of RoomInsertOwned for room RoomID of App owned by User:
	// whether the id is taken, and whether the owner is an imported account. A driver that
	// read them ahead answers from them, and queues the insert.
	ReadRoomInsert
)

// WithFootprint returns ctx marked with the footprint of the Tx call it is given to.
func WithFootprint(ctx context.Context, f Footprint) context.Context {
	return context.WithValue(ctx, footprintKey{}, f)
}

// FootprintOf returns the footprint ctx was marked with, and whether it was.
func FootprintOf(ctx context.Context) (Footprint, bool) {
	f, ok := ctx.Value(footprintKey{}).(Footprint)
	return f, ok
}

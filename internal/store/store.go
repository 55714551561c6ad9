package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when an insert would duplicate a unique key.
var ErrConflict = errors.New("store: conflict")

// Store is the one persistence seam of roomd. Every driver (sqlite, later postgres) implements
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

// Reader holds the read queries. Outside a transaction they see the last committed state.
type Reader interface {
	MemberReader    // members.go
	RoomExtraReader // roomextra.go
	PeopleReader    // people.go

	AccountGet(ctx context.Context, app uint64, userID string) (Account, error)
	AccountCount(ctx context.Context, app uint64) (int, error)

	RoomGet(ctx context.Context, app uint64, roomID string) (Room, error)
	RoomCount(ctx context.Context, app uint64) (int, error)
	// RoomList returns up to p.Limit rooms of app ordered by view count descending, then
	// creation time and room id, starting after p.After (the zero value starts at the top).
	RoomList(ctx context.Context, p RoomListParams) ([]Room, error)

	CallbackConfigGet(ctx context.Context, app uint64) (CallbackConfig, error)
	CallbackConfigList(ctx context.Context) ([]CallbackConfig, error)

	EventGet(ctx context.Context, id int64) (Event, error)
	// EventListUndelivered returns undelivered events (pending or retrying) with id > p.AfterID
	// in id order, at most p.Limit of them. The dispatcher pages through it with a cursor
	// (the highest id it has loaded), which is safe because of EventInsert's commit-order
	// invariant: no event becomes visible later with an id below one already seen.
	EventListUndelivered(ctx context.Context, p EventListParams) ([]Event, error)
	// EventList returns events of one app, newest first, filtered as p says; it backs the
	// delivery log.
	EventList(ctx context.Context, p EventQuery) ([]Event, error)
	AttemptList(ctx context.Context, eventID int64) ([]Attempt, error)
	// EventStats counts events per state, for metrics and the admin views.
	EventStats(ctx context.Context) (EventStats, error)
}

// Tx is a write transaction. Its methods see the transaction's own writes.
type Tx interface {
	Reader
	MemberWriter    // members.go
	RoomExtraWriter // roomextra.go
	PeopleWriter    // people.go
	DeliveryWriter  // delivery.go

	// AccountUpsert inserts the account or, if it exists, updates nick and face URL; it
	// reports whether the account was created.
	AccountUpsert(ctx context.Context, a Account) (created bool, err error)
	// AccountDelete deletes the account; ErrNotFound when there is none.
	AccountDelete(ctx context.Context, app uint64, userID string) error

	// RoomInsert adds a room; ErrConflict when the id is taken.
	RoomInsert(ctx context.Context, r Room) error
	// RoomUpdate replaces every column of an existing room; ErrNotFound when there is none.
	RoomUpdate(ctx context.Context, r Room) error
	// RoomSetOwner changes the owner column only; ErrNotFound when there is no such room.
	RoomSetOwner(ctx context.Context, app uint64, roomID, owner string) error
	// RoomDelete removes a room and everything hanging off it; ErrNotFound when absent.
	RoomDelete(ctx context.Context, app uint64, roomID string) error

	CallbackConfigPut(ctx context.Context, c CallbackConfig) error

	// EventInsert appends an event to the outbox and sets e.ID. Event ids are assigned in
	// commit order: an event that commits after another has the greater id, so a reader
	// that has seen id N will never see an event with an id below N appear later. The
	// SQLite driver keeps this because it has one writer, which commits its groups one at
	// a time. A PostgreSQL driver must replace it: sequence values are taken before
	// commit by concurrent transactions and are not commit-ordered (it needs, for
	// example, ids assigned under a lock held until commit, or a commit-ordered cursor).
	// storetest's EventOrder case pins the invariant.
	EventInsert(ctx context.Context, e *Event) error
	// EventRecordAttempt stores one delivery attempt and the event's new state.
	EventRecordAttempt(ctx context.Context, a Attempt, next EventUpdate) error
	// AfterCommit registers fn to run once the enclosing transaction has committed, before Tx
	// returns; hooks run in registration order, on the committing goroutine, and must not
	// block. They do not run when fn's writes are rolled back.
	AfterCommit(fn func())
}

// Account is an imported user account of an app.
type Account struct {
	App       uint64
	UserID    string
	Nick      string
	FaceURL   string
	CreatedAt time.Time
}

// Room is a live room row. Info holds the room's remaining attributes as JSON owned by the
// room package; the columns are those the store must query by.
type Room struct {
	App           uint64
	RoomID        string
	Owner         string
	CreatedAt     time.Time
	ViewCount     int64
	PublicVisible bool
	Info          []byte
}

// RoomListParams selects a page of rooms.
type RoomListParams struct {
	App        uint64
	OnlyPublic bool
	Limit      int
	// After is the last room of the previous page; zero to start at the top.
	After *Room
	// Ascending reverses the order: view count ascending, then creation time and room id
	// descending.
	Ascending bool
}

// CallbackConfig is an app's callback configuration (spec webhooks.md §1.9).
type CallbackConfig struct {
	App          uint64
	URL          string
	Commands     []string
	Token        string
	TokenEnabled bool
	UpdatedAt    time.Time
}

// EventState is a persisted state of an outbox event. "sending" is held in memory by the
// dispatcher only (see package webhook/dispatcher).
type EventState string

// The persisted event states.
const (
	EventPending   EventState = "pending"
	EventRetrying  EventState = "retrying"
	EventDelivered EventState = "delivered"
	EventDead      EventState = "dead"
)

// Event is one outbox row: a rendered After-callback waiting for, or done with, delivery.
type Event struct {
	ID            int64
	App           uint64
	RoomID        string // ordering key: events of one room are delivered in id order
	Command       string
	Body          []byte
	ClientIP      string
	Platform      string
	CreatedAt     time.Time
	State         EventState
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	DeliveredAt   time.Time
}

// EventUpdate is the state an event moves to after an attempt.
type EventUpdate struct {
	State         EventState
	NextAttemptAt time.Time
	LastError     string
	DeliveredAt   time.Time
}

// Attempt is one delivery attempt of an event.
type Attempt struct {
	EventID    int64
	N          int // 1-based attempt number
	StartedAt  time.Time
	Duration   time.Duration
	URL        string
	StatusCode int    // 0 when no HTTP response
	Response   string // reply body, truncated
	Error      string // empty on success
}

// EventListParams pages through undelivered events.
type EventListParams struct {
	AfterID int64
	Limit   int
}

// EventQuery filters the delivery log.
type EventQuery struct {
	App      uint64
	RoomID   string     // empty = any
	State    EventState // empty = any
	Since    time.Time  // zero = any
	BeforeID int64      // 0 = from the newest
	Limit    int
}

// EventStats counts events by state.
type EventStats struct {
	Pending, Retrying, Delivered, Dead int64
	// OldestUndelivered is the creation time of the oldest pending or retrying event.
	OldestUndelivered time.Time
}

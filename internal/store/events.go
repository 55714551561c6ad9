package store

import (
	"context"
	"time"
)

// EventReader holds the read queries of the outbox and its delivery log.
type EventReader interface {
	// EventGet returns one event; ErrNotFound when there is none.
	EventGet(ctx context.Context, id int64) (Event, error)
	// EventListUndelivered returns undelivered events (pending or retrying) with id > p.AfterID
	// in id order, at most p.Limit of them. The dispatcher pages through it with a cursor
	// (the highest id it has loaded), which is safe because of EventInsert's commit-order
	// invariant: no event becomes visible later with an id below one already seen.
	EventListUndelivered(ctx context.Context, p EventListParams) ([]Event, error)
	// EventList returns events of one app, newest first, filtered as p says; it backs the
	// delivery log.
	EventList(ctx context.Context, p EventQuery) ([]Event, error)
	// AttemptList returns the delivery attempts of an event in attempt order.
	AttemptList(ctx context.Context, eventID int64) ([]Attempt, error)
	// EventStats counts events per state, for metrics and the admin views.
	EventStats(ctx context.Context) (EventStats, error)
	// EventAppStats counts the events of one app per state, for the delivery log.
	EventAppStats(ctx context.Context, app uint64) (EventStats, error)
	// AttemptHistogram counts the delivery attempts of one app that started at or after
	// p.Since, per p.Bucket (from the Unix epoch), split into successes and failures, in
	// time order; buckets without attempts are left out.
	AttemptHistogram(ctx context.Context, p AttemptHistogramParams) ([]AttemptBucket, error)
}

// EventWriter holds the writes of the outbox and its delivery log.
type EventWriter interface {
	// EventInsert appends an event to the outbox and sets e.ID. Event ids are assigned in
	// commit order: an event that commits after another has the greater id, so a reader
	// that has seen id N will never see an event with an id below N appear later. The
	// SQLite driver keeps this because it has one writer, which commits its groups one at
	// a time. The PostgreSQL driver keeps it across every process on the database: each
	// group transaction takes one advisory lock before its first statement and holds it
	// until it commits, so that sequence values, which are taken before commit, are taken
	// in commit order too. storetest's EventOrder case pins the invariant, and Cluster's
	// EventOrderTwoNodes case with writers on two stores of one database.
	//
	// A store shared by several processes also sets e.After when it knows it (see Event).
	EventInsert(ctx context.Context, e *Event) error
	// EventRecordAttempt stores one delivery attempt and the event's new state.
	EventRecordAttempt(ctx context.Context, a Attempt, next EventUpdate) error
	// EventRecordAttempts stores several attempts, each with its event's new state, as one
	// EventRecordAttempt call per record would, in a few multi-row statements (the
	// dispatcher records its attempts in groups). ErrNotFound when one of the events is
	// missing; then part of the group may have been written, and the caller's Tx fn must
	// fail so that the call is rolled back. Two records of one event in one call are
	// written one after the other, in order.
	EventRecordAttempts(ctx context.Context, recs []AttemptRecord) error
	// EventInsertRecorded stores an event that was already sent, with its one attempt: a
	// Before-callback, which is sent synchronously and never retried. e.State must be
	// EventDelivered or EventDead, so the dispatcher never picks it up. It sets e.ID and
	// a.EventID.
	EventInsertRecorded(ctx context.Context, e *Event, a *Attempt) error
	// EventRequeue puts a delivered or dead event back to pending, due at at, for one more
	// round of delivery (a resend); its attempt numbering continues. ErrNotFound when absent,
	// ErrConflict when the event is still pending or retrying.
	EventRequeue(ctx context.Context, id int64, at time.Time) (Event, error)
	// EventPrune deletes up to p.Limit finished events of app p.App, oldest finish first,
	// with their attempts, and returns how many events it deleted: delivered events that
	// finished before p.DeliveredBefore and dead events that finished before p.DeadBefore
	// (a zero cutoff prunes none of that state). An event finishes when it becomes
	// delivered or dead: at its DeliveredAt when delivered, at the end of its last attempt
	// when dead (a Before-callback record at the end of its one attempt); a requeued event
	// is unfinished again. Pending and retrying events are never deleted. Pruned ids are
	// never assigned again. Retention (package webhook/retention) calls it in small
	// batches.
	EventPrune(ctx context.Context, p EventPruneParams) (int, error)
}

// EventPruneParams selects the finished events EventPrune deletes.
type EventPruneParams struct {
	App             uint64
	DeliveredBefore time.Time // zero = keep delivered events
	DeadBefore      time.Time // zero = keep dead events
	Limit           int       // at most this many events; must be > 0
}

// Compacter is implemented by drivers that can give the space of deleted rows back to the
// file system in small steps (the SQLite driver: incremental vacuum). Retention calls it
// after pruning; a driver without it (PostgreSQL: autovacuum) simply reuses the space.
type Compacter interface {
	// Compact releases at most maxPages free pages of the database file and reports how
	// many it released. It keeps some free pages for reuse, so a store under steady load
	// does not shrink and grow its file in turns.
	Compact(ctx context.Context, maxPages int) (int, error)
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
	// After is set by EventInsert, on a store shared by several processes, to an id below
	// this one's and at or above that of every event committed before it: the last event
	// of the database when the transaction began inserting events, or the transaction's
	// previous event (which may be a call's that rolled back since). 0 when the store does
	// not know it. The delivery leader queues its own process's event as it commits only
	// when its cursor has reached After (dispatcher.Dispatcher.NotifyAfter): it has then
	// read every event committed before. It is not stored.
	After int64
}

// EventUpdate is the state an event moves to after an attempt.
type EventUpdate struct {
	State         EventState
	NextAttemptAt time.Time
	LastError     string
	DeliveredAt   time.Time
}

// AttemptRecord is one attempt with the state its event moves to (EventRecordAttempts).
type AttemptRecord struct {
	Attempt Attempt
	Next    EventUpdate
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
	// RequestURL is the URL the attempt was sent to, with Tencent's query string (Sign and
	// RequestTime included); empty for attempts recorded before roomd kept it, or when no
	// request could be built.
	RequestURL string
	// RequestHeaders are the headers roomd set on the request (Content-Type, User-Agent,
	// webhook-id, webhook-timestamp, webhook-signature), one "Name: value" per line.
	RequestHeaders string
}

// AttemptHistogramParams selects the attempts of AttemptHistogram.
type AttemptHistogramParams struct {
	App    uint64
	Since  time.Time
	Bucket time.Duration // at least a second
}

// AttemptBucket counts the attempts that started within [Start, Start+Bucket).
type AttemptBucket struct {
	Start     time.Time
	Succeeded int64 // attempts without an error
	Failed    int64
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
	Command  string     // empty = any
	State    EventState // empty = any
	Since    time.Time  // zero = any
	Until    time.Time  // zero = any; events created before it
	BeforeID int64      // 0 = from the newest
	Limit    int
}

// EventStats counts events by state.
type EventStats struct {
	Pending, Retrying, Delivered, Dead int64
	// OldestUndelivered is the creation time of the oldest pending or retrying event.
	OldestUndelivered time.Time
}

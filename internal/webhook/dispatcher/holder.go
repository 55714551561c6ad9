package dispatcher

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// DefaultRescanInterval is how often the leader of a shared store looks for events that
// other nodes requeued (HolderOptions.RescanInterval).
const DefaultRescanInterval = 5 * time.Second

// HolderOptions configure a Holder.
type HolderOptions struct {
	// Shared is set when several nodes share the store and only the delivery leader
	// delivers: Notify then queues the event only when the loader has read every event
	// committed before it (store.Event.After), and wakes the loader otherwise (which reads
	// every node's events in id order); and the leader rescans for other nodes' resends.
	Shared bool
	// RescanInterval is DefaultRescanInterval when <= 0 (Shared only).
	RescanInterval time.Duration
}

// Holder keeps the dispatcher of the current term of delivery: it is what the outbox
// (Notify), the delivery APIs, the metrics and the console use, whichever dispatcher
// delivers now. Begin starts a term with a fresh Dispatcher; End stops it. A node runs one
// term from start to stop when it is alone on its store; on a shared store, one term per
// leadership of the "delivery" lease (package cluster). Between terms the Holder answers
// the delivery log from the database and delivers nothing: Notify is ignored (the events
// stay in the database for the leader), Resend only requeues in the database.
//
//	idle ──Begin──▶ leading ──End──▶ idle       any ──Stop──▶ stopped (final)
type Holder struct {
	o  Options
	ho HolderOptions

	mu       sync.Mutex
	cur      *Dispatcher // the running term's dispatcher; nil while idle
	stopTerm context.CancelFunc
	// idle answers the log operations between terms: a dispatcher that never runs (it is
	// stopped at once), so its Resend only writes the database.
	idle    *Dispatcher
	stopped bool
}

// ErrHolderStopped is returned by Begin after Stop.
var ErrHolderStopped = errors.New("delivery stopped")

// NewHolder returns an idle Holder whose terms run dispatchers made with o.
func NewHolder(o Options, ho HolderOptions) *Holder {
	if ho.RescanInterval <= 0 {
		ho.RescanInterval = DefaultRescanInterval
	}
	idle := New(o)
	idle.Stop(context.Background())
	// The terms share the idle dispatcher's defaults (the client above all).
	return &Holder{o: idle.o, ho: ho, idle: idle}
}

// Begin starts a term: a fresh dispatcher, which first loads every undelivered event from
// the database. It does nothing while a term runs; after Stop it returns ErrHolderStopped.
func (h *Holder) Begin(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.stopped:
		return ErrHolderStopped
	case h.cur != nil:
		return nil
	}
	d := New(h.o)
	if err := d.Start(ctx); err != nil {
		return err
	}
	h.cur = d
	if h.ho.Shared {
		rctx, cancel := context.WithCancel(ctx)
		h.stopTerm = cancel
		go d.rescanLoop(rctx, h.ho.RescanInterval)
	}
	return nil
}

// End ends the term: no attempt starts from now on, and the attempts in flight are cut
// short and left as stored (the next term, here or on another node, sends them again with
// the same webhook-id). It waits, up to ctx, for the term's dispatcher to have stopped.
func (h *Holder) End(ctx context.Context) error {
	h.mu.Lock()
	d, stop := h.cur, h.stopTerm
	h.cur, h.stopTerm = nil, nil
	h.mu.Unlock()
	if d == nil {
		return nil
	}
	if stop != nil {
		stop()
	}
	return d.Stop(ctx)
}

// Drain drains the running term (see Dispatcher.Drain): the first half of a graceful stop.
func (h *Holder) Drain(ctx context.Context) error {
	h.mu.Lock()
	d := h.cur
	h.mu.Unlock()
	if d == nil {
		return nil
	}
	return d.Drain(ctx)
}

// Stop ends the running term, if any, and every later Begin.
func (h *Holder) Stop(ctx context.Context) error {
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
	return h.End(ctx)
}

// Leading reports whether a term runs.
func (h *Holder) Leading() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur != nil
}

// current returns the running term's dispatcher, or the idle one.
func (h *Holder) current() *Dispatcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur != nil {
		return h.cur
	}
	return h.idle
}

// Notify hands a committed event to the running term (the outbox's after-commit hook). On
// a shared store it goes through NotifyAfter: queued when the loader has read every event
// committed before it, else read by the loader with every other node's in id order.
// Between terms it does nothing.
func (h *Holder) Notify(e store.Event) {
	h.mu.Lock()
	d := h.cur
	h.mu.Unlock()
	switch {
	case d == nil:
	case h.ho.Shared:
		d.NotifyAfter(e)
	default:
		d.Notify(e)
	}
}

// Wake tells the running term that other nodes committed events (Dispatcher.Wake).
func (h *Holder) Wake() {
	h.mu.Lock()
	d := h.cur
	h.mu.Unlock()
	if d != nil {
		d.Wake()
	}
}

// EventID returns the webhook-id of an event (the same on every node: it is made of the
// database's instance id and the event id).
func (h *Holder) EventID(id int64) string { return h.idle.EventID(id) }

// List implements the delivery log (Dispatcher.List).
func (h *Holder) List(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	return h.idle.List(ctx, q)
}

// Get implements the delivery log (Dispatcher.Get).
func (h *Holder) Get(ctx context.Context, app uint64, id int64) (store.Event, []store.Attempt, error) {
	return h.idle.Get(ctx, app, id)
}

// Resend requeues an event (Dispatcher.Resend): into the running term's memory as well,
// or, between terms, in the database only, where the leader finds it (Rescan).
func (h *Holder) Resend(ctx context.Context, app uint64, id int64) error {
	return h.current().Resend(ctx, app, id)
}

// Redrive requeues the events matching q (Dispatcher.Redrive), as Resend does.
func (h *Holder) Redrive(ctx context.Context, q store.EventQuery, limit int) (int, error) {
	return h.current().Redrive(ctx, q, limit)
}

// AppState is the running term's treatment of app (breaker, paused rooms); closed and
// empty between terms, since this node delivers nothing then.
func (h *Holder) AppState(app uint64) webhook.AppDeliveryState { return h.current().AppState(app) }

// AppStates returns the running term's state of every app (for metrics).
func (h *Holder) AppStates() []webhook.AppDeliveryState { return h.current().AppStates() }

// Test sends a sample callback now (Dispatcher.Test); any node may.
func (h *Holder) Test(ctx context.Context, app uint64, ev store.Event) (store.Event, store.Attempt, error) {
	return h.idle.Test(ctx, app, ev)
}

// LogStats implements the delivery log's overview (Dispatcher.LogStats).
func (h *Holder) LogStats(ctx context.Context, app uint64, since time.Time, bucket time.Duration) (store.EventStats, []store.AttemptBucket, error) {
	return h.idle.LogStats(ctx, app, since, bucket)
}

// Stats returns the running term's memory (zero between terms).
func (h *Holder) Stats() Stats {
	h.mu.Lock()
	d := h.cur
	h.mu.Unlock()
	if d == nil {
		return Stats{}
	}
	return d.Stats()
}

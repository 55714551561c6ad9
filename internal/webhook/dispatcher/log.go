package dispatcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Get returns one event of app and its attempts.
func (d *Dispatcher) Get(ctx context.Context, app uint64, id int64) (store.Event, []store.Attempt, error) {
	e, err := d.o.Store.EventGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && e.App != app) {
		return store.Event{}, nil, fmt.Errorf("%w: %d", webhook.ErrEventNotFound, id)
	}
	if err != nil {
		return store.Event{}, nil, err
	}
	atts, err := d.o.Store.AttemptList(ctx, id)
	return e, atts, err
}

// List returns the events matching q, newest first.
func (d *Dispatcher) List(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	return d.o.Store.EventList(ctx, q)
}

// Resend puts a delivered or dead event of app back in its room's queue, behind the room's
// undelivered events; it keeps its webhook-id. Its attempt numbering continues, and it gets
// what is left of its retry budget, at least one attempt.
func (d *Dispatcher) Resend(ctx context.Context, app uint64, id int64) error {
	return d.o.Store.Tx(ctx, func(tx store.Tx) error {
		e, err := tx.EventGet(ctx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && e.App != app) {
			return fmt.Errorf("%w: %d", webhook.ErrEventNotFound, id)
		}
		if err != nil {
			return err
		}
		if webhook.Command(e.Command).IsBefore() {
			return fmt.Errorf("%w: event %d is %s", webhook.ErrEventNotResendable, id, e.Command)
		}
		e, err = tx.EventRequeue(ctx, id, d.o.Now())
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: event %d", webhook.ErrEventUndelivered, id)
		}
		if err != nil {
			return err
		}
		tx.AfterCommit(func() { d.requeued(e) })
		return nil
	})
}

// Redrive resends every delivered-or-dead event of app that matches q (state dead or
// delivered, since a time, one room), up to limit of them, oldest first; it returns how
// many were requeued.
func (d *Dispatcher) Redrive(ctx context.Context, q store.EventQuery, limit int) (int, error) {
	if q.State != store.EventDead && q.State != store.EventDelivered {
		return 0, errcode.Invalid("State", "must be dead or delivered, not %q", q.State)
	}
	q.Limit = limit
	evs, err := d.o.Store.EventList(ctx, q)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := len(evs) - 1; i >= 0; i-- {
		err := d.Resend(ctx, q.App, evs[i].ID)
		if errors.Is(err, webhook.ErrEventUndelivered) || errors.Is(err, webhook.ErrEventNotResendable) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// requeued adds a resent event to the tail of its room's queue. It bypasses the memory
// bound: a resend is explicit and its event id is below what the loader would fetch.
func (d *Dispatcher) requeued(e store.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	// A Rescan (term.go) that read the database between the requeue's commit and this
	// hook has queued it already.
	if q := d.rooms[roomKey{e.App, e.RoomID}]; q != nil {
		for _, have := range q.events {
			if have.ID == e.ID {
				return
			}
		}
	}
	e.NextAttemptAt = time.Time{}
	d.add(e)
}

// Test sends one sample callback to app's App backend now, once, whether or not its
// command is switched on, and waits for the reply; it never retries. It is recorded in the
// delivery log like a Before-callback: an event in its final state (delivered when the
// reply was HTTP 200 with a JSON object, dead otherwise) with its one attempt. The event's
// webhook-id is "msg_<instance>_t<16 hex>", as the row is written after the call.
func (d *Dispatcher) Test(ctx context.Context, app uint64, ev store.Event) (store.Event, store.Attempt, error) {
	cfg := d.o.Configs.Get(app)
	now := d.o.Now()
	ev.App, ev.CreatedAt, ev.NextAttemptAt = app, now, now
	var r [8]byte
	rand.Read(r[:])
	att, _ := d.attemptAs(ctx, cfg, ev, "msg_"+d.instance+"_t"+hex.EncodeToString(r[:]))
	att.N = 1
	if att.Error == "" {
		ev.State, ev.DeliveredAt = store.EventDelivered, d.o.Now()
	} else {
		ev.State, ev.LastError = store.EventDead, att.Error
	}
	if err := d.o.Store.Tx(ctx, func(tx store.Tx) error { return tx.EventInsertRecorded(ctx, &ev, &att) }); err != nil {
		return ev, att, fmt.Errorf("record test callback: %w", err)
	}
	return ev, att, nil
}

// LogStats returns the counts of app's events per state and the oldest undelivered one,
// and its attempts since since per bucket, for the delivery log's overview.
func (d *Dispatcher) LogStats(ctx context.Context, app uint64, since time.Time, bucket time.Duration) (store.EventStats, []store.AttemptBucket, error) {
	st, err := d.o.Store.EventAppStats(ctx, app)
	if err != nil {
		return st, nil, err
	}
	hist, err := d.o.Store.AttemptHistogram(ctx, store.AttemptHistogramParams{App: app, Since: since, Bucket: bucket})
	return st, hist, err
}

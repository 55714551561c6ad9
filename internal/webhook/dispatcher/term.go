package dispatcher

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// rescanPage is how many undelivered events one read of Rescan returns.
const rescanPage = 1000

// Wake tells the dispatcher that events may have been committed that Notify did not hand
// it (another node's, on a shared database): the loader reads the undelivered events above
// its cursor at once, as many times as needed until it has caught up. It never blocks, and
// does nothing after Stop or Drain.
//
// The cursor stays valid across nodes because the store assigns event ids in commit order
// cluster-wide (see store.Tx.EventInsert): once the loader has seen id N, no event with an
// id at or below N can still commit.
func (d *Dispatcher) Wake() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.behind = true
	d.wakes++
	d.mu.Unlock()
	d.wakeLoader()
}

// NotifyAfter hands over a committed event of a shared store, whose ids are in commit order
// across nodes: it queues e, as Notify does, when the loader's cursor has reached e.After,
// since every event committed before e has then been read (or e is already in memory);
// else, or when e.After is unknown (0) or memory is full, it wakes the loader (Wake),
// which reads e with the other nodes' events in id order. Queuing e before the cursor has
// reached e.After would move the cursor past events committed before e and not read yet.
// It never blocks.
func (d *Dispatcher) NotifyAfter(e store.Event) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	if e.After == 0 || d.loadedUpTo < e.After || d.inMem >= d.o.MaxInMemory {
		d.mu.Unlock()
		d.Wake()
		return
	}
	if d.addAbove(e) {
		d.handedOver++
	}
	d.mu.Unlock()
}

// Rescan queues the undelivered events at or below the loader's cursor that are not in
// memory: events that another node requeued (a resend through another node's delivery
// API), which the cursor has passed. It returns how many it queued. Each goes to the tail
// of its room's queue, as a local resend does. It is a no-op on a stopped dispatcher and
// while another Rescan runs.
//
// The read runs without the lock, so an event may leave memory (delivered or dead) between
// the read, which still saw it undelivered, and the queueing; the ids of the events that
// leave memory meanwhile are collected (finished) and skipped.
func (d *Dispatcher) Rescan(ctx context.Context) (int, error) {
	d.mu.Lock()
	if d.closed || d.finished != nil {
		d.mu.Unlock()
		return 0, nil
	}
	upTo := d.loadedUpTo
	d.finished = map[int64]struct{}{}
	d.mu.Unlock()

	var found []store.Event
	var err error
	for after := int64(0); after < upTo; {
		var evs []store.Event
		evs, err = d.o.Store.EventListUndelivered(ctx, store.EventListParams{AfterID: after, Limit: rescanPage})
		if err != nil {
			break
		}
		for _, e := range evs {
			if e.ID <= upTo {
				found = append(found, e)
			}
		}
		if len(evs) < rescanPage {
			break
		}
		after = evs[len(evs)-1].ID
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	finished := d.finished
	d.finished = nil
	if err != nil || d.closed || len(found) == 0 {
		return 0, err
	}
	inMem := make(map[int64]struct{}, d.inMem)
	for _, q := range d.rooms {
		for _, e := range q.events {
			inMem[e.ID] = struct{}{}
		}
	}
	n := 0
	for _, e := range found {
		if _, ok := inMem[e.ID]; ok {
			continue
		}
		if _, ok := finished[e.ID]; ok {
			continue
		}
		d.add(e)
		n++
	}
	return n, nil
}

// rescanLoop runs Rescan every interval until ctx ends.
func (d *Dispatcher) rescanLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := d.Rescan(ctx); err != nil && ctx.Err() == nil {
				d.o.Logger.Error("rescan undelivered events", "err", err)
			} else if n > 0 {
				d.o.Logger.Info("requeued_events_found", "events", n)
			}
		}
	}
}

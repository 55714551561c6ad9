package dispatcher

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"

	"github.com/roomd/roomd/internal/store"
)

// Delivery marks are recorded in groups: every attempt's record (the attempt row and the
// event's new state) goes to one recorder goroutine, which writes all the records waiting
// for it in one store transaction call. The store's group commit already shared the
// COMMIT between concurrent calls, but each call still cost its own savepoint, its own
// hand-over to the store's writer and its own wake-up; with one call per group those costs
// are paid once per group instead of once per callback. A record is still written before
// its room's next event may be sent, so order and at-least-once are unchanged.

// recordReq is one attempt waiting to be recorded.
type recordReq struct {
	rec  store.AttemptRecord
	done chan error
}

// maxRecordGroup bounds the records written by one store call.
const maxRecordGroup = 256

// record writes att and next through the recorder with r, a worker's request (whose done
// channel has room for one outcome), and returns the outcome.
func (d *Dispatcher) record(r *recordReq, att store.Attempt, next store.EventUpdate) error {
	r.rec = store.AttemptRecord{Attempt: att, Next: next}
	d.records <- r
	err := <-r.done
	r.rec = store.AttemptRecord{} // do not keep the attempt's strings
	return err
}

// recordLoop writes the queued records in groups until records is closed.
func (d *Dispatcher) recordLoop(records <-chan *recordReq) {
	group := make([]*recordReq, 0, maxRecordGroup)
	recs := make([]store.AttemptRecord, 0, maxRecordGroup)
	for r := range records {
		group = append(group[:0], r)
		// Let the workers whose attempts just finished queue their records first (as the
		// store's writer does; see package sqlite).
		runtime.Gosched()
	fill:
		for len(group) < maxRecordGroup {
			select {
			case r, ok := <-records:
				if !ok {
					break fill
				}
				group = append(group, r)
			default:
				break fill
			}
		}
		recs = recs[:0]
		for _, r := range group {
			recs = append(recs, r.rec)
		}
		d.recordGroup(group, recs)
		clear(group)
		clear(recs)
	}
}

// recordGroup writes the group (recs holds its records, in the same order) in one
// transaction call, whose multi-row statements (store.Tx.EventRecordAttempts) write the
// group's attempts together. If that fails, the whole group was rolled back, and each
// record is written alone, so that one failing record (an event deleted meanwhile, say)
// does not fail the others.
func (d *Dispatcher) recordGroup(group []*recordReq, recs []store.AttemptRecord) {
	// The callbacks were sent: nobody waits on the records but the rooms' next events,
	// so they may share the commit of the next call instead of paying for one.
	// They write no room's rows either (store.Footprint), so they do not keep a store from
	// sending the reads of the calls after them ahead.
	ctx := store.WithFootprint(store.WithLazyCommit(context.Background()), store.Footprint{})
	if len(group) > 1 {
		err := d.o.Store.Tx(ctx, func(tx store.Tx) error {
			return tx.EventRecordAttempts(ctx, recs)
		})
		if err == nil {
			for _, r := range group {
				r.done <- nil
			}
			return
		}
	}
	for _, r := range group {
		r.done <- d.o.Store.Tx(ctx, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx, r.rec.Attempt, r.rec.Next)
		})
	}
}

// isJSONObject reports whether b is one valid JSON object, as decoding it into a map would,
// without building the map: it is checked on every successful delivery.
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

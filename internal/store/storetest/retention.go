package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// testEventPrune pins EventPrune: only delivered and dead events of the app that finished
// before their cutoff go, with their attempts; batches are bounded and oldest first;
// pending and retrying events stay whatever their age; a requeued event counts from its
// new finish; pruned ids are not reused.
func testEventPrune(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	prune := func(p store.EventPruneParams) int {
		t.Helper()
		var n int
		mustTx(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.EventPrune(ctx(t), p)
			return err
		})
		return n
	}
	gone := func(what string, e store.Event, want bool) {
		t.Helper()
		_, err := s.EventGet(ctx(t), e.ID)
		if got := errors.Is(err, store.ErrNotFound); got != want {
			t.Errorf("%s (event %d): pruned = %v, want %v (EventGet: %v)", what, e.ID, got, want, err)
		}
		atts, err := s.AttemptList(ctx(t), e.ID)
		wantErr(t, "AttemptList", err, nil)
		if want && len(atts) != 0 {
			t.Errorf("%s (event %d): %d attempts left after its event was pruned", what, e.ID, len(atts))
		}
		if !want && len(atts) != e.Attempts {
			t.Errorf("%s (event %d): %d attempts, want %d", what, e.ID, len(atts), e.Attempts)
		}
	}

	// settle finishes delivered events at created+1s and dead ones at created+1ms.
	oldDelivered := newEvent(app, "r1", "Live.CallbackAfterChangeOwner", at(10))
	newDelivered := newEvent(app, "r1", "Live.CallbackAfterChangeOwner", at(100))
	oldDead := newEvent(app, "r2", "Live.CallbackAfterChangeOwner", at(10))
	youngDead := newEvent(app, "r2", "Live.CallbackAfterChangeOwner", at(50))
	oldPending := newEvent(app, "r3", "Live.CallbackAfterChangeOwner", at(1))
	oldRetrying := newEvent(app, "r4", "Live.CallbackAfterChangeOwner", at(1))
	otherApp := newEvent(other, "r1", "Live.CallbackAfterChangeOwner", at(10))
	insertEvents(t, s, &oldDelivered, &newDelivered, &oldDead, &youngDead, &oldPending, &oldRetrying, &otherApp)
	settle(t, s, &oldDelivered, store.EventDelivered)
	settle(t, s, &newDelivered, store.EventDelivered)
	settle(t, s, &oldDead, store.EventRetrying)
	settle(t, s, &oldDead, store.EventDead)
	settle(t, s, &youngDead, store.EventDead)
	settle(t, s, &oldRetrying, store.EventRetrying)
	settle(t, s, &otherApp, store.EventDelivered)
	// Before-callback records: final from the start, finished at the end of their attempt.
	recorded := func(state store.EventState, start time.Time) store.Event {
		e := store.Event{App: app, RoomID: "r5", Command: "Group.CallbackBeforeSendMsg", Body: []byte(`{}`),
			CreatedAt: start, NextAttemptAt: start, State: state}
		a := store.Attempt{StartedAt: start, Duration: 2 * time.Second, URL: "http://x"}
		if state == store.EventDelivered {
			e.DeliveredAt = start.Add(2 * time.Second)
		} else {
			a.Error, e.LastError = "timeout", "timeout"
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.EventInsertRecorded(ctx(t), &e, &a) })
		return e
	}
	beforeDelivered := recorded(store.EventDelivered, at(10))
	beforeDead := recorded(store.EventDead, at(10))
	beforeDeadLate := recorded(store.EventDead, at(19)) // finishes at 21 s, after the dead cutoff

	// Zero cutoffs prune nothing, and a limit must be positive.
	if n := prune(store.EventPruneParams{App: app, Limit: 100}); n != 0 {
		t.Errorf("zero cutoffs pruned %d events", n)
	}
	if err := s.Tx(ctx(t), func(tx store.Tx) error {
		_, err := tx.EventPrune(ctx(t), store.EventPruneParams{App: app, DeliveredBefore: at(1000), Limit: 0})
		return err
	}); err == nil {
		t.Error("EventPrune accepted limit 0")
	}

	if n := prune(store.EventPruneParams{App: app, DeliveredBefore: at(60), DeadBefore: at(20), Limit: 100}); n != 4 {
		t.Errorf("pruned %d events, want 4 (old delivered, old dead, two Before-callback records)", n)
	}
	gone("delivered before the cutoff", oldDelivered, true)
	gone("delivered after the cutoff", newDelivered, false)
	gone("dead before the cutoff", oldDead, true)
	gone("dead after its cutoff (but before the delivered one)", youngDead, false)
	gone("pending, older than both cutoffs", oldPending, false)
	gone("retrying, older than both cutoffs", oldRetrying, false)
	gone("delivered event of another app", otherApp, false)
	gone("delivered Before-callback record", beforeDelivered, true)
	gone("dead Before-callback record", beforeDead, true)
	gone("dead Before-callback record finished after the cutoff", beforeDeadLate, false)

	// Pending and retrying survive any cutoff; the delivery log lists what is left.
	prune(store.EventPruneParams{App: app, DeliveredBefore: at(1 << 20), DeadBefore: at(1 << 20), Limit: 100})
	gone("pending after pruning everything", oldPending, false)
	gone("retrying after pruning everything", oldRetrying, false)
	left, err := s.EventList(ctx(t), store.EventQuery{App: app, Limit: 100})
	wantErr(t, "EventList", err, nil)
	if ids, want := eventIDs(left), []int64{oldRetrying.ID, oldPending.ID}; !slices.Equal(ids, want) {
		t.Errorf("delivery log after pruning lists %v, want %v", ids, want)
	}
	stats, err := s.EventStats(ctx(t))
	wantErr(t, "EventStats", err, nil)
	if stats.Delivered != 1 || stats.Dead != 0 || stats.Pending != 1 || stats.Retrying != 1 {
		t.Errorf("stats after pruning: %+v, want 1 delivered (other app), 1 pending, 1 retrying", stats)
	}

	// Batches: at most Limit per call, oldest finish first, whatever the insertion order.
	var batch []*store.Event
	for _, sec := range []int{205, 201, 204, 202, 203} {
		e := newEvent(app, "r6", "Live.CallbackAfterChangeOwner", at(sec))
		batch = append(batch, &e)
	}
	insertEvents(t, s, batch...)
	for _, e := range batch {
		settle(t, s, e, store.EventDelivered)
	}
	byFinish := slices.Clone(batch)
	slices.SortFunc(byFinish, func(a, b *store.Event) int { return a.DeliveredAt.Compare(b.DeliveredAt) })
	for i, want := range []int{2, 2, 1, 0} {
		if n := prune(store.EventPruneParams{App: app, DeliveredBefore: at(1000), Limit: 2}); n != want {
			t.Fatalf("batch %d pruned %d events, want %d", i, n, want)
		}
		if i == 0 {
			gone("oldest finish", *byFinish[0], true)
			gone("second oldest finish", *byFinish[1], true)
			gone("third oldest finish", *byFinish[2], false)
		}
	}

	// A requeued event is unfinished until it finishes again, and then counts from then.
	redo := newEvent(app, "r7", "Live.CallbackAfterChangeOwner", at(300))
	insertEvents(t, s, &redo)
	settle(t, s, &redo, store.EventDead)
	mustTx(t, s, func(tx store.Tx) error {
		_, err := tx.EventRequeue(ctx(t), redo.ID, at(5000))
		return err
	})
	redo.State = store.EventPending
	prune(store.EventPruneParams{App: app, DeliveredBefore: at(10000), DeadBefore: at(10000), Limit: 100})
	gone("requeued event", redo, false)
	redo.CreatedAt = at(6000) // settle takes the attempt's time from CreatedAt
	settle(t, s, &redo, store.EventDelivered)
	prune(store.EventPruneParams{App: app, DeliveredBefore: at(6000), Limit: 100})
	gone("redelivered event, finished after the cutoff", redo, false)
	prune(store.EventPruneParams{App: app, DeliveredBefore: at(6002), Limit: 100})
	gone("redelivered event, finished before the cutoff", redo, true)

	// Ids of pruned events are never assigned again (webhook-id stays unique).
	fresh := newEvent(app, "r8", "Live.CallbackAfterChangeOwner", at(7000))
	insertEvents(t, s, &fresh)
	if fresh.ID <= redo.ID {
		t.Errorf("new event got id %d, not above the pruned %d", fresh.ID, redo.ID)
	}
}

package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// hangLimit is how long the suite waits for a call that must return before it declares a
// hang. Nothing waits this long unless something is broken.
const hangLimit = 30 * time.Second

// within runs fn on its own goroutine and fails t when fn has not returned after hangLimit.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(hangLimit)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, hangLimit)
	}
}

func testLifecycle(t *testing.T, h *Harness) {
	t.Run("Instance", func(t *testing.T) {
		dir := t.TempDir()
		s, closeS := h.OpenIn(t, dir)
		id := s.Instance()
		if id == "" {
			t.Fatal("Instance is empty")
		}
		if s.Instance() != id {
			t.Error("Instance changed between calls")
		}
		closeS()
		s, _ = h.OpenIn(t, dir)
		if got := s.Instance(); got != id {
			t.Errorf("Instance after reopen = %q, want %q", got, id)
		}
		if o := h.Fresh(t).Instance(); o == id {
			t.Errorf("two databases share the instance id %q", id)
		}
	})

	t.Run("ReopenKeepsData", func(t *testing.T) {
		dir := t.TempDir()
		s, closeS := h.OpenIn(t, dir)
		evID := seed(t, s)
		mustTx(t, s, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx(t), store.Attempt{EventID: evID, N: 1, StartedAt: at(1), Duration: time.Second, URL: "https://a", Error: "x"},
				store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(9), LastError: "x"})
		})
		before := mustSnapshot(t, s, evID)
		closeS()

		s, _ = h.OpenIn(t, dir)
		if d := before.diff(mustSnapshot(t, s, evID)); d != "" {
			t.Errorf("data changed across reopen:%s", d)
		}
		// Event ids keep increasing after a restart: they name callbacks in webhook-id.
		ev := newEvent(app, "live-1", "C", at(2))
		insertEvents(t, s, &ev)
		if ev.ID <= evID {
			t.Errorf("event id after reopen = %d, not above %d", ev.ID, evID)
		}
	})

	t.Run("TxAfterClose", func(t *testing.T) {
		s, closeS := h.OpenIn(t, t.TempDir())
		insertRooms(t, s, newRoom(app, "r", "alice", at(0), 0, true))
		closeS()
		// Repeated, because a race between "closed" and "queue a request" need not show on
		// the first call.
		for i := range 100 {
			ran := false
			var err error
			within(t, "Tx after Close", func() {
				err = s.Tx(ctx(t), func(tx store.Tx) error {
					ran = true
					return nil
				})
			})
			if err == nil || ran {
				t.Fatalf("call %d: Tx after Close = %v (fn ran: %v), want an error and fn not run", i, err, ran)
			}
		}
		within(t, "RoomGet after Close", func() {
			if _, err := s.RoomGet(ctx(t), app, "r"); err == nil {
				t.Error("RoomGet after Close succeeded")
			}
		})
	})

	t.Run("CloseDuringTx", func(t *testing.T) {
		// Close while many goroutines are writing: every Tx returns, and each one that
		// returned nil is in the database when it is opened again.
		dir := t.TempDir()
		s, closeS := h.OpenIn(t, dir)
		const writers = 20
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			committed []string
			count     atomic.Int32
			enough    = make(chan struct{})
			once      sync.Once
		)
		for w := range writers {
			wg.Go(func() {
				for i := 0; ; i++ {
					id := fmt.Sprintf("w%02d-%04d", w, i)
					err := s.Tx(ctx(t), func(tx store.Tx) error {
						return tx.RoomInsert(ctx(t), newRoom(app, id, "u", at(i), 0, true))
					})
					if err != nil {
						return
					}
					mu.Lock()
					committed = append(committed, id)
					mu.Unlock()
					if count.Add(1) == 3*writers {
						once.Do(func() { close(enough) })
					}
				}
			})
		}
		within(t, "the first commits", func() { <-enough })
		within(t, "Close during Tx", closeS)
		within(t, "Tx calls racing Close", wg.Wait)

		s, _ = h.OpenIn(t, dir)
		n, err := s.RoomCount(ctx(t), app)
		if err != nil {
			t.Fatal(err)
		}
		if n < len(committed) {
			t.Errorf("%d rooms after reopen, but %d Tx calls returned nil", n, len(committed))
		}
		for _, id := range committed {
			if _, err := s.RoomGet(ctx(t), app, id); err != nil {
				t.Errorf("room %s committed before Close: %v", id, err)
			}
		}
	})
}

package dispatcher

import (
	"context"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// A shared Holder delivers only during a term; events committed outside it (another node's,
// or while idle) are found by Wake, in order; a term ended cuts short what is in flight and
// the next term sends it again with the same webhook-id.
func TestHolderTerms(t *testing.T) {
	f, rc := newFixture(t, nil)
	h := NewHolder(Options{Store: f.st, Configs: f.configs}, HolderOptions{Shared: true, RescanInterval: 50 * time.Millisecond})
	defer h.Stop(context.Background())

	// Idle: Notify is ignored, nothing is sent.
	f.enqueueVia(t, h.Notify, 2, 3)
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.All()); n != 0 {
		t.Fatalf("an idle holder sent %d callbacks", n)
	}
	if h.Leading() {
		t.Fatal("idle holder leads")
	}

	// A term loads what was committed before it.
	if err := h.Begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.waitTotal(t, 6)
	// Events committed by "another node" (no hook at all) are found by Wake.
	f.enqueue(t, nil, 2, 2) // Seq 1, 2 again: the fixture checks order per room by arrival
	h.Wake()
	f.waitTotal(t, 10)
	if err := h.End(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.Leading() || h.Stats() != (Stats{}) {
		t.Fatalf("after End: leading %v, stats %+v", h.Leading(), h.Stats())
	}

	// Committed between terms, through the shared Notify, which does nothing then.
	f.enqueueVia(t, h.Notify, 1, 1)
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.Unique()); n != 10 {
		t.Fatalf("%d callbacks after the term, want 10", n)
	}
	if err := h.Begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.waitTotal(t, 11)
}

// A resend made between terms (as through another node's delivery API) requeues the event
// in the database only; the leader's Rescan finds it below its cursor and sends it again,
// with the same webhook-id.
func TestHolderRescanFindsResends(t *testing.T) {
	f, rc := newFixture(t, nil)
	leader := NewHolder(Options{Store: f.st, Configs: f.configs}, HolderOptions{Shared: true, RescanInterval: 50 * time.Millisecond})
	defer leader.Stop(context.Background())
	other := NewHolder(Options{Store: f.st, Configs: f.configs}, HolderOptions{Shared: true})
	if err := leader.Begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.enqueueVia(t, leader.Notify, 1, 3)
	f.waitTotal(t, 3)
	first := rc.All()[0]
	evs, err := f.st.EventList(context.Background(), store.EventQuery{App: 1, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	oldest := evs[len(evs)-1]
	testkit.Eventually(t, "the first event recorded delivered", 5*time.Second, func() (bool, string) {
		e, _, err := other.Get(context.Background(), 1, oldest.ID)
		return err == nil && e.State == store.EventDelivered, string(e.State)
	})
	if err := other.Resend(context.Background(), 1, oldest.ID); err != nil {
		t.Fatal(err)
	}
	got := rc.WaitN(t, 4, 5*time.Second)
	if got[3].ID != first.ID || got[3].ID != other.EventID(oldest.ID) {
		t.Errorf("resend came with webhook-id %s, want %s", got[3].ID, first.ID)
	}
	time.Sleep(200 * time.Millisecond) // several more rescans: it is sent once
	if n := len(rc.All()); n != 4 {
		t.Errorf("%d callbacks, want 4", n)
	}
}

// On a shared store the leader queues its own event as it commits only when its loader has
// read every event committed before it (store.Event.After): here "another node" commits
// events nobody announces, and the leader's next own event, whose After is the other node's
// last, must wake the loader rather than move the cursor past them (no rescan would find
// them: it looks below the cursor only every hour here). Once the cursor has reached an
// event's After, the event is handed over without the loader; an unknown After (0) wakes
// the loader.
func TestNotifyAfterHandsOverBehindTheCursorOnly(t *testing.T) {
	f, _ := newFixture(t, nil)
	h := NewHolder(Options{Store: f.st, Configs: f.configs}, HolderOptions{Shared: true, RescanInterval: time.Hour})
	defer h.Stop(context.Background())
	if err := h.Begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	// SQLite ids have no gaps here: the event committed before e is e.ID-1.
	after := func(known bool) func(store.Event) {
		return func(e store.Event) {
			if known {
				e.After = e.ID - 1
			}
			h.Notify(e)
		}
	}
	f.enqueue(t, nil, 1, 2) // another node's: no hook, no wake
	f.enqueueVia(t, after(true), 1, 1)
	f.waitTotal(t, 3)
	if n := h.Stats().HandedOver; n != 0 {
		t.Fatalf("handed over %d events past events the loader had not read", n)
	}
	f.enqueueVia(t, after(true), 2, 3)
	f.waitTotal(t, 9)
	if n := h.Stats().HandedOver; n != 6 {
		t.Errorf("handed over %d of 6 events committed behind the cursor, want all", n)
	}
	f.enqueueVia(t, after(false), 1, 1)
	f.waitTotal(t, 10)
	if n := h.Stats().HandedOver; n != 6 {
		t.Errorf("handed over %d events, want 6: an unknown After goes to the loader", n)
	}
}

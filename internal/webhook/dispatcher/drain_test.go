package dispatcher

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Drain lets the attempt in flight finish and be recorded, starts no other, and leaves
// the rest pending; a Drain whose deadline passes first leaves the attempt to Stop, which
// cuts it short without recording it.
func TestDrainFinishesInFlightAndLeavesTheRest(t *testing.T) {
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	f, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		select {
		case <-release:
			return true
		case <-r.Context().Done():
			return false
		}
	})
	d := New(Options{Store: f.st, Configs: f.configs})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.enqueue(t, d, 1, 3) // one room, three events: only the first can be in flight
	<-entered

	drained := make(chan error, 1)
	go func() { drained <- d.Drain(context.Background()) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v with an attempt in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	evs, err := f.st.EventList(context.Background(), store.EventQuery{App: 1})
	if err != nil {
		t.Fatal(err)
	}
	states := map[store.EventState]int{}
	for _, e := range evs {
		states[e.State]++
	}
	if states[store.EventDelivered] != 1 || states[store.EventPending] != 2 {
		t.Errorf("states after drain = %v, want 1 delivered and 2 pending", states)
	}
	if n := len(entered); n != 0 {
		t.Errorf("%d more attempts started after Drain", n)
	}

	// A second run: the backend hangs past the drain deadline.
	hang := make(chan struct{})
	f2, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		io.Copy(io.Discard, r.Body)
		close(hang)
		<-r.Context().Done()
		return false
	})
	d2 := New(Options{Store: f2.st, Configs: f2.configs})
	d2.Start(context.Background())
	f2.enqueue(t, d2, 1, 1)
	<-hang
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d2.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Drain past its deadline = %v, want DeadlineExceeded", err)
	}
	if err := d2.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	evs, _ = f2.st.EventList(context.Background(), store.EventQuery{App: 1})
	if len(evs) != 1 || evs[0].State != store.EventPending || evs[0].Attempts != 0 {
		t.Errorf("event after a cut-short drain = %+v, want pending with no attempt", evs)
	}
}

package dispatcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

func TestBackoffDoublesUpToTheCapWithJitter(t *testing.T) {
	p := webhook.RetryPolicy{Enabled: true, MaxAttempts: 10, InitialBackoff: time.Second, MaxBackoff: 8 * time.Second}
	cases := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0, 500 * time.Millisecond}, {1, 0.999999, time.Second - time.Microsecond},
		{2, 0, time.Second}, {3, 0, 2 * time.Second}, {4, 0, 4 * time.Second},
		{5, 0, 4 * time.Second}, {9, 0.5, 6 * time.Second},
	}
	for _, c := range cases {
		got := Backoff(p, c.n, c.jitter)
		if got.Round(time.Millisecond) != c.want.Round(time.Millisecond) {
			t.Errorf("Backoff(n=%d, jitter=%v) = %v, want %v", c.n, c.jitter, got, c.want)
		}
	}
}

func TestNextStateDecidesRetriesWithAStubClock(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d := &Dispatcher{o: Options{Clock: clock.NewManual(now)}}
	policy := webhook.RetryPolicy{Enabled: true, MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute}
	cfg := &webhook.Config{Retry: policy}
	next := func(cfg *webhook.Config, att store.Attempt, rep reply) store.EventUpdate {
		u, _ := d.nextState(cfg, att, rep, head{})
		return u
	}
	if u := next(cfg, store.Attempt{N: 1}, reply{}); u.State != store.EventDelivered || !u.DeliveredAt.Equal(now) {
		t.Errorf("success: %+v", u)
	}
	u := next(cfg, store.Attempt{N: 1, Error: "HTTP status 500"}, reply{})
	if u.State != store.EventRetrying || u.NextAttemptAt.Before(now.Add(500*time.Millisecond)) || u.NextAttemptAt.After(now.Add(time.Second)) {
		t.Errorf("first failure: %+v", u)
	}
	if u := next(cfg, store.Attempt{N: 1, Error: "HTTP status 503"}, reply{retryAfter: 30 * time.Second}); !u.NextAttemptAt.Equal(now.Add(30 * time.Second)) {
		t.Errorf("Retry-After not honoured: %+v", u)
	}
	if u := next(cfg, store.Attempt{N: 3, Error: "timeout"}, reply{}); u.State != store.EventDead {
		t.Errorf("budget spent: %+v", u)
	}
	off := &webhook.Config{Retry: webhook.RetryPolicy{Enabled: false}}
	if u := next(off, store.Attempt{N: 1, Error: "timeout"}, reply{}); u.State != store.EventDead {
		t.Errorf("retries off: %+v", u)
	}
	if got := parseRetryAfter("120", now); got != 2*time.Minute {
		t.Errorf("Retry-After seconds: %v", got)
	}
	if got := parseRetryAfter(now.Add(time.Minute).UTC().Format(http.TimeFormat), now); got != time.Minute {
		t.Errorf("Retry-After date: %v", got)
	}
}

func run(t *testing.T, d *Dispatcher) {
	t.Helper()
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

// emit stores one AfterChangeOwner event of room with sequence number seq through ob.
func (f *fixture) emit(t *testing.T, ob *webhook.Outbox, room string, seq int) {
	t.Helper()
	err := f.st.Tx(context.Background(), func(tx store.Tx) error {
		_, err := ob.Enqueue(context.Background(), tx, webhook.Emit{App: 1, RoomID: room, Command: webhook.AfterChangeOwner,
			Body: map[string]any{"RoomId": room, "Seq": seq}})
		return err
	})
	if err != nil {
		t.Fatalf("store event %d of %s: %v", seq, room, err)
	}
}

// Events beyond the memory bound stay in the database and are loaded in order; events
// stored before the dispatcher starts are loaded at start.
func TestMemoryBoundAndStartupLoadKeepOrder(t *testing.T) {
	f, _ := newFixture(t, nil)
	const rooms, n = 7, 30
	f.enqueue(t, nil, rooms, 10) // before start: loaded from the database
	d := New(Options{Store: f.st, Configs: f.configs, MaxInMemory: 16, Workers: 8})
	run(t, d)
	ob := webhook.NewOutbox(f.configs, time.Now, d.Notify)
	for i := 11; i <= n; i++ {
		for r := range rooms {
			f.emit(t, ob, fmt.Sprintf("r%d", r), i)
		}
	}
	f.waitTotal(t, rooms*n)
	f.checkOrder(t, rooms, n)
	// The last results are recorded just after the receiver saw them.
	deadline := time.Now().Add(10 * time.Second)
	for s := d.Stats(); s.InMemory != 0 || s.InFlight != 0 || s.Behind; s = d.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("after drain: %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	st, err := f.st.EventStats(context.Background())
	if err != nil || st.Delivered != rooms*n || st.Pending+st.Retrying+st.Dead != 0 {
		t.Errorf("stored states %+v, %v", st, err)
	}
}

// A failing receiver blocks only its room's later events, and they follow in order once it
// recovers.
func TestFailuresRetryInOrder(t *testing.T) {
	var mu sync.Mutex
	fails := map[string]int{}
	f, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		var b struct{ RoomId string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &b)
		r.Body = http.NoBody
		mu.Lock()
		defer mu.Unlock()
		if b.RoomId == "r0" && fails["r0"] < 3 {
			fails["r0"]++
			http.Error(w, "boom", http.StatusInternalServerError)
			return false
		}
		// Re-feed the body to the recorder.
		r.Body = ioNopCloser(body)
		return true
	})
	d := New(Options{Store: f.st, Configs: f.configs, Workers: 4})
	run(t, d)
	f.enqueue(t, d, 3, 5)
	f.waitTotal(t, 15)
	f.checkOrder(t, 3, 5)
}

// A success to an app ends the backoff of its other rooms: after an outage, rooms waiting
// for a long retry are delivered as soon as one delivery gets through.
func TestSuccessEndsOtherRoomsBackoff(t *testing.T) {
	var mu sync.Mutex
	down := true
	f, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return false
		}
		return true
	})
	// A backoff far longer than the test: only the wake-up can deliver in time. (An hour's
	// backoff is past the default max_room_hold, which would make every head dead at once:
	// the bound is off here; TestRoomHoldBound pins it.)
	f.configs.Update(1, func(c *webhook.Config) {
		c.Retry = webhook.RetryPolicy{Enabled: true, MaxAttempts: 10, InitialBackoff: time.Hour, MaxBackoff: time.Hour}
		c.MaxRoomHold = 0
	})
	d := New(Options{Store: f.st, Configs: f.configs, Workers: 4})
	run(t, d)
	f.enqueue(t, d, 5, 2)
	// Every room's head fails once and waits an hour.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := f.st.EventStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Retrying == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heads did not fail: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	// A new room's event succeeds at once and wakes the others.
	f.emit(t, webhook.NewOutbox(f.configs, time.Now, d.Notify), "fresh", 1)
	f.waitTotal(t, 11)
	f.checkOrder(t, 5, 2)
}

// The store runs an event's after-commit hook (Notify) after its COMMIT, and a reader
// sees the commit at once: a loader that catches up at start-up can read the event in
// between, add it, and leave the backlog before the hook comes. The late Notify must not
// queue the event a second time (it was sent twice, with the same webhook-id, after every
// restart under load).
func TestNotifyAfterTheLoaderHasTheEvent(t *testing.T) {
	f, rc := newFixture(t, nil)
	f.enqueue(t, nil, 1, 1) // committed, its hook not run yet
	evs, err := f.st.EventListUndelivered(context.Background(), store.EventListParams{Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("stored events = %v, %v; want 1", evs, err)
	}
	d := New(Options{Store: f.st, Configs: f.configs})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(context.Background()) })
	rc.WaitN(t, 1, 10*time.Second) // the loader found it and caught up
	d.Notify(evs[0])               // the late hook
	// The room's next event, notified as usual, arrives after anything queued before it.
	f.enqueue(t, d, 1, 1)
	rc.WaitUnique(t, 2, 10*time.Second)
	if got := rc.All(); len(got) != 2 || got[0].ID == got[1].ID {
		ids := make([]string, len(got))
		for i, c := range got {
			ids[i] = c.ID
		}
		t.Errorf("requests = %v, want the two events once each", ids)
	}
}

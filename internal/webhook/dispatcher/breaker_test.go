package dispatcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
	"github.com/roomd/roomd/internal/webhook"
)

// worstCaseHold is the longest a room can wait for one failing head event under p with
// every attempt taking the whole timeout and every jittered delay drawn at its maximum:
// the sum of MaxAttempts timeouts and MaxAttempts-1 backoffs, cut at maxHold (plus the
// last attempt's timeout) when maxHold is set.
func worstCaseHold(p webhook.RetryPolicy, timeout, maxHold time.Duration) time.Duration {
	if !p.Enabled {
		return timeout
	}
	var total time.Duration
	for n := 1; n <= p.MaxAttempts; n++ {
		total += timeout
		if n < p.MaxAttempts {
			total += Backoff(p, n, 1)
		}
	}
	if maxHold > 0 && total > maxHold+timeout {
		return maxHold + timeout
	}
	return total
}

// The README's table of worst-case room holds: these are its numbers.
func TestWorstCaseRoomHold(t *testing.T) {
	old := webhook.RetryPolicy{Enabled: true, MaxAttempts: 12, InitialBackoff: time.Second, MaxBackoff: 10 * time.Minute}
	two := webhook.DefaultTimeout
	for _, c := range []struct {
		name    string
		p       webhook.RetryPolicy
		timeout time.Duration
		hold    time.Duration
		want    time.Duration
	}{
		{"retries off", webhook.RetryPolicy{}, two, 0, 2 * time.Second},
		{"defaults", webhook.DefaultRetryPolicy, two, webhook.DefaultMaxRoomHold, 2*time.Minute + 19*time.Second},
		{"defaults, 30s timeout", webhook.DefaultRetryPolicy, 30 * time.Second, webhook.DefaultMaxRoomHold, 5*time.Minute + 30*time.Second},
		{"old defaults, no bound", old, two, 0, 27*time.Minute + 27*time.Second},
		{"old defaults, max_room_hold 5m", old, two, 5 * time.Minute, 5*time.Minute + 2*time.Second},
		{"20 attempts 1s to 10m, max_room_hold 1h", webhook.RetryPolicy{Enabled: true, MaxAttempts: 20, InitialBackoff: time.Second, MaxBackoff: 10 * time.Minute}, two, time.Hour, time.Hour + 2*time.Second},
	} {
		if got := worstCaseHold(c.p, c.timeout, c.hold).Round(time.Second); got != c.want {
			t.Errorf("%s: worst-case hold %s, want %s", c.name, got, c.want)
		}
	}
	// The default schedule fits within the default bound: with Tencent's timeout the bound
	// only bites when the receiver asks for long Retry-After delays.
	if s := worstCaseHold(webhook.DefaultRetryPolicy, two, 0); s >= webhook.DefaultMaxRoomHold {
		t.Errorf("default schedule %s exceeds the default max_room_hold", s)
	}
}

// nextState with a hold: a retry that would come after max_room_hold is not made, and the
// event's LastError says why; a probe neither dies of the budget nor of the hold.
func TestNextStateBoundsTheHold(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d := &Dispatcher{o: Options{Clock: clock.NewManual(now)}}
	cfg := &webhook.Config{Retry: webhook.RetryPolicy{Enabled: true, MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Second},
		MaxRoomHold: 10 * time.Second}
	fail := store.Attempt{N: 2, Error: "HTTP status 429"}
	u, expired := d.nextState(cfg, fail, reply{retryAfter: 4 * time.Second}, head{holdStart: now.Add(-5 * time.Second)})
	if u.State != store.EventRetrying || expired {
		t.Errorf("within the hold: %+v", u)
	}
	u, expired = d.nextState(cfg, fail, reply{retryAfter: 6 * time.Second}, head{holdStart: now.Add(-5 * time.Second)})
	if u.State != store.EventDead || !expired || !strings.Contains(u.LastError, "max_room_hold 10s reached after 2 attempts") ||
		!strings.HasSuffix(u.LastError, ": HTTP status 429") {
		t.Errorf("past the hold: %+v", u)
	}
	// Attempts made as probes are not counted: the 5th attempt of an event probed twice
	// is its 3rd counted one.
	if u, _ := d.nextState(cfg, store.Attempt{N: 5, Error: "x"}, reply{}, head{exempt: 2}); u.State != store.EventRetrying {
		t.Errorf("exempt probes counted: %+v", u)
	}
	if u, _ := d.nextState(cfg, store.Attempt{N: 9, Error: "x"}, reply{}, head{exempt: 1, probe: true, holdStart: now.Add(-time.Hour)}); u.State != store.EventRetrying {
		t.Errorf("a failed probe died: %+v", u)
	}
	cfg.MaxRoomHold = 0
	if u, _ := d.nextState(cfg, fail, reply{retryAfter: time.Hour}, head{holdStart: now.Add(-time.Hour)}); u.State != store.EventRetrying {
		t.Errorf("max_room_hold 0 bounded the hold: %+v", u)
	}
}

// manualFixture is a fixture whose dispatcher runs on a manual clock set ahead of the real
// one (the outbox stamps new events with the real time, so they are due at once).
func manualFixture(t *testing.T, handler func(w http.ResponseWriter, r *http.Request) bool, cfg func(*webhook.Config)) (*fixture, *clock.Manual, *Dispatcher) {
	t.Helper()
	f, _ := newFixture(t, handler)
	f.configs.Update(1, cfg)
	clk := clock.NewManual(time.Now().Add(time.Hour))
	d := New(Options{Store: f.st, Configs: f.configs, Clock: clk, Workers: 8})
	run(t, d)
	return f, clk, d
}

// settle waits until cond holds and no attempt is in flight.
func settle(t *testing.T, d *Dispatcher, what string, cond func(webhook.AppDeliveryState, store.EventStats) bool) {
	t.Helper()
	testkit.Eventually(t, what, 10*time.Second, func() (bool, string) {
		s := d.AppState(1)
		es, err := d.o.Store.EventStats(context.Background())
		if err != nil {
			return false, err.Error()
		}
		return s.InFlight == 0 && d.Stats().InFlight == 0 && cond(s, es), fmt.Sprintf("%+v %+v", s, es)
	})
}

// roomOf reads the RoomId of a callback request's body.
func roomOf(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	var b struct{ RoomId string }
	json.Unmarshal(body, &b)
	return b.RoomId
}

// A head that keeps failing holds its room no longer than max_room_hold: with Retry-After
// delays of 4 s and a 10 s bound the third failure makes it dead, its LastError says why,
// and the room's next event goes. One failing room does not open the breaker.
func TestRoomHoldBound(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	f, clk, d := manualFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		room := roomOf(r)
		mu.Lock()
		defer mu.Unlock()
		seen[room]++
		if room == "r0" && seen[room] <= 3 { // only the first event of r0 fails
			w.Header().Set("Retry-After", "4")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return false
		}
		return true
	}, func(c *webhook.Config) {
		c.Retry = webhook.RetryPolicy{Enabled: true, MaxAttempts: 100, InitialBackoff: time.Second, MaxBackoff: time.Second}
		c.MaxRoomHold = 10 * time.Second
		c.Breaker = webhook.BreakerPolicy{Failures: 2, ProbeInterval: time.Second}
	})
	f.enqueue(t, d, 1, 2) // r0: events 1 and 2
	settle(t, d, "first failure", func(_ webhook.AppDeliveryState, es store.EventStats) bool { return es.Retrying == 1 })
	for i := 2; i <= 3; i++ {
		clk.Advance(4 * time.Second) // the Retry-After
		settle(t, d, fmt.Sprintf("attempt %d", i), func(_ webhook.AppDeliveryState, es store.EventStats) bool {
			mu.Lock()
			defer mu.Unlock()
			return seen["r0"] >= i && es.Retrying+es.Dead == 1
		})
	}
	// Third failure at +8s: a retry at +12s would pass the 10s bound.
	f.waitTotal(t, 1) // event 2 of r0 goes without the clock moving
	settle(t, d, "room moved on", func(s webhook.AppDeliveryState, es store.EventStats) bool {
		return es.Dead == 1 && es.Delivered == 1
	})
	ev, _, err := d.Get(context.Background(), 1, 1)
	if err != nil || ev.State != store.EventDead || ev.Attempts != 3 ||
		ev.LastError != "max_room_hold 10s reached after 3 attempts (the next retry would have held the room 12s): HTTP status 429" {
		t.Errorf("dead head: %+v, %v", ev, err)
	}
	s := d.AppState(1)
	if s.Breaker != webhook.BreakerClosed || s.Opened != 0 || s.HoldExpired != 1 {
		t.Errorf("app state after one failing room: %+v", s)
	}
}

// The breaker, on a stub clock: failures over several rooms open it; while open nothing is
// sent but one probe per interval, the probes rotate over the paused rooms and are not
// counted against max_attempts (no event dies however long the outage); a successful probe
// closes it and every room resumes at once, without the clock moving.
func TestBreakerOpensProbesAndCloses(t *testing.T) {
	var up atomic.Bool
	var mu sync.Mutex
	var probed []string
	f, clk, d := manualFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		room := roomOf(r)
		mu.Lock()
		probed = append(probed, room)
		mu.Unlock()
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return false
		}
		return true
	}, func(c *webhook.Config) {
		c.Retry = webhook.RetryPolicy{Enabled: true, MaxAttempts: 2, InitialBackoff: time.Second, MaxBackoff: time.Second}
		c.MaxRoomHold = 30 * time.Second
		c.Breaker = webhook.BreakerPolicy{Failures: 4, ProbeInterval: 10 * time.Second}
	})
	const rooms = 4
	f.enqueue(t, d, rooms, 2)
	settle(t, d, "breaker open", func(s webhook.AppDeliveryState, es store.EventStats) bool {
		return s.Breaker == webhook.BreakerOpen && es.Retrying == rooms
	})
	if s := d.AppState(1); s.Opened != 1 || s.ConsecutiveFailures != 4 || s.NextProbeAt.IsZero() {
		t.Errorf("opened: %+v", s)
	}
	// The backoffs end: the rooms are due, but paused; nothing is sent.
	clk.Advance(time.Second)
	settle(t, d, "rooms paused", func(s webhook.AppDeliveryState, _ store.EventStats) bool { return s.PausedRooms == rooms })
	if n := len(f.rc.All()); n != rooms {
		t.Fatalf("%d attempts while open before any probe, want %d", n, rooms)
	}
	// Twelve probe intervals, far more than max_attempts per event: one attempt each, no
	// event dead, every room probed.
	for i := 1; i <= 12; i++ {
		clk.Advance(10 * time.Second)
		settle(t, d, fmt.Sprintf("probe %d", i), func(s webhook.AppDeliveryState, _ store.EventStats) bool {
			return s.ProbesFailed == int64(i) && s.Breaker == webhook.BreakerOpen
		})
	}
	if n := len(f.rc.All()); n != rooms+12 {
		t.Errorf("%d attempts, want %d first ones and 12 probes", n, rooms)
	}
	mu.Lock()
	count := map[string]int{}
	for _, r := range probed[rooms:] {
		count[r]++
	}
	mu.Unlock()
	if len(count) != rooms {
		t.Errorf("probes did not rotate over the rooms: %v", count)
	}
	if es, _ := f.st.EventStats(context.Background()); es.Dead != 0 || es.Retrying != rooms {
		t.Errorf("events while paused: %+v (none may die)", es)
	}
	// The backend is back: the next probe succeeds and every room resumes at once.
	up.Store(true)
	clk.Advance(10 * time.Second)
	f.waitTotal(t, rooms*2)
	f.checkOrder(t, rooms, 2)
	settle(t, d, "breaker closed", func(s webhook.AppDeliveryState, es store.EventStats) bool {
		return s.Breaker == webhook.BreakerClosed && es.Delivered == rooms*2
	})
	if s := d.AppState(1); s.Probes != 13 || s.ProbesFailed != 12 || s.PausedRooms != 0 {
		t.Errorf("after closing: %+v", s)
	}
}

// max_per_second bounds the attempts to an app: the bucket holds one second's worth, and
// on a clock that stands still nothing more is sent until it moves.
func TestMaxPerSecondBoundsAttempts(t *testing.T) {
	f, clk, d := manualFixture(t, nil, func(c *webhook.Config) { c.MaxPerSecond = 2 })
	f.enqueue(t, d, 6, 1)
	f.waitTotal(t, 2)
	time.Sleep(100 * time.Millisecond) // real time passes; the clock does not
	if n := len(f.rc.All()); n != 2 {
		t.Fatalf("%d attempts in the first second, want 2", n)
	}
	clk.Advance(500 * time.Millisecond)
	f.waitTotal(t, 3)
	clk.Advance(time.Second)
	f.waitTotal(t, 5)
	clk.Advance(time.Second)
	f.waitTotal(t, 6)
	if s := d.AppState(1); s.RateLimited == 0 {
		t.Errorf("no rate-limited wait counted: %+v", s)
	}
}

// Rooms resumed together (the breaker closing) start in the order their callbacks were
// made, oldest head first, not in the order of a map: after an outage the oldest callbacks
// go first, and consecutive attempts record consecutive events (docs/bench.md, drain).
func TestRoomsResumeOldestFirst(t *testing.T) {
	var up atomic.Bool
	var mu sync.Mutex
	var order []string
	f, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		room := roomOf(r)
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return false
		}
		mu.Lock()
		order = append(order, room)
		mu.Unlock()
		return true
	})
	f.configs.Update(1, func(c *webhook.Config) {
		c.Retry = webhook.RetryPolicy{Enabled: true, MaxAttempts: 50, InitialBackoff: time.Second, MaxBackoff: time.Second}
		c.Breaker = webhook.BreakerPolicy{Failures: 4, ProbeInterval: 10 * time.Second}
	})
	clk := clock.NewManual(time.Now().Add(time.Hour))
	// One worker: attempts are made one at a time, in the ready list's order.
	d := New(Options{Store: f.st, Configs: f.configs, Clock: clk, Workers: 1})
	run(t, d)
	const rooms = 64
	f.enqueue(t, d, rooms, 1) // event ids in room order: r0 oldest
	settle(t, d, "breaker open", func(s webhook.AppDeliveryState, _ store.EventStats) bool {
		return s.Breaker == webhook.BreakerOpen
	})
	clk.Advance(time.Second) // the failed rooms' backoffs end: every room is paused
	settle(t, d, "rooms paused", func(s webhook.AppDeliveryState, _ store.EventStats) bool { return s.PausedRooms == rooms })
	up.Store(true)
	clk.Advance(10 * time.Second) // the probe succeeds and the breaker closes
	f.waitTotal(t, rooms)
	settle(t, d, "all delivered", func(_ webhook.AppDeliveryState, es store.EventStats) bool { return es.Delivered == rooms })
	mu.Lock()
	defer mu.Unlock()
	// The first delivery is the probe; the others follow oldest first.
	last := -1
	for _, room := range order[1:] {
		var i int
		fmt.Sscanf(room, "r%d", &i)
		if i <= last {
			t.Fatalf("rooms resumed out of age order: %v", order)
		}
		last = i
	}
}

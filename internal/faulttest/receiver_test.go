package faulttest

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestReceiverOutage takes the App backend away for a few seconds while owner changes go
// on: first it answers 503, then its port is closed. When it comes back, every callback
// must arrive, in order per room.
func TestReceiverOutage(t *testing.T) { runOutage(t, 3*time.Second) }

// TestReceiverOutageLong is the full version: a 60 s outage.
func TestReceiverOutageLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test; runs without -short")
	}
	runOutage(t, 60*time.Second)
}

func runOutage(t *testing.T, outage time.Duration) {
	rcv := newReceiver(t)
	rd := newRoomd(t, t.TempDir(), procConfig{Apps: []appSpec{{ID: appA, Key: keyA, CallbackURL: rcv.URL(),
		InitialBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}}})
	rd.mustStart()
	c := newClient(t, appA, keyA)
	rooms := setupRooms(t, c, rd.URL(), "outage", 8)
	d := &loadDriver{c: c, base: rd.URL, rooms: rooms, gap: 20 * time.Millisecond}
	d.start()
	t.Cleanup(d.stop)

	if !waitFor(30*time.Second, 20*time.Millisecond, func() bool { return len(rcv.delivered()) >= len(rooms) }) {
		t.Fatal("no callbacks before the outage")
	}
	before := counts(rooms)[outcomeOK]
	rcv.setMode(mode503)
	pause(context.Background(), outage/2)
	rcv.down()
	pause(context.Background(), outage-outage/2)
	queued := counts(rooms)[outcomeOK] - before
	rcv.setMode(modeOK)
	rcv.up()
	back := time.Now()
	pause(context.Background(), 500*time.Millisecond)
	d.stop()

	failed := 0
	for _, a := range rcv.all() {
		if a.Status == http.StatusServiceUnavailable {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("the receiver answered no 503 during the outage: roomd did not try to deliver")
	}
	final := finalOwners(t, c, rd.URL(), rooms)
	waitDelivered(t, rcv, rooms, final, 60*time.Second+outage)
	t.Logf("%s outage: %d changes OK'd during it, %d attempts answered 503; all delivered %s after the receiver came back",
		outage, queued, failed, time.Since(back).Round(time.Millisecond))
	verify(t, rooms, rcv.all(), final)
	if !rd.alive() {
		t.Fatal("roomd died")
	}
}

// TestReceiverHang points one app at a receiver that never answers: its attempts must time
// out (timeout: 500ms) and be retried, while a second app in the same process, with a
// healthy receiver, keeps getting its callbacks promptly. When the first receiver recovers,
// its callbacks arrive too, in order.
func TestReceiverHang(t *testing.T) { runHang(t, 3*time.Second) }

// TestReceiverHangLong is the full version: the receiver hangs for 30 s.
func TestReceiverHangLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test; runs without -short")
	}
	runHang(t, 30*time.Second)
}

func runHang(t *testing.T, hang time.Duration) {
	const perApp = 8
	rcvA, rcvB := newReceiver(t), newReceiver(t)
	rcvA.setMode(modeHang)
	rd := newRoomd(t, t.TempDir(), procConfig{
		// Few workers, so that without the per-app limit app A's hung attempts would take
		// them all.
		Workers: 2 * perApp, PerApp: perApp,
		Apps: []appSpec{
			// No breaker: it would pause app A and probe its oldest heads instead of
			// retrying them, and the timeouts and retries are what this test is about (the
			// breaker has its own tests in dispatcher and app).
			{ID: appA, Key: keyA, CallbackURL: rcvA.URL(), Timeout: 500 * time.Millisecond,
				InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, NoBreaker: true},
			{ID: appB, Key: keyB, CallbackURL: rcvB.URL()},
		},
	})
	rd.mustStart()
	cA, cB := newClient(t, appA, keyA), newClient(t, appB, keyB)
	roomsA := setupRooms(t, cA, rd.URL(), "hang-a", 3*perApp)
	roomsB := setupRooms(t, cB, rd.URL(), "hang-b", 6)
	dA := &loadDriver{c: cA, base: rd.URL, rooms: roomsA, gap: 50 * time.Millisecond}
	dB := &loadDriver{c: cB, base: rd.URL, rooms: roomsB, gap: 20 * time.Millisecond}
	dA.start()
	dB.start()
	t.Cleanup(dA.stop)
	t.Cleanup(dB.stop)

	pause(context.Background(), hang)
	dB.stop()
	finalB := finalOwners(t, cB, rd.URL(), roomsB)
	// App B must be fully served while app A is still hung.
	waitDelivered(t, rcvB, roomsB, finalB, 30*time.Second)
	verify(t, roomsB, rcvB.all(), finalB)
	lat := latencies(roomsB, rcvB.delivered())
	if len(lat) == 0 {
		t.Fatal("app B made no changes")
	}
	t.Logf("app B while app A hangs: %d callbacks, latency from OK reply to arrival (0 = before the reply) p50 %s, p99 %s, max %s",
		len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])

	// App A's attempts must have timed out and been retried with the same webhook-id.
	hungA := rcvA.all()
	ids := map[string]int{}
	var abandoned []time.Duration
	for _, a := range hungA {
		if a.Status == http.StatusOK {
			t.Fatalf("app A's receiver answered 200 while hung: %+v", a)
		}
		ids[a.ID]++
		if a.HungFor > 0 {
			abandoned = append(abandoned, a.HungFor)
		}
	}
	retried := 0
	for _, n := range ids {
		if n > 1 {
			retried++
		}
	}
	if len(abandoned) == 0 || retried == 0 {
		t.Fatalf("app A: %d attempts, %d given up by roomd, %d events retried: want timeouts and retries", len(hungA), len(abandoned), retried)
	}
	slices.Sort(abandoned)
	t.Logf("app A hung: %d attempts on %d events, roomd gave up after p50 %s, max %s", len(hungA), len(ids),
		abandoned[len(abandoned)/2].Round(time.Millisecond), abandoned[len(abandoned)-1].Round(time.Millisecond))
	if med := abandoned[len(abandoned)/2]; med < 400*time.Millisecond || med > 5*time.Second {
		t.Errorf("app A's attempts were given up after a median %s, want about the 500ms timeout", med)
	}

	// The backend recovers: app A's queue drains, in order.
	rcvA.setMode(modeOK)
	dA.stop()
	finalA := finalOwners(t, cA, rd.URL(), roomsA)
	waitDelivered(t, rcvA, roomsA, finalA, 60*time.Second)
	verify(t, roomsA, rcvA.all(), finalA)
	if !rd.alive() {
		t.Fatal("roomd died")
	}
}

// latencies returns, sorted, the time from each OK reply of rooms to its callback's first
// arrival.
func latencies(rooms []*roomLog, got []arrival) []time.Duration {
	firstAt := map[string]time.Time{}
	for _, a := range got {
		k := a.Room + "\x00" + a.Current
		if _, ok := firstAt[k]; !ok {
			firstAt[k] = a.At
		}
	}
	var out []time.Duration
	for _, l := range rooms {
		for _, c := range l.snapshot() {
			if at, ok := firstAt[l.Room+"\x00"+c.Owner]; ok && c.Outcome == outcomeOK {
				out = append(out, max(at.Sub(c.Replied), 0).Round(10*time.Microsecond))
			}
		}
	}
	slices.Sort(out)
	return out
}

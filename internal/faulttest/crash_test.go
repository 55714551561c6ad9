package faulttest

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// crashParams shape one kill -9 run.
type crashParams struct {
	rooms        int
	kills        int
	minUp, maxUp time.Duration // how long roomd runs before each kill, drawn uniformly
}

// TestKill9UnderLoad kills roomd with SIGKILL a few times while 20 rooms change owner
// concurrently, restarting it on the same data directory each time (and once more after a
// graceful SIGTERM). Every change that got an OK reply must be delivered, in order per
// room, and any duplicate must carry the same webhook-id.
func TestKill9UnderLoad(t *testing.T) {
	runCrash(t, crashParams{rooms: 20, kills: 4, minUp: 150 * time.Millisecond, maxUp: time.Second})
}

// TestKill9UnderLoadLong is the full version: 20 kills.
func TestKill9UnderLoadLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test; runs without -short")
	}
	runCrash(t, crashParams{rooms: 20, kills: 20, minUp: 0, maxUp: 2 * time.Second})
}

// seed returns the random seed of a test, from FAULTTEST_SEED when set, and logs it so that
// a failing run's kill moments can be replayed (as far as timing allows).
func seed(t *testing.T) uint64 {
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("FAULTTEST_SEED"); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			s = n
		}
	}
	t.Logf("FAULTTEST_SEED=%d", s)
	return s
}

func runCrash(t *testing.T, p crashParams) {
	rng := rand.New(rand.NewPCG(seed(t), 1))
	rcv := newReceiver(t)
	rd := newRoomd(t, t.TempDir(), procConfig{Apps: []appSpec{{ID: appA, Key: keyA, CallbackURL: rcv.URL()}}})
	rd.mustStart()
	c := newClient(t, appA, keyA)
	rooms := setupRooms(t, c, rd.URL(), "crash", p.rooms)

	d := &loadDriver{c: c, base: rd.URL, rooms: rooms}
	d.start()
	t.Cleanup(d.stop)
	start := time.Now()
	for i := range p.kills {
		up := p.minUp + time.Duration(rng.Int64N(int64(p.maxUp-p.minUp)+1))
		pause(context.Background(), up)
		if !rd.alive() {
			t.Fatalf("roomd died on its own before kill %d", i+1)
		}
		rd.kill()
		if err := rd.start(); err != nil {
			t.Fatalf("restart after kill %d: %v", i+1, err)
		}
	}
	// One graceful restart too: events still queued when roomd shuts down on SIGTERM are
	// delivered by the next process.
	pause(context.Background(), p.minUp+time.Duration(rng.Int64N(int64(p.maxUp-p.minUp)+1)))
	if err := rd.stop(); err != nil {
		t.Fatal(err)
	}
	rd.mustStart()
	// Let the last process take load for a moment before stopping.
	pause(context.Background(), 300*time.Millisecond)
	d.stop()
	if !rd.alive() {
		t.Fatal("roomd died on its own after the last restart")
	}
	n := counts(rooms)
	t.Logf("%d kills and a graceful restart in %s: %d changes OK'd, %d without a reply, %d failed with an error code",
		p.kills, time.Since(start).Round(time.Millisecond), n[outcomeOK], n[outcomeUnknown], n[outcomeFailed])
	if n[outcomeOK] < p.rooms {
		t.Fatalf("only %d changes got an OK reply: the load made no real progress", n[outcomeOK])
	}

	final := finalOwners(t, c, rd.URL(), rooms)
	waitDelivered(t, rcv, rooms, final, 90*time.Second)
	all := rcv.all()
	dups := verify(t, rooms, all, final)
	t.Logf("%d requests received, %d of them redeliveries with the same webhook-id", len(all), dups)
}

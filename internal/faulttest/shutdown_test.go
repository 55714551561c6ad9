package faulttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/testkit"
)

// TestSIGTERMUnderLoad stops roomd with SIGTERM while 10 rooms change owner against a
// slow App backend (30 ms a callback, so attempts are in flight at the signal). roomd
// must finish its attempts in flight, exit 0 within shutdown_timeout, and the next
// process must deliver the rest: every change that got an OK reply reaches the backend,
// in order per room, and exactly once: a stop that finished within its deadline recorded
// every attempt that reached the backend, so nothing may arrive twice (a duplicate is
// allowed only when the deadline cut attempts short, which TestSIGTERMPastDeadline covers).
func TestSIGTERMUnderLoad(t *testing.T) {
	const shutdownTimeout = 5 * time.Second
	rcv := newReceiver(t)
	rcv.Respond(func(w http.ResponseWriter, r *http.Request, _ testkit.Callback) {
		time.Sleep(30 * time.Millisecond) // a slow backend, not a wait of the test
		io.WriteString(w, testkit.OKReply)
	})
	rd := newRoomd(t, t.TempDir(), procConfig{ShutdownTimeout: shutdownTimeout,
		Apps: []appSpec{{ID: appA, Key: keyA, CallbackURL: rcv.URL()}}})
	rd.mustStart()
	c := newClient(t, appA, keyA)
	rooms := setupRooms(t, c, rd.URL(), "term", 10)
	d := &loadDriver{c: c, base: rd.URL, rooms: rooms}
	d.start()
	t.Cleanup(d.stop)

	pause(context.Background(), 700*time.Millisecond)
	before := len(rcv.all())
	start := time.Now()
	if err := rd.stop(); err != nil { // SIGTERM; an exit status other than 0 is an error
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("SIGTERM → exit 0 in %s (%d callbacks received before the signal)", took.Round(time.Millisecond), before)
	if took > shutdownTimeout+2*time.Second {
		t.Errorf("roomd took %s to stop, beyond shutdown_timeout %s", took, shutdownTimeout)
	}
	graceful := strings.Contains(rd.logs.String(), "shutdown_complete")
	if !graceful {
		t.Errorf("the log does not say the shutdown completed in time")
	}

	stopped := time.Now()
	rd.mustStart()
	restarted := time.Now()
	pause(context.Background(), 300*time.Millisecond)
	d.stop()
	n := counts(rooms)
	if n[outcomeOK] < len(rooms) {
		t.Fatalf("only %d changes got an OK reply", n[outcomeOK])
	}
	final := finalOwners(t, c, rd.URL(), rooms)
	waitDelivered(t, rcv, rooms, final, 60*time.Second)
	all := rcv.all()
	dups := verify(t, rooms, all, final)
	t.Logf("%d changes OK'd, all delivered; %d duplicates", n[outcomeOK], dups)
	if dups > 0 && graceful {
		// Say when each copy arrived: in the first run, during its stop, or in the second.
		phase := func(at time.Time) string {
			switch {
			case at.Before(start):
				return "run 1"
			case at.Before(stopped):
				return "run 1 stopping"
			case at.Before(restarted):
				return "between runs"
			}
			return "run 2"
		}
		var lines []string
		firstOf := map[string]arrival{}
		for _, a := range all {
			if a.Status != http.StatusOK {
				continue
			}
			if f, ok := firstOf[a.ID]; ok {
				if len(lines) < 20 {
					lines = append(lines, fmt.Sprintf("%s: #%d in %s, again #%d in %s", a.ID, f.N, phase(f.At), a.N, phase(a.At)))
				}
				continue
			}
			firstOf[a.ID] = a
		}
		t.Errorf("%d callbacks delivered twice after a graceful stop that finished in time, want none:\n  %s",
			dups, strings.Join(lines, "\n  "))
	}
}

// TestSIGTERMPastDeadline: the App backend hangs longer than shutdown_timeout. roomd still
// exits 0 shortly after the deadline, the attempt cut short is left pending, and the next
// process delivers it once the backend answers again.
func TestSIGTERMPastDeadline(t *testing.T) {
	const shutdownTimeout = 2 * time.Second
	rcv := newReceiver(t)
	rcv.setMode(testkit.ModeHang)
	rd := newRoomd(t, t.TempDir(), procConfig{ShutdownTimeout: shutdownTimeout,
		Apps: []appSpec{{ID: appA, Key: keyA, CallbackURL: rcv.URL(), Timeout: 30 * time.Second}}})
	rd.mustStart()
	c := newClient(t, appA, keyA)
	rooms := setupRooms(t, c, rd.URL(), "late", 1)
	d := &loadDriver{c: c, base: rd.URL, rooms: rooms}
	d.start()
	if !waitFor(10*time.Second, 20*time.Millisecond, func() bool { return len(rcv.all()) > 0 }) {
		t.Fatal("no callback attempt reached the backend")
	}
	d.stop()
	start := time.Now()
	if err := rd.stop(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("SIGTERM with a hanging backend → exit 0 in %s", took.Round(time.Millisecond))
	if took < shutdownTimeout-200*time.Millisecond || took > shutdownTimeout+2*time.Second {
		t.Errorf("roomd took %s to stop, want about shutdown_timeout %s", took, shutdownTimeout)
	}
	if log := rd.logs.String(); !strings.Contains(log, "shutdown_deadline_passed") {
		t.Errorf("the log does not say the deadline passed")
	}

	rcv.setMode(testkit.ModeOK)
	rd.mustStart()
	final := finalOwners(t, c, rd.URL(), rooms)
	waitDelivered(t, rcv, rooms, final, 30*time.Second)
	verify(t, rooms, rcv.all(), final)
}

package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
)

// Retention end to end, on a manual clock: a delivered event leaves the delivery log once
// its retention has passed, a dead one after its longer retention, and pending and
// retrying events stay whatever their age.
func TestRetentionPrunesTheDeliveryLog(t *testing.T) {
	rc := newReceiver(t)
	failing := []string{"r-dead", "r-stuck"}
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, c callbackRequest) {
		// The body names the room (RoomId, or RoomInfo.RoomId for a creation).
		if slices.ContainsFunc(failing, func(room string) bool { return bytes.Contains(c.Body, []byte(`"`+room+`"`)) }) {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(testkit.OKReply))
	})
	t0 := time.Now().Truncate(time.Millisecond)
	clk := clock.NewManual(t0)
	ts := startServer(t, app.Options{Clock: clk}, func(c *config.Config) {
		withCallback(rc.URL(), cmdCreate, cmdOwner)(c)
		// Two attempts a thousand hours apart: an event that fails stays retrying until
		// the test moves the clock that far.
		c.Apps[0].Callback.Retry = config.Retry{MaxAttempts: 2, InitialBackoff: 1000 * time.Hour, MaxBackoff: 1000 * time.Hour}
		c.Apps[0].Callback.Retention = config.Retention{Delivered: time.Hour, Dead: 24 * time.Hour}
		c.Apps[0].ApplyDefaults()
		c.Apps[0].Callback.MaxRoomHold = 0 // no hold bound: the retrying event must stay retrying
	})
	// The server's clock will run far ahead of the real one: sign for the whole test.
	sig, err := usersig.Sign(testApp, testKey, testAdmin, 100*86400, t0)
	if err != nil {
		t.Fatal(err)
	}
	ts.c.Sig = sig
	if got := ts.Srv.Retention.Interval(); got != time.Minute {
		t.Fatalf("retention interval %s, want 1m (a tenth of 1h, at most 1m)", got)
	}

	// Event A of r-dead fails twice, a thousand hours apart, and dies at T1.
	ts.importAccounts("a", "b")
	ts.createRoom("r-dead", "a")
	waitState(t, ts, "retrying", 1)
	waitTimers(t, clk)
	clk.Advance(1000 * time.Hour)
	waitState(t, ts, "dead", 1)
	dead := eventsIn(t, ts, "dead")[0]

	// At T1: B is delivered; C (r-stuck) fails and waits 1000 h as retrying; D, the next
	// change of r-stuck, waits behind it as pending.
	ts.createRoom("r-ok", "a")
	waitState(t, ts, "delivered", 1)
	delivered := eventsIn(t, ts, "delivered")[0]
	ts.createRoom("r-stuck", "a")
	waitState(t, ts, "retrying", 1)
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r-stuck","NewOwner_Account":"b"}`))
	waitState(t, ts, "pending", 1)
	kept := append(eventsIn(t, ts, "retrying"), eventsIn(t, ts, "pending")...)

	// An hour and a pass later: B is gone, A (dead, 24 h) and C, D stay.
	clk.Advance(time.Hour + time.Minute)
	waitLog(t, ts, clk, "B pruned after its hour", func(ids []int64) bool { return !slices.Contains(ids, delivered) })
	ids := logIDs(t, ts)
	for _, id := range append([]int64{dead}, kept...) {
		if !slices.Contains(ids, id) {
			t.Errorf("event %d left the log after an hour (log: %v)", id, ids)
		}
	}
	mustFail(t, ts.call("roomd_delivery/get_event", fmt.Sprintf(`{"EventId":%d}`, delivered)), 100002)
	waitPrunedMetric(t, ts, 1, 0)

	// A day later: A is gone too; C and D, older than both retentions, stay.
	clk.Advance(24 * time.Hour)
	waitLog(t, ts, clk, "A pruned after its day", func(ids []int64) bool { return !slices.Contains(ids, dead) })
	ids = logIDs(t, ts)
	for _, id := range kept {
		if !slices.Contains(ids, id) {
			t.Errorf("undelivered event %d pruned (log: %v)", id, ids)
		}
	}
	if len(ids) != len(kept) {
		t.Errorf("log after pruning lists %v, want only the undelivered %v", ids, kept)
	}
	waitPrunedMetric(t, ts, 1, 1)
}

// waitPrunedMetric waits until roomd_callback_pruned_total counts delivered and dead (the
// job counts a pass once it is over, compaction included).
func waitPrunedMetric(t *testing.T, ts *testServer, delivered, dead int) {
	t.Helper()
	want := []string{
		fmt.Sprintf(`roomd_callback_pruned_total{state="delivered"} %d`, delivered),
		fmt.Sprintf(`roomd_callback_pruned_total{state="dead"} %d`, dead),
	}
	testkit.Eventually(t, "roomd_callback_pruned_total", 10*time.Second, func() (bool, string) {
		m := metricsText(t, ts)
		for _, w := range want {
			if !strings.Contains(m, w+"\n") {
				return false, grepLines(m, "roomd_callback_pruned_total")
			}
		}
		return true, ""
	})
}

// waitTimers waits until some component has armed a timer on clk (the dispatcher's retry).
func waitTimers(t *testing.T, clk *clock.Manual) {
	t.Helper()
	testkit.Eventually(t, "an armed timer", 10*time.Second, func() (bool, string) { return clk.Waiting() > 1, "" })
}

// eventsIn returns the ids of the test app's events in state, newest first.
func eventsIn(t *testing.T, ts *testServer, state string) []int64 {
	t.Helper()
	var list struct{ Events []struct{ EventId int64 } }
	env := mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"`+state+`"}`))
	json.Unmarshal(env.Response, &list)
	var ids []int64
	for _, e := range list.Events {
		ids = append(ids, e.EventId)
	}
	return ids
}

// logIDs returns the ids of every event in the delivery log.
func logIDs(t *testing.T, ts *testServer) []int64 { return eventsIn(t, ts, "") }

// waitLog polls the delivery log until ok. The job arms its next timer only once its
// pass is over (compaction included), which may be after the test moved the clock: each
// poll that fails moves the clock one more second, so a timer armed late fires too (at
// most a few minutes more than the test's hours).
func waitLog(t *testing.T, ts *testServer, clk *clock.Manual, what string, ok func(ids []int64) bool) {
	t.Helper()
	testkit.Eventually(t, what, 15*time.Second, func() (bool, string) {
		ids := logIDs(t, ts)
		if ok(ids) {
			return true, ""
		}
		clk.Advance(time.Second)
		return false, fmt.Sprint(ids)
	})
}

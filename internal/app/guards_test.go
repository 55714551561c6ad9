package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
)

// End-to-end tests of the delivery guards (the room hold bound, the per-app breaker) with
// real receivers on a real server and the real clock.

// appState reads roomd_delivery/get_app_state.
type appStateReply struct {
	Breaker             string
	ConsecutiveFailures int
	Opened, Probes      int64
	ProbesFailed        int64
	HoldExpired         int64
	PausedRooms         int
	Events              int
}

func getAppState(t *testing.T, ts *testServer) appStateReply {
	t.Helper()
	var s appStateReply
	env := mustOK(t, ts.call("roomd_delivery/get_app_state", `{}`))
	if err := json.Unmarshal(env.Response, &s); err != nil {
		t.Fatalf("get_app_state: %v: %s", err, env.Response)
	}
	return s
}

// metricsText reads /metrics.
func metricsText(t *testing.T, ts *testServer) string {
	t.Helper()
	resp, err := http.Get(ts.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A 429 with Retry-After: the retry waits the time the receiver asked for, not the
// (much shorter) configured backoff.
func TestRetryAfterIsHonoured(t *testing.T) {
	rc := newReceiver(t)
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, c callbackRequest) {
		if c.N == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, testkit.OKReply)
	})
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdCreate))
	ts.importAccounts("a")
	ts.createRoom("r", "a")
	got := rc.WaitN(t, 2, 15*time.Second)
	if got[0].Status != http.StatusTooManyRequests || got[0].ID != got[1].ID {
		t.Fatalf("attempts: %+v", got)
	}
	if wait := got[1].At.Sub(got[0].At); wait < 900*time.Millisecond {
		t.Errorf("retried after %s; Retry-After asked for 1s (backoff is 20ms)", wait)
	}
	waitState(t, ts, "delivered", 1)
}

// A second app on the same server, with its own receiver.
const (
	testApp2 = 1400000002
	testKey2 = "e2e-secret-key-second-app-0123456"
)

func withSecondApp(url string, cmds ...string) serverOption {
	return func(c *config.Config) {
		off := false
		a := config.App{SDKAppID: testApp2, SecretKey: testKey2, Admins: []string{testAdmin},
			RateLimit: config.RateLimit{Enabled: &off}, Callback: &config.Callback{URL: url, Commands: cmds}}
		a.Callback.Retry.InitialBackoff = 20 * time.Millisecond
		a.Callback.Retry.MaxBackoff = 200 * time.Millisecond
		a.ApplyDefaults()
		c.Apps = append(c.Apps, a)
	}
}

// An App backend that hangs costs its own app timeouts, and nothing else: another app's
// callbacks are delivered at once meanwhile.
func TestHangingBackendDoesNotDelayAnotherApp(t *testing.T) {
	slow, fast := newReceiver(t), newReceiver(t)
	slow.SetMode(testkit.ModeHang)
	ts := startServer(t, app.Options{}, withCallback(slow.URL(), cmdCreate), func(c *config.Config) {
		c.Apps[0].Callback.Timeout = 300 * time.Millisecond
	}, withSecondApp(fast.URL(), cmdCreate))
	other := testkit.NewClient(t, ts.Base, testApp2, testKey2, testAdmin)

	ts.importAccounts("a")
	for i := range 5 {
		ts.createRoom(fmt.Sprintf("slow%d", i), "a")
	}
	start := time.Now()
	for i := range 5 {
		mustOK(t, other.Do(t, "live_engine_http_srv/create_room", map[string]any{"RoomInfo": map[string]any{
			"RoomId": fmt.Sprintf("fast%d", i), "RoomType": "Live", "Owner_Account": testAdmin}}))
	}
	fast.WaitN(t, 5, 10*time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the other app's callbacks took %s while this app's backend hung", d)
	}
	// The hung backend's attempts time out and say so in the delivery log.
	testkit.Eventually(t, "a timed-out attempt", 10*time.Second, func() (bool, string) {
		env := mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"retrying"}`))
		return strings.Contains(string(env.Response), "timeout after 300ms"), string(env.Response)
	})
	slow.SetMode(testkit.ModeOK)
	waitState(t, ts, "delivered", 5)
}

// The breaker end to end: a backend that fails over several rooms pauses the app (the
// delivery log and the metrics say so, and the attempts stop but for probes); when it
// recovers, a probe closes the breaker and every room is delivered, in order.
func TestBreakerOpensAndClosesEndToEnd(t *testing.T) {
	rc := newReceiver(t)
	rc.SetMode(testkit.ModeFail)
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdCreate, cmdOwner), func(c *config.Config) {
		c.Apps[0].Callback.Breaker = config.Breaker{Failures: 3, ProbeInterval: 300 * time.Millisecond}
		c.Apps[0].Callback.Retry.MaxAttempts = 3
	})
	ts.importAccounts("a", "b")
	for i := range 4 {
		ts.createRoom(fmt.Sprintf("r%d", i), "a")
	}
	testkit.Eventually(t, "the breaker open", 10*time.Second, func() (bool, string) {
		s := getAppState(t, ts)
		return s.Breaker != "closed" && s.Opened == 1, fmt.Sprintf("%+v", s)
	})
	for i := range 4 { // more events pile up while paused
		mustOK(t, ts.call("live_engine_http_srv/change_room_owner", fmt.Sprintf(`{"RoomId":"r%d","NewOwner_Account":"b"}`, i)))
	}
	// Probes go on, one at a time; no event dies although max_attempts is 3.
	testkit.Eventually(t, "probes", 10*time.Second, func() (bool, string) {
		s := getAppState(t, ts)
		return s.ProbesFailed >= 4, fmt.Sprintf("%+v", s)
	})
	env := mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"dead"}`))
	if strings.Contains(string(env.Response), "EventId") {
		t.Errorf("events died while the app was paused: %s", env.Response)
	}
	m := metricsText(t, ts)
	for _, want := range []string{
		fmt.Sprintf(`roomd_callback_breaker_open{app="%d"} 1`, testApp),
		fmt.Sprintf(`roomd_callback_breaker_opened_total{app="%d"} 1`, testApp),
		fmt.Sprintf(`roomd_callback_breaker_probes_total{app="%d",outcome="failed"}`, testApp),
		fmt.Sprintf(`roomd_callback_paused_rooms{app="%d"}`, testApp),
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	rc.SetMode(testkit.ModeOK)
	waitState(t, ts, "delivered", 8)
	s := getAppState(t, ts)
	if s.Breaker != "closed" || s.PausedRooms != 0 || s.Events != 0 {
		t.Errorf("after recovery: %+v", s)
	}
	if m := metricsText(t, ts); !strings.Contains(m, fmt.Sprintf(`roomd_callback_breaker_open{app="%d"} 0`, testApp)) ||
		!strings.Contains(m, fmt.Sprintf(`roomd_callback_breaker_probes_total{app="%d",outcome="ok"} 1`, testApp)) {
		t.Errorf("metrics after recovery:\n%s", grepLines(m, "roomd_callback_breaker"))
	}
	// Each room got its create before its owner change.
	byRoom := map[string][]string{}
	for _, c := range rc.Delivered() {
		var b struct {
			RoomId   string
			RoomInfo struct{ RoomId string }
		}
		json.Unmarshal(c.Body, &b)
		room := b.RoomId + b.RoomInfo.RoomId // the create's is in RoomInfo
		byRoom[room] = append(byRoom[room], c.Command)
	}
	for i := range 4 {
		if got := byRoom[fmt.Sprintf("r%d", i)]; len(got) != 2 || got[0] != cmdCreate || got[1] != cmdOwner {
			t.Errorf("room r%d delivered %v", i, got)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A head that the backend keeps refusing is dead once max_room_hold is reached, the room
// moves on to its next callback, and the dead one can be redriven later: it arrives after
// the room's newer callback, with its own webhook-id.
func TestDeadEventRedrivenAfterRoomMovedOn(t *testing.T) {
	rc := newReceiver(t)
	var refuse atomic.Bool
	refuse.Store(true)
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, c callbackRequest) {
		if c.Command == cmdCreate && refuse.Load() {
			http.Error(w, "cannot handle this one", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, testkit.OKReply)
	})
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdCreate, cmdOwner), func(c *config.Config) {
		c.Apps[0].Callback.Retry.MaxAttempts = 1000
		c.Apps[0].Callback.MaxRoomHold = 500 * time.Millisecond
	})
	ts.importAccounts("a", "b")
	ts.createRoom("r", "a")
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r","NewOwner_Account":"b"}`))
	waitState(t, ts, "dead", 1)
	waitState(t, ts, "delivered", 1) // the room moved on

	var list struct {
		Events []struct {
			EventId   int64
			WebhookId string
			LastError string
		}
	}
	json.Unmarshal(mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"dead"}`)).Response, &list)
	if len(list.Events) != 1 || !strings.HasPrefix(list.Events[0].LastError, "max_room_hold 500ms reached after ") ||
		!strings.HasSuffix(list.Events[0].LastError, "HTTP status 500") {
		t.Fatalf("dead event: %+v", list.Events)
	}
	if s := getAppState(t, ts); s.HoldExpired != 1 || s.Breaker != "closed" {
		t.Errorf("app state: %+v", s)
	}

	refuse.Store(false)
	env := mustOK(t, ts.call("roomd_delivery/redrive", `{"State":"dead"}`))
	if string(env.Response) != `{"Requeued":1}` {
		t.Fatalf("redrive: %s", env.Response)
	}
	waitState(t, ts, "delivered", 2)
	var order []string
	for _, c := range rc.Delivered() {
		order = append(order, c.Command)
		if c.Command == cmdCreate && c.ID != list.Events[0].WebhookId {
			t.Errorf("redriven webhook-id %q, want %q", c.ID, list.Events[0].WebhookId)
		}
	}
	if len(order) != 2 || order[0] != cmdOwner || order[1] != cmdCreate {
		t.Errorf("delivered in order %v, want the owner change, then the redriven create", order)
	}
}

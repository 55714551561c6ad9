package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
)

// The delivery log: every callback and attempt can be inspected, and resent or redriven.
func TestDeliveryLogInspectResendRedrive(t *testing.T) {
	rc := newReceiver(t)
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, r callbackRequest) {
		http.Error(w, "down", http.StatusInternalServerError)
	})
	ts := startServer(t, app.Options{}, func(c *config.Config) {
		withCallback(rc.URL(), cmdCreate, cmdOwner)(c)
		c.Apps[0].Callback.Retry.MaxAttempts = 2
	})
	ts.importAccounts("a", "b")
	ts.createRoom("r", "a")
	// Both attempts fail: the event goes dead.
	waitState(t, ts, "dead", 1)

	var list struct {
		Events []struct {
			EventId         int64
			WebhookId       string
			RoomId          string
			CallbackCommand string
			State           string
			Attempts        int
		}
	}
	env := mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"dead"}`))
	json.Unmarshal(env.Response, &list)
	if len(list.Events) != 1 || list.Events[0].CallbackCommand != cmdCreate || list.Events[0].Attempts != 2 || list.Events[0].RoomId != "r" {
		t.Fatalf("dead events: %s", env.Response)
	}
	id := list.Events[0].EventId

	var detail struct {
		Event struct {
			Body json.RawMessage
		}
		Attempts []struct {
			Attempt    int
			StatusCode int
			Error      string
		}
	}
	env = mustOK(t, ts.call("roomd_delivery/get_event", fmt.Sprintf(`{"EventId":%d}`, id)))
	json.Unmarshal(env.Response, &detail)
	if len(detail.Attempts) != 2 || detail.Attempts[0].StatusCode != 500 || detail.Attempts[1].Attempt != 2 {
		t.Errorf("attempts: %s", env.Response)
	}
	var body map[string]any
	if json.Unmarshal(detail.Event.Body, &body) != nil || body["CallbackCommand"] != cmdCreate {
		t.Errorf("body: %s", detail.Event.Body)
	}

	// Unknown and foreign ids are refused; an undelivered event cannot be resent.
	mustFail(t, ts.call("roomd_delivery/get_event", `{"EventId":99999}`), 100002)
	mustFail(t, ts.call("roomd_delivery/resend_event", `{"EventId":99999}`), 100002)

	// The App backend recovers; a redrive of dead events delivers the callback with the same
	// webhook-id it had.
	rc.Respond(nil)
	env = mustOK(t, ts.call("roomd_delivery/redrive", `{"State":"dead"}`))
	if string(env.Response) != `{"Requeued":1}` {
		t.Errorf("redrive: %s", env.Response)
	}
	got := rc.WaitFor(t, "the redriven callback", 10*time.Second, func(g []callbackRequest) bool { return len(g) >= 3 })
	if got[2].Header.Get("webhook-id") != list.Events[0].WebhookId || got[0].Header.Get("webhook-id") != list.Events[0].WebhookId {
		t.Errorf("webhook-id changed on redrive: %q then %q", got[0].Header.Get("webhook-id"), got[2].Header.Get("webhook-id"))
	}
	waitState(t, ts, "delivered", 1)

	// A delivered event can be resent once more.
	mustOK(t, ts.call("roomd_delivery/resend_event", fmt.Sprintf(`{"EventId":%d}`, id)))
	rc.WaitFor(t, "the resent callback", 10*time.Second, func(g []callbackRequest) bool { return len(g) >= 4 })
	mustFail(t, ts.call("roomd_delivery/list_events", `{"State":"bogus"}`), 100002)
}

// waitState polls the delivery log until n events are in state.
func waitState(t *testing.T, ts *testServer, state string, n int) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%d %s events", n, state), 15*time.Second, func() (bool, string) {
		var list struct{ Events []json.RawMessage }
		env := mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"`+state+`"}`))
		json.Unmarshal(env.Response, &list)
		return len(list.Events) >= n, string(env.Response)
	})
}

// TestMetricsEndpoint reads the metrics after one delivered callback. The attempt counter
// is updated just after the attempt is recorded, so the metrics are polled until they
// show it.
func TestMetricsEndpoint(t *testing.T) {
	rc := newReceiver(t)
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdCreate))
	ts.importAccounts("a")
	ts.createRoom("r", "a")
	waitState(t, ts, "delivered", 1)
	want := []string{
		`roomd_callback_attempts_total{command="Live.CallbackAfterCreateRoom",outcome="delivered"} 1`,
		`roomd_callback_events{state="delivered"} 1`,
		`roomd_rest_requests_total{api="live_engine_http_srv/create_room",code="0"} 1`,
		`roomd_callback_oldest_undelivered_age_seconds 0`,
	}
	testkit.Eventually(t, "the metrics of one delivered callback", 10*time.Second, func() (bool, string) {
		resp, err := http.Get(ts.Base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				return false, "metrics lack " + w
			}
		}
		return true, ""
	})
}

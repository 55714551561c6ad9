package app_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
	"github.com/roomd/roomd/internal/webhook"
)

// The APIs behind the console: get_event's exact request, list_events' command and time
// filters, stats, get_settings, test_callback and get_recent_msgs.

var (
	portRe     = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	instanceRe = regexp.MustCompile(`msg_[0-9a-f]+_`)
	sigHdrRe   = regexp.MustCompile(`v1,[A-Za-z0-9+/=]+`)
	durationRe = regexp.MustCompile(`"DurationMs":[0-9]+`)
)

func withTokenAndSecret(c *config.Config) {
	c.Apps[0].Callback.Token = "console-token"
	c.Apps[0].Callback.TokenEnabled = true
	c.Apps[0].Callback.SigningSecret = "console-signing-secret"
}

// get_event answers the request of the newest attempt exactly as it went on the wire:
// the URL with Sign and RequestTime, and the headers with webhook-signature. The golden
// file pins the reply's shape (the port, the instance id, the signature and the duration
// are normalized; the signature is checked against what the receiver got).
func TestGetEventShowsTheRequestAsSent(t *testing.T) {
	e := startConformance(t, "delivery", clockStart, []string{cmdCreate, cmdOwner}, withTokenAndSecret)
	e.importAccounts("a", "b")
	e.createRoom("r", "a")
	mustOK(t, e.call(svc+"change_room_owner", `{"RoomId":"r","NewOwner_Account":"b"}`))
	got := e.rc.WaitN(t, 2, 10*time.Second)
	waitState(t, e.testServer, "delivered", 2)

	env := mustOK(t, e.call("roomd_delivery/get_event", `{"EventId":2}`))
	var r struct {
		Event   struct{ WebhookId string }
		Request struct {
			URL     string
			Headers map[string]string
		}
		Attempts []struct{ RequestURL string }
	}
	if err := json.Unmarshal(env.Response, &r); err != nil {
		t.Fatal(err)
	}
	sent := got[1]
	if r.Request.URL != e.rc.URL()+"/cb?"+sent.Query.Encode() && !strings.HasSuffix(r.Request.URL, "Sign="+sent.Query.Get("Sign")+"&RequestTime="+sent.Query.Get("RequestTime")) {
		t.Errorf("request URL %q, the receiver got query %q", r.Request.URL, sent.Query.Encode())
	}
	if r.Request.Headers["Webhook-Signature"] != sent.Header.Get("webhook-signature") || r.Request.Headers["Webhook-Id"] != sent.ID || r.Event.WebhookId != sent.ID {
		t.Errorf("headers shown %v, sent %v", r.Request.Headers, sent.Header)
	}
	if len(r.Attempts) != 1 || r.Attempts[0].RequestURL != r.Request.URL {
		t.Errorf("attempts: %s", env.Response)
	}
	norm := normalizeReply(env.Raw)
	norm = portRe.ReplaceAll(norm, []byte("127.0.0.1:PORT"))
	norm = instanceRe.ReplaceAll(norm, []byte("msg_INSTANCE_"))
	norm = sigHdrRe.ReplaceAll(norm, []byte("v1,SIGNATURE"))
	norm = durationRe.ReplaceAll(norm, []byte(`"DurationMs":0`))
	e.golden(t, "get_event_request", norm)
}

// list_events filters by command and by a time window.
func TestListEventsByCommandAndTime(t *testing.T) {
	e := startConformance(t, "delivery", clockStart, []string{cmdCreate, cmdOwner})
	e.importAccounts("a", "b")
	e.createRoom("r", "a")
	e.clk.Advance(10 * time.Second)
	mustOK(t, e.call(svc+"change_room_owner", `{"RoomId":"r","NewOwner_Account":"b"}`))
	waitState(t, e.testServer, "delivered", 2)
	ids := func(body string) string {
		var l struct{ Events []struct{ EventId int64 } }
		json.Unmarshal(mustOK(t, e.call("roomd_delivery/list_events", body)).Response, &l)
		var s []string
		for _, ev := range l.Events {
			s = append(s, fmt.Sprint(ev.EventId))
		}
		return strings.Join(s, ",")
	}
	for body, want := range map[string]string{
		`{"CallbackCommand":"` + cmdOwner + `"}`:                           "2",
		`{"CallbackCommand":"` + cmdCreate + `"}`:                          "1",
		fmt.Sprintf(`{"Until":%d}`, startUnix+5):                           "1",
		fmt.Sprintf(`{"Since":%d}`, startUnix+5):                           "2",
		fmt.Sprintf(`{"Since":%d,"Until":%d}`, startUnix+11, startUnix+20): "",
	} {
		if got := ids(body); got != want {
			t.Errorf("list_events %s: events %q, want %q", body, got, want)
		}
	}
}

// stats counts the app's events per state, the queue and the attempts per bucket.
func TestDeliveryStats(t *testing.T) {
	e := startConformance(t, "delivery", clockStart, []string{cmdCreate})
	e.importAccounts("a")
	e.createRoom("r1", "a")
	e.createRoom("r2", "a")
	waitState(t, e.testServer, "delivered", 2)
	var s struct {
		Delivered, QueueDepth, BucketSeconds int64
		OldestPendingTime                    int64
		Buckets                              []struct{ Time, Delivered, Failed int64 }
	}
	json.Unmarshal(mustOK(t, e.call("roomd_delivery/stats", `{"BucketSeconds":60}`)).Response, &s)
	if s.Delivered != 2 || s.QueueDepth != 0 || s.OldestPendingTime != 0 || s.BucketSeconds != 60 ||
		len(s.Buckets) != 1 || s.Buckets[0].Delivered != 2 || s.Buckets[0].Failed != 0 || s.Buckets[0].Time != startUnix*1000 {
		t.Errorf("stats: %+v", s)
	}
	mustFail(t, e.call("roomd_delivery/stats", `{"BucketSeconds":1,"Since":1}`), 100002)
}

// get_settings shows the configuration in force, never the signing secret, and the command
// catalogue grouped as Tencent's console groups it.
func TestDeliverySettings(t *testing.T) {
	e := startConformance(t, "delivery", clockStart, []string{cmdOwner}, withTokenAndSecret)
	env := mustOK(t, e.call("roomd_delivery/get_settings", `{}`))
	if strings.Contains(string(env.Raw), "console-signing-secret") {
		t.Fatalf("the signing secret is in the reply: %s", env.Raw)
	}
	var s struct {
		Url                     string
		CallbackCommandList     []string
		Token                   string
		IsTokenEnable           bool
		SigningSecretConfigured bool
		MaxRoomHoldMs           int64
		BreakerFailures         int
		BreakerProbeIntervalMs  int64
		MaxPerSecond            float64
		Commands                []struct{ Command, Group, Kind string }
	}
	json.Unmarshal(env.Response, &s)
	if s.Url != e.rc.URL()+"/cb" || len(s.CallbackCommandList) != 1 || s.Token != "console-token" || !s.IsTokenEnable || !s.SigningSecretConfigured {
		t.Errorf("settings: %s", env.Response)
	}
	// The delivery guards in force: the defaults here (no rate limit).
	if s.MaxRoomHoldMs != webhook.DefaultMaxRoomHold.Milliseconds() || s.BreakerFailures != webhook.DefaultBreakerFailures ||
		s.BreakerProbeIntervalMs != webhook.DefaultProbeInterval.Milliseconds() || s.MaxPerSecond != 0 {
		t.Errorf("delivery guards: %s", env.Response)
	}
	if len(s.Commands) != len(webhook.Commands) {
		t.Fatalf("catalogue: %d commands, want %d", len(s.Commands), len(webhook.Commands))
	}
	for _, c := range s.Commands {
		if c.Group == "" || (c.Kind != "After" && c.Kind != "Before" && c.Kind != "Switch") {
			t.Errorf("command %+v has no group or kind", c)
		}
	}
}

// test_callback sends a sample owner change now, even switched off, answers the App
// backend's reply and keeps it in the delivery log.
func TestTestCallback(t *testing.T) {
	e := startConformance(t, "delivery", clockStart, []string{cmdCreate})
	env := mustOK(t, e.call("roomd_delivery/test_callback", `{}`))
	var r struct {
		EventId    int64
		WebhookId  string
		State      string
		StatusCode int
		Response   string
		Request    struct{ URL string }
	}
	json.Unmarshal(env.Response, &r)
	got := e.rc.WaitN(t, 1, 5*time.Second)
	if r.State != "delivered" || r.StatusCode != 200 || r.Response != testkit.OKReply || got[0].Command != cmdOwner || got[0].ID != r.WebhookId ||
		!strings.HasPrefix(r.WebhookId, "msg_") || !strings.Contains(r.Request.URL, "CallbackCommand="+cmdOwner) {
		t.Errorf("test callback: %s; received %s %s", env.Response, got[0].ID, got[0].Body)
	}
	var ev struct {
		Event struct {
			WebhookId, State string
		}
	}
	json.Unmarshal(mustOK(t, e.call("roomd_delivery/get_event", fmt.Sprintf(`{"EventId":%d}`, r.EventId))).Response, &ev)
	if ev.Event.WebhookId != r.WebhookId || ev.Event.State != "delivered" {
		t.Errorf("the test callback in the log: %+v", ev)
	}
	// A failing App backend: the reply is shown, the record is dead.
	e.rc.SetMode(testkit.ModeFail)
	json.Unmarshal(mustOK(t, e.call("roomd_delivery/test_callback", `{"CallbackCommand":"`+cmdCreate+`","RoomId":"x"}`)).Response, &r)
	if r.State != "dead" || r.StatusCode != 503 {
		t.Errorf("failed test callback: %+v", r)
	}
	mustFail(t, e.call("roomd_delivery/test_callback", `{"CallbackCommand":"Live.CallbackBeforeCallBackNotBlock"}`), 100002)
	mustFail(t, e.call("roomd_delivery/test_callback", `{"CallbackCommand":"Live.Nope"}`), 100002)
}

// get_recent_msgs answers the newest messages of a room, oldest first.
func TestRecentMessages(t *testing.T) {
	e := startConformance(t, "delivery", clockStart, []string{cmdCreate})
	e.importAccounts("a")
	e.createRoom("r", "a")
	for i := range 3 {
		mustOK(t, e.call(svc+"send_text_msg", fmt.Sprintf(`{"RoomId":"r","Sender_Account":"a","TextContent":"m%d"}`, i)))
	}
	var r struct {
		MsgList []struct {
			MsgSeq       int64
			From_Account string
		}
	}
	json.Unmarshal(mustOK(t, e.call("roomd_room/get_recent_msgs", `{"RoomId":"r","Limit":2}`)).Response, &r)
	if len(r.MsgList) != 2 || r.MsgList[0].MsgSeq != 2 || r.MsgList[1].MsgSeq != 3 || r.MsgList[0].From_Account != "a" {
		t.Errorf("recent messages: %+v", r)
	}
	mustFail(t, e.call("roomd_room/get_recent_msgs", `{"RoomId":"nope"}`), 100004)
}

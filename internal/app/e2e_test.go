package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

const (
	cmdCreate  = "Live.CallbackAfterCreateRoom"
	cmdDestroy = "Live.CallbackAfterDestroyRoom"
	cmdOwner   = "Live.CallbackAfterChangeOwner"
)

func ownerChanges(got []callbackRequest) []callbackRequest {
	var out []callbackRequest
	for _, r := range got {
		if r.Command == cmdOwner {
			out = append(out, r)
		}
	}
	return out
}

type ownerBody struct {
	CallbackCommand       string
	RoomId                string
	EventTime             int64
	Operator_Account      string
	CurrentOwner_Account  string
	OriginalOwner_Account string
}

func TestOwnerChangeReachesAppBackend(t *testing.T) {
	rc := newReceiver(t)
	ts := startServer(t, app.Options{}, withCallback(rc.URL()+"/callback", cmdCreate, cmdOwner, cmdDestroy))
	ts.importAccounts("user1", "user2")
	ts.createRoom("room_id", "user1")
	before := time.Now().UnixMilli()
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"room_id","NewOwner_Account":"user2"}`))
	after := time.Now().UnixMilli()

	got := rc.WaitFor(t, "the owner-change callback", 10*time.Second, func(g []callbackRequest) bool { return len(ownerChanges(g)) == 1 })
	cb := ownerChanges(got)[0]
	wantQuery := map[string]string{"SdkAppid": "1400000001", "CallbackCommand": cmdOwner, "contenttype": "json", "ClientIP": "127.0.0.1", "OptPlatform": "RESTAPI"}
	for k, v := range wantQuery {
		if cb.Query.Get(k) != v {
			t.Errorf("query %s = %q, want %q (query %v)", k, cb.Query.Get(k), v, cb.Query)
		}
	}
	if _, ok := cb.Query["Sign"]; ok {
		t.Errorf("Sign sent without a token: %v", cb.Query)
	}
	if ct := cb.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cb.Header.Get("webhook-id") == "" {
		t.Error("no webhook-id header")
	}
	var body ownerBody
	if err := json.Unmarshal(cb.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.EventTime < before || body.EventTime > after {
		t.Errorf("EventTime %d not within the call [%d, %d] (milliseconds)", body.EventTime, before, after)
	}
	body.EventTime = 0
	want := ownerBody{CallbackCommand: cmdOwner, RoomId: "room_id", Operator_Account: testAdmin, CurrentOwner_Account: "user2", OriginalOwner_Account: "user1"}
	if body != want {
		t.Errorf("body = %+v, want %+v", body, want)
	}
	// The exact key order of the seed document's sample.
	keys := []string{`"CallbackCommand"`, `"RoomId"`, `"EventTime"`, `"Operator_Account"`, `"CurrentOwner_Account"`, `"OriginalOwner_Account"`}
	last := -1
	for _, k := range keys {
		i := strings.Index(string(cb.Body), k)
		if i < last {
			t.Errorf("field %s out of the spec's order in %s", k, cb.Body)
		}
		last = i
	}
	// The room really changed hands.
	env := mustOK(t, ts.call("live_engine_http_srv/get_room_info", `{"RoomId":"room_id"}`))
	if !strings.Contains(string(env.Response), `"Owner_Account":"user2"`) {
		t.Errorf("get_room_info after change: %s", env.Response)
	}
}

func TestCallbackTokenSignsRequests(t *testing.T) {
	rc := newReceiver(t)
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdOwner))
	mustOK(t, ts.call("live_config/set_callback_token", `{"Token":"xxxxyyyy","IsTokenEnable":true}`))
	ts.importAccounts("a", "b")
	ts.createRoom("r", "a")
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r","NewOwner_Account":"b"}`))
	cb := ownerChanges(rc.WaitFor(t, "signed callback", 10*time.Second, func(g []callbackRequest) bool { return len(ownerChanges(g)) == 1 }))[0]
	rt := cb.Query.Get("RequestTime")
	if rt == "" || cb.Query.Get("Sign") == "" {
		t.Fatalf("no Sign/RequestTime: %v", cb.Query)
	}
	var sec int64
	fmt.Sscan(rt, &sec)
	if want := signOf("xxxxyyyy", sec); cb.Query.Get("Sign") != want {
		t.Errorf("Sign = %s, want %s", cb.Query["Sign"], want)
	}
}

func TestCallbackRetriedUntilReceiverRecovers(t *testing.T) {
	rc := newReceiver(t)
	var mu sync.Mutex
	failing := true
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, r callbackRequest) {
		mu.Lock()
		f := failing
		mu.Unlock()
		if f {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`))
	})
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdOwner))
	ts.importAccounts("u0", "u1", "u2", "u3")
	ts.createRoom("r1", "u0")
	for _, u := range []string{"u1", "u2", "u3"} {
		mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r1","NewOwner_Account":"`+u+`"}`))
	}
	// Wait for at least two failed attempts of the head event, then recover.
	rc.WaitFor(t, "failed attempts", 10*time.Second, func(g []callbackRequest) bool { return len(g) >= 2 })
	mu.Lock()
	failing = false
	mu.Unlock()

	// Every event is delivered once recovered; the first delivery of each webhook-id comes
	// in commit order.
	var order []string
	for _, r := range rc.WaitUnique(t, 3, 15*time.Second) {
		var b ownerBody
		json.Unmarshal(r.Body, &b)
		order = append(order, b.CurrentOwner_Account)
	}
	ids := map[string][]string{} // new owner -> webhook-ids of its attempts
	for _, r := range rc.All() {
		var b ownerBody
		json.Unmarshal(r.Body, &b)
		ids[b.CurrentOwner_Account] = append(ids[b.CurrentOwner_Account], r.ID)
	}
	if strings.Join(order, ",") != "u1,u2,u3" {
		t.Errorf("delivery order %v, want u1,u2,u3", order)
	}
	for owner, list := range ids {
		for _, id := range list {
			if id != list[0] {
				t.Errorf("callback for %s changed webhook-id across attempts: %v", owner, list)
			}
		}
	}
	// The delivery log records every attempt of the first event: failures then success.
	evs, err := ts.Srv.Store().EventList(context.Background(), store.EventQuery{App: testApp, RoomID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, ts, 3)
	first := evs[len(evs)-1]
	atts, err := ts.Srv.Store().AttemptList(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) < 2 || atts[0].StatusCode != 500 {
		t.Errorf("attempts of the first event: %+v", atts)
	}
}

// waitDelivered polls the store until n events are delivered.
func waitDelivered(t *testing.T, ts *testServer, n int64) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%d delivered events", n), 20*time.Second, func() (bool, string) {
		st, err := ts.Srv.Store().EventStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return st.Delivered >= n, fmt.Sprintf("%+v", st)
	})
}

func TestPerRoomOrderWithSlowReceiver(t *testing.T) {
	rc := newReceiver(t)
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, r callbackRequest) {
		time.Sleep(3 * time.Millisecond) // a slow App backend
		w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`))
	})
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdOwner))
	var users []string
	for i := range 11 {
		users = append(users, fmt.Sprintf("u%d", i))
	}
	ts.importAccounts(users...)
	const rooms, perRoom = 5, 10
	for r := range rooms {
		ts.createRoom(fmt.Sprintf("room%d", r), "u0")
	}
	var wg sync.WaitGroup
	for r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= perRoom; i++ {
				env := ts.call("live_engine_http_srv/change_room_owner", fmt.Sprintf(`{"RoomId":"room%d","NewOwner_Account":"u%d"}`, r, i))
				if env.ErrorCode != 0 {
					t.Errorf("change %d of room%d: %s", i, r, env.Raw)
				}
			}
		}()
	}
	wg.Wait()
	got := rc.WaitFor(t, "50 owner changes", 20*time.Second, func(g []callbackRequest) bool { return len(ownerChanges(g)) >= rooms*perRoom })
	seq := map[string][]string{}
	for _, r := range ownerChanges(got) {
		var b ownerBody
		json.Unmarshal(r.Body, &b)
		seq[b.RoomId] = append(seq[b.RoomId], b.OriginalOwner_Account+">"+b.CurrentOwner_Account)
	}
	for r := range rooms {
		var want []string
		for i := 1; i <= perRoom; i++ {
			want = append(want, fmt.Sprintf("u%d>u%d", i-1, i))
		}
		room := fmt.Sprintf("room%d", r)
		if strings.Join(seq[room], " ") != strings.Join(want, " ") {
			t.Errorf("%s callbacks %v, want commit order %v", room, seq[room], want)
		}
	}
}

func TestSwitchedOffCommandIsNotSent(t *testing.T) {
	rc := newReceiver(t)
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdCreate))
	ts.importAccounts("a", "b")
	ts.createRoom("r1", "a")
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r1","NewOwner_Account":"b"}`))
	ts.createRoom("r2", "a")
	rc.WaitFor(t, "both create callbacks", 10*time.Second, func(g []callbackRequest) bool { return len(g) >= 2 })
	for _, r := range rc.All() {
		if r.Command != cmdCreate {
			t.Errorf("switched-off command sent: %s", r.Body)
		}
	}
	evs, err := ts.Srv.Store().EventList(context.Background(), store.EventQuery{App: testApp})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Command != cmdCreate {
			t.Errorf("switched-off command stored: %s", e.Command)
		}
	}
	// Switch it on through the REST API: the next change is sent.
	mustOK(t, ts.call("live_config/update_callback", map[string]any{"Url": rc.URL(), "CallbackCommandList": []string{cmdCreate, cmdOwner}}))
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r1","NewOwner_Account":"a"}`))
	rc.WaitFor(t, "owner change after switching on", 10*time.Second, func(g []callbackRequest) bool { return len(ownerChanges(g)) == 1 })
}

func TestRejectedRequestsChangeNothing(t *testing.T) {
	rc := newReceiver(t)
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdCreate, cmdOwner, cmdDestroy))
	ts.importAccounts("a", "b", "plainuser")
	ts.createRoom("r", "a")
	waitDelivered(t, ts, 1)

	wrongKey, _ := usersig.Sign(testApp, "not-the-key", testAdmin, 3600, time.Now())
	expired, _ := usersig.Sign(testApp, testKey, testAdmin, 10, time.Now().Add(-time.Hour))
	otherApp, _ := usersig.Sign(testApp+1, testKey, testAdmin, 3600, time.Now())
	q := func(app, id, sig string) string {
		return ts.Base + "/v4/live_engine_http_srv/change_room_owner?sdkappid=" + app + "&identifier=" + id + "&usersig=" + sig + "&random=1&contenttype=json"
	}
	good := `{"RoomId":"r","NewOwner_Account":"b"}`
	cases := []struct {
		name string
		url  string
		body string
		code int
	}{
		{"no sdkappid", ts.Base + "/v4/live_engine_http_srv/change_room_owner?identifier=admin&usersig=" + ts.sig, good, 60012},
		{"bad sdkappid", q("abc", testAdmin, ts.sig), good, 60006},
		{"unknown sdkappid", q("1400009999", testAdmin, ts.sig), good, 70020},
		{"unknown command", ts.Base + "/v4/live_engine_http_srv/no_such_api?sdkappid=1400000001&identifier=admin&usersig=" + ts.sig, good, 60009},
		{"empty usersig", q("1400000001", testAdmin, ""), good, 70002},
		{"garbage usersig", q("1400000001", testAdmin, "garbage"), good, 70003},
		{"usersig of another app", q("1400000001", testAdmin, otherApp), good, 70014},
		{"usersig of another user", q("1400000001", "admin2", ts.sig), good, 70013},
		{"expired usersig", q("1400000001", testAdmin, expired), good, 70001},
		{"wrong key", q("1400000001", testAdmin, wrongKey), good, 70009},
		{"not an admin", q("1400000001", "plainuser", ts.userSig("plainuser")), good, 60010},
		{"bad JSON", q("1400000001", testAdmin, ts.sig), `{"RoomId":"r",`, 60003},
		{"not an object", q("1400000001", testAdmin, ts.sig), `["r"]`, 60003},
		{"empty body", q("1400000001", testAdmin, ts.sig), ``, 60003},
		{"account not a string", q("1400000001", testAdmin, ts.sig), `{"RoomId":"r","NewOwner_Account":7}`, 60015},
		{"RoomId not a string", q("1400000001", testAdmin, ts.sig), `{"RoomId":7,"NewOwner_Account":"b"}`, 100002},
		{"missing RoomId", q("1400000001", testAdmin, ts.sig), `{"NewOwner_Account":"b"}`, 100002},
		{"missing new owner", q("1400000001", testAdmin, ts.sig), `{"RoomId":"r"}`, 100002},
		{"RoomId too long", q("1400000001", testAdmin, ts.sig), `{"RoomId":"` + strings.Repeat("x", 49) + `","NewOwner_Account":"b"}`, 100002},
		{"unknown room", q("1400000001", testAdmin, ts.sig), `{"RoomId":"nope","NewOwner_Account":"b"}`, 100004},
		{"new owner not imported", q("1400000001", testAdmin, ts.sig), `{"RoomId":"r","NewOwner_Account":"ghost"}`, 70107},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustFail(t, ts.post(c.url, c.body), c.code)
		})
	}
	// A GET is refused with the envelope, too.
	resp, err := http.Get(q("1400000001", testAdmin, ts.sig))
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if resp.StatusCode != 200 || env.ErrorCode != 60002 {
		t.Errorf("GET: HTTP %d code %d", resp.StatusCode, env.ErrorCode)
	}

	// Nothing changed: the owner is still a, and no event beyond the creation exists.
	env = mustOK(t, ts.call("live_engine_http_srv/get_room_info", `{"RoomId":"r"}`))
	if !strings.Contains(string(env.Response), `"Owner_Account":"a"`) {
		t.Errorf("owner changed by a rejected request: %s", env.Response)
	}
	evs, err := ts.Srv.Store().EventList(context.Background(), store.EventQuery{App: testApp})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Command != cmdCreate {
		t.Errorf("events after rejected requests: %+v", evs)
	}
}

func TestUndeliveredCallbacksSurviveRestart(t *testing.T) {
	rc := newReceiver(t)
	rc.Respond(func(w http.ResponseWriter, _ *http.Request, r callbackRequest) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	ts := startServer(t, app.Options{}, withCallback(rc.URL(), cmdOwner))
	ts.importAccounts("a", "b")
	ts.createRoom("r", "a")
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r","NewOwner_Account":"b"}`))
	mustOK(t, ts.call("live_engine_http_srv/change_room_owner", `{"RoomId":"r","NewOwner_Account":"a"}`))
	rc.WaitFor(t, "a failed attempt", 10*time.Second, func(g []callbackRequest) bool { return len(g) >= 1 })
	ts.Close()

	rc.Respond(nil)
	n := len(rc.All())
	startServerIn(t, ts.Dir, app.Options{}, withCallback(rc.URL(), cmdOwner))
	got := rc.WaitFor(t, "both callbacks after restart", 10*time.Second, func(g []callbackRequest) bool {
		ok := 0
		for _, r := range g[n:] {
			if r.Command == cmdOwner {
				ok++
			}
		}
		return ok >= 2
	})
	var order []string
	for _, r := range got[n:] {
		var b ownerBody
		json.Unmarshal(r.Body, &b)
		order = append(order, b.CurrentOwner_Account)
	}
	if strings.Join(order[:2], ",") != "b,a" {
		t.Errorf("order after restart %v", order)
	}
}

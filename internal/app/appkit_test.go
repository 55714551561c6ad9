package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/appkit"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
)

// The receiver kit (package appkit) as the App backend of a running roomd: every callback
// the server sends today parses into its struct and verifies; a forged, replayed or stale
// copy of a real callback is refused; secret rotation and token changes work end to end;
// Before-callback replies written by the kit decide the operation.

const (
	kitToken     = "kit-callback-token"
	kitSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	kitOldSecret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

// kitBackend is an App backend built with appkit.Handler behind a real HTTP server. It
// records every request that reached it (raw, for replays) and every event handled.
type kitBackend struct {
	t       *testing.T
	srv     *httptest.Server
	handler *appkit.Handler

	mu       sync.Mutex
	raw      []capturedRequest
	statuses []int
	events   []*appkit.Request
	changed  chan struct{}
}

// capturedRequest is a request as it arrived, to be sent again.
type capturedRequest struct {
	Query  string
	Header http.Header
	Body   []byte
}

func (c capturedRequest) request() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/cb?"+c.Query, bytes.NewReader(c.Body))
	r.Header = c.Header.Clone()
	return r
}

// newKitBackend starts a backend whose handler h is completed with recording functions for
// every After-callback (OnOther records the rest).
func newKitBackend(t *testing.T, h *appkit.Handler) *kitBackend {
	b := &kitBackend{t: t, handler: h, changed: make(chan struct{})}
	rec := func(ctx context.Context) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.events = append(b.events, appkit.RequestFrom(ctx))
		close(b.changed)
		b.changed = make(chan struct{})
		return nil
	}
	h.OnOther = func(ctx context.Context, _ *appkit.Request) error { return rec(ctx) }
	if h.OnBeforeSendMsg == nil {
		h.OnBeforeSendMsg = func(ctx context.Context, _ *appkit.BeforeSendMsg) (appkit.Reply, error) {
			return appkit.Allow(), rec(ctx)
		}
	} else {
		inner := h.OnBeforeSendMsg
		h.OnBeforeSendMsg = func(ctx context.Context, m *appkit.BeforeSendMsg) (appkit.Reply, error) {
			rec(ctx)
			return inner(ctx, m)
		}
	}
	if h.OnBeforeSendGift == nil {
		h.OnBeforeSendGift = func(ctx context.Context, _ *appkit.BeforeSendGift) (appkit.Reply, error) {
			return appkit.Allow(), rec(ctx)
		}
	} else {
		inner := h.OnBeforeSendGift
		h.OnBeforeSendGift = func(ctx context.Context, g *appkit.BeforeSendGift) (appkit.Reply, error) {
			rec(ctx)
			return inner(ctx, g)
		}
	}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		b.mu.Lock()
		b.raw = append(b.raw, capturedRequest{Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		b.statuses = append(b.statuses, rw.status)
		close(b.changed)
		b.changed = make(chan struct{})
		b.mu.Unlock()
	}))
	t.Cleanup(b.srv.Close)
	return b
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

// waitEvents waits until cond holds for the handled events.
func (b *kitBackend) waitEvents(what string, cond func([]*appkit.Request) bool) []*appkit.Request {
	b.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		evs, ch := append([]*appkit.Request(nil), b.events...), b.changed
		b.mu.Unlock()
		if cond(evs) {
			return evs
		}
		select {
		case <-ch:
		case <-deadline:
			var cmds []string
			for _, e := range evs {
				cmds = append(cmds, e.Command)
			}
			b.t.Fatalf("timed out waiting for %s; handled: %v", what, cmds)
		}
	}
}

// waitStatus waits until a request was answered with status and returns it.
func (b *kitBackend) waitStatus(status int) capturedRequest {
	b.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		ch := b.changed
		for i, s := range b.statuses {
			if s == status {
				c := b.raw[i]
				b.mu.Unlock()
				return c
			}
		}
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			b.t.Fatalf("timed out waiting for a request answered %d", status)
		}
	}
}

func hasCommands(cmds ...string) func([]*appkit.Request) bool {
	return func(evs []*appkit.Request) bool {
		seen := map[string]bool{}
		for _, e := range evs {
			seen[e.Command] = true
		}
		for _, c := range cmds {
			if !seen[c] {
				return false
			}
		}
		return true
	}
}

// withKitCallback points the test app's callbacks at url, with a token and signing secrets.
func withKitCallback(url string, cmds []string, f func(*config.Callback)) serverOption {
	return func(c *config.Config) {
		withCallback(url, cmds...)(c)
		cb := c.Apps[0].Callback
		cb.Token, cb.TokenEnabled, cb.SigningSecret = kitToken, true, kitSecret
		if f != nil {
			f(cb)
		}
	}
}

func kitVerifier() *appkit.Verifier {
	return &appkit.Verifier{SDKAppID: testApp, Tokens: []string{kitToken}, SigningSecrets: []string{kitSecret}}
}

// sentToday are the commands roomd sends (every one it has a body for), with the REST and
// client calls of TestKitReceivesEveryCallback causing each.
var sentToday = []string{
	appkit.CmdAfterCreateRoom, appkit.CmdAfterCreateRoomReachingThreshold, appkit.CmdAfterUpdateRoomInfo,
	appkit.CmdAfterSetMetadata, appkit.CmdAfterDelMetadata, appkit.CmdAfterModifyAdmin, appkit.CmdAfterChangeOwner,
	appkit.CmdAfterMemberStateChanged, appkit.CmdBeforeSendMsg, appkit.CmdAfterSendMsg, appkit.CmdBeforeSendGift,
	appkit.CmdAfterDestroyRoom, appkit.CmdAfterSeatInfoChanged, appkit.CmdAfterFollowAdd, appkit.CmdAfterFollowDelete,
	appkit.CmdAfterCreateBattle, appkit.CmdAfterStartBattle, appkit.CmdAfterEndBattle, appkit.CmdAfterCloudRecordingChanged,
}

func TestKitReceivesEveryCallback(t *testing.T) {
	b := newKitBackend(t, &appkit.Handler{Verifier: kitVerifier(), Dedup: appkit.NewMemoryDeduper(time.Hour)})
	ts := startServer(t, app.Options{}, withKitCallback(b.srv.URL+"/cb", sentToday, nil), withRoomQuota(4))
	ts.importAccounts("owner", "bob", "u1")
	ts.createRoom("r1", "owner")
	ts.createRoom("r2", "bob")
	mustOK(t, ts.call(svc+"create_room", `{"RoomInfo":{"RoomId":"s1","RoomType":"Live","Owner_Account":"owner","SeatTemplate":"AudioSalon","MaxSeatCount":4}}`)) // reaches the quota's 70% alert
	mustOK(t, ts.call("room_engine_http_mic/lock_seat", `{"RoomId":"s1","Index":3,"ForbidTaken":true,"ForbidAudio":true}`))
	mustOK(t, ts.call("follow/follow_add", `{"From_Account":"u1","FollowItem":[{"To_Account":"bob"}]}`))
	mustOK(t, ts.call("follow/follow_delete", `{"From_Account":"u1","To_Account":["bob"]}`))
	mustOK(t, ts.call(svc+"update_room_info", `{"RoomInfo":{"RoomId":"r1","RoomName":"kit"}}`))
	mustOK(t, ts.call(svc+"set_room_metadata", `{"RoomId":"r1","Metadata":[{"Key":"topic","Value":"go"}]}`))
	mustOK(t, ts.call(svc+"del_room_metadata", `{"RoomId":"r1","Keys":["topic"]}`))
	mustOK(t, ts.call(svc+"modify_admin", `{"RoomId":"r1","Admin_Account":["bob"],"OpType":"add"}`))
	mustOK(t, ts.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"bob"}`))
	mustOK(t, ts.call(svc+"send_text_msg", `{"RoomId":"r1","Sender_Account":"u1","TextContent":"hello"}`))
	mustOK(t, ts.call(svc+"add_gift", `{"GiftId":"rose","Coins":10,"DefaultName":"Rose"}`))
	mustOK(t, ts.call(svc+"send_gift", `{"RoomId":"r1","GiftId":"rose","Count":1,"From_Account":"u1","ReceiverList_Account":["bob"]}`))
	env := &clientEnv{testServer: ts, WS: "ws" + strings.TrimPrefix(ts.Base, "http") + "/v1/client"}
	p := env.dial(t, "u1", "Web")
	p.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	b.waitEvents("a member state change", hasCommands(appkit.CmdAfterMemberStateChanged))
	// A battle of 1 ms: created, started at once, ended by the timer loop within a second.
	mustOK(t, ts.call("live_engine_http_pk/create_battle", `{"FromRoomId":"r1","ToRoomIdList":["r2"],"Duration":1,"NeedResponse":false}`))
	mustOK(t, ts.call("roomd_recording/report_status", `{"RoomId":"r1","EventType":301}`))
	b.waitEvents("the end of the battle", hasCommands(appkit.CmdAfterEndBattle))
	mustOK(t, ts.call(svc+"destroy_room", `{"RoomId":"r1"}`))

	evs := b.waitEvents("every command", hasCommands(sentToday...))
	for _, e := range evs {
		if e.Event == nil {
			t.Errorf("%s: no struct", e.Command)
			continue
		}
		// Every field roomd sends has a place in the struct, under the right name: decoding
		// with unknown fields refused works, and encoding the struct gives the body back.
		strict := reflect.New(reflect.TypeOf(e.Event).Elem()).Interface()
		dec := json.NewDecoder(bytes.NewReader(e.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(strict); err != nil {
			t.Errorf("%s: a field has no place in %T: %v", e.Command, e.Event, err)
		}
		again, _ := json.Marshal(e.Event)
		if !sameJSON(t, again, e.Body) {
			t.Errorf("%s: %T loses or renames fields:\n sent     %s\n re-coded %s", e.Command, e.Event, e.Body, again)
		}
		if e.SDKAppID != testApp || e.WebhookID == "" || e.Sign == "" || e.ContentType != "json" {
			t.Errorf("%s: request %+v", e.Command, e)
		}
	}
	co := findEvent[*appkit.ChangeOwner](evs)
	if co == nil || co.RoomID != "r1" || co.CurrentOwner != "bob" || co.OriginalOwner != "owner" || co.Operator != testAdmin {
		t.Errorf("ChangeOwner = %+v", co)
	}
	ms := findEvent[*appkit.MemberStateChanged](evs)
	if ms == nil || ms.EventType != appkit.MemberOnline || ms.EventCause != appkit.CauseEnter || ms.MemberList[0].Member != "u1" {
		t.Errorf("MemberStateChanged = %+v", ms)
	}
	if g := findEvent[*appkit.BeforeSendGift](evs); g == nil || g.GiftWater.GiftID != "rose" || g.GiftWater.To[0] != "bob" {
		t.Errorf("BeforeSendGift = %+v", g)
	}
}

func findEvent[T any](evs []*appkit.Request) T {
	var zero T
	for _, e := range evs {
		if v, ok := e.Event.(T); ok {
			return v
		}
	}
	return zero
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestKitRefusesForgedReplayedStale sends copies of a real callback from roomd to the kit.
func TestKitRefusesForgedReplayedStale(t *testing.T) {
	handled := 0
	var mu sync.Mutex
	h := &appkit.Handler{Verifier: kitVerifier(), Dedup: appkit.NewMemoryDeduper(time.Hour),
		OnChangeOwner: func(context.Context, *appkit.ChangeOwner) error { mu.Lock(); handled++; mu.Unlock(); return nil }}
	b := newKitBackend(t, h)
	ts := startServer(t, app.Options{}, withKitCallback(b.srv.URL+"/cb", []string{appkit.CmdAfterChangeOwner}, nil))
	ts.importAccounts("owner", "bob")
	ts.createRoom("r1", "owner")
	mustOK(t, ts.call(svc+"change_room_owner", `{"RoomId":"r1","NewOwner_Account":"bob"}`))
	real := b.waitStatus(http.StatusOK)

	answer := func(h http.Handler, r *http.Request) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	// Replayed: the same webhook-id is a duplicate, answered OK and not handled again.
	if code, body := answer(h, real.request()); code != 200 || !strings.Contains(body, "duplicate") {
		t.Errorf("replay: %d %s", code, body)
	}
	// Forged: the body changed, the Sign changed, another app, the signature dropped.
	forged := real
	forged.Body = bytes.Replace(real.Body, []byte(`"bob"`), []byte(`"mallory"`), 1)
	badSign := real
	badSign.Query = strings.Replace(real.Query, "Sign=", "Sign=f", 1)
	otherApp := real
	otherApp.Query = strings.Replace(real.Query, "SdkAppid=1400000001", "SdkAppid=1400000002", 1)
	unsigned := real
	unsigned.Header = real.Header.Clone()
	unsigned.Header.Del("webhook-signature")
	for name, c := range map[string]struct {
		req  capturedRequest
		want error
	}{
		"forged body": {forged, appkit.ErrBadSignature},
		"bad Sign":    {badSign, appkit.ErrBadSign},
		"other app":   {otherApp, appkit.ErrWrongApp},
		"unsigned":    {unsigned, appkit.ErrBadSignature},
	} {
		if code, body := answer(h, c.req.request()); code != 401 {
			t.Errorf("%s: %d %s, want 401", name, code, body)
		}
		req, err := appkit.Parse(c.req.request())
		if err != nil {
			t.Fatal(err)
		}
		if err := kitVerifier().Verify(req); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
	// Stale: the same request ten minutes later is outside both windows.
	later := kitVerifier()
	later.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	req, _ := appkit.Parse(real.request())
	if err := later.Verify(req); !errors.Is(err, appkit.ErrStale) {
		t.Errorf("stale: Verify = %v, want ErrStale", err)
	}
	if code, _ := answer(&appkit.Handler{Verifier: later, OnChangeOwner: h.OnChangeOwner}, real.request()); code != 401 {
		t.Errorf("stale: answered %d, want 401", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if handled != 1 {
		t.Errorf("the change of owner was handled %d times, want 1", handled)
	}
}

// TestKitSecretRotation: during the grace period a receiver that knows only the old secret
// and one that knows only the new one both accept roomd's callbacks; after it, only the new.
func TestKitSecretRotation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		until     time.Time
		wantSigs  int
		oldSecret bool // whether a receiver with only the old secret accepts
	}{
		{"grace period", time.Now().Add(time.Hour), 2, true},
		{"after the grace period", time.Now().Add(-time.Hour), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newKitBackend(t, &appkit.Handler{Verifier: kitVerifier()})
			ts := startServer(t, app.Options{}, withKitCallback(b.srv.URL+"/cb", []string{appkit.CmdAfterCreateRoom}, func(cb *config.Callback) {
				cb.PreviousSigningSecret, cb.PreviousSigningSecretUntil = kitOldSecret, tc.until
			}))
			ts.importAccounts("owner")
			ts.createRoom("r1", "owner")
			real := b.waitStatus(http.StatusOK) // the new secret verifies
			if n := len(strings.Fields(real.Header.Get("webhook-signature"))); n != tc.wantSigs {
				t.Fatalf("webhook-signature has %d entries, want %d: %s", n, tc.wantSigs, real.Header.Get("webhook-signature"))
			}
			req, _ := appkit.Parse(real.request())
			old := &appkit.Verifier{SDKAppID: testApp, SigningSecrets: []string{kitOldSecret}}
			if err := old.Verify(req); (err == nil) != tc.oldSecret {
				t.Errorf("receiver with the old secret: Verify = %v", err)
			}
		})
	}
}

// TestKitTokenChangeAppliesToQueuedEvents: an event queued (and refused) under the old token
// is signed with the new one on its next attempt, once set_callback_token changed it.
func TestKitTokenChangeAppliesToQueuedEvents(t *testing.T) {
	const newToken = "kit-new-token"
	v := kitVerifier()
	v.Tokens = []string{newToken} // the App backend already expects the new token
	b := newKitBackend(t, &appkit.Handler{Verifier: v})
	ts := startServer(t, app.Options{}, withKitCallback(b.srv.URL+"/cb", []string{appkit.CmdAfterCreateRoom}, func(cb *config.Callback) {
		cb.Retry.InitialBackoff, cb.Retry.MaxBackoff = 100*time.Millisecond, 100*time.Millisecond
		cb.Retry.MaxAttempts = 100
	}))
	ts.importAccounts("owner")
	ts.createRoom("r1", "owner")
	refused := b.waitStatus(http.StatusUnauthorized) // signed with the old token
	if req, _ := appkit.Parse(refused.request()); req.Sign != appkit.Sign(kitToken, req.RequestTime) {
		t.Fatalf("first attempt not signed with the old token")
	}
	mustOK(t, ts.call("live_config/set_callback_token", `{"Token":"`+newToken+`"}`))
	evs := b.waitEvents("the queued event", hasCommands(appkit.CmdAfterCreateRoom))
	if evs[0].Sign != appkit.Sign(newToken, evs[0].RequestTime) {
		t.Errorf("delivered attempt not signed with the new token")
	}
	if evs[0].WebhookID == "" || evs[0].WebhookID != refused.Header.Get("webhook-id") {
		t.Errorf("webhook-id changed between attempts: %q then %q", refused.Header.Get("webhook-id"), evs[0].WebhookID)
	}
}

// TestKitBeforeReplies: Before-callback replies written by the kit decide room messages and
// gifts.
func TestKitBeforeReplies(t *testing.T) {
	h := &appkit.Handler{Verifier: kitVerifier(),
		OnBeforeSendMsg: func(_ context.Context, m *appkit.BeforeSendMsg) (appkit.Reply, error) {
			switch m.MsgBody[0].Text() {
			case "veto":
				return appkit.Reject("not here"), nil
			case "veto-10150":
				return appkit.RejectWithCode(10150, "you are level 1"), nil
			case "drop":
				return appkit.Drop(), nil
			case "modify":
				return appkit.Modify([]appkit.MsgElement{appkit.TextElem("m*dified"), appkit.CustomElem("LV1", "CustomElement.MemberLevel")}).
					WithCloudCustomData(`{"checked":true}`), nil
			}
			return appkit.Allow(), nil
		},
		OnBeforeSendGift: func(_ context.Context, g *appkit.BeforeSendGift) (appkit.Reply, error) {
			if g.GiftWater.GiftID == "car" {
				return appkit.RejectWithCode(102150, "not enough balance"), nil
			}
			return appkit.Allow(), nil
		},
	}
	var after []*appkit.AfterSendMsg
	var mu sync.Mutex
	h.OnAfterSendMsg = func(_ context.Context, m *appkit.AfterSendMsg) error {
		mu.Lock()
		after = append(after, m)
		mu.Unlock()
		return nil
	}
	b := newKitBackend(t, h)
	ts := startServer(t, app.Options{}, withKitCallback(b.srv.URL+"/cb",
		[]string{appkit.CmdBeforeSendMsg, appkit.CmdAfterSendMsg, appkit.CmdBeforeSendGift}, nil))
	ts.importAccounts("owner", "u1")
	ts.createRoom("r1", "owner")
	send := func(text string) envelope {
		return ts.call(svc+"send_text_msg", `{"RoomId":"r1","Sender_Account":"u1","TextContent":"`+text+`"}`)
	}
	if env := send("veto"); env.ErrorCode != 10016 {
		t.Errorf("veto: %d %s, want 10016", env.ErrorCode, env.ErrorInfo)
	}
	if env := send("veto-10150"); env.ErrorCode != 10150 || env.ErrorInfo != "you are level 1" {
		t.Errorf("pass-through: %d %s", env.ErrorCode, env.ErrorInfo)
	}
	mustOK(t, send("drop"))
	mustOK(t, send("modify"))
	mustOK(t, send("plain"))
	mustOK(t, ts.call(svc+"add_gift", `{"GiftId":"rose","Coins":10,"DefaultName":"Rose"}`))
	mustOK(t, ts.call(svc+"add_gift", `{"GiftId":"car","Coins":1000,"DefaultName":"Car"}`))
	gift := func(id string) envelope {
		return ts.call(svc+"send_gift", `{"RoomId":"r1","GiftId":"`+id+`","Count":1,"From_Account":"u1","ReceiverList_Account":["owner"]}`)
	}
	mustOK(t, gift("rose"))
	if env := gift("car"); env.ErrorCode != 102150 || env.ErrorInfo != "not enough balance" {
		t.Errorf("vetoed gift: %d %s", env.ErrorCode, env.ErrorInfo)
	}

	// Only the modified and the plain message were sent, the first as the kit rewrote it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(after)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(after) != 2 {
		t.Fatalf("%d messages sent, want 2", len(after))
	}
	m := after[0]
	if len(m.MsgBody) != 2 || m.MsgBody[0].Text() != "m*dified" || m.MsgBody[1].MsgType != "TIMCustomElem" || m.CloudCustomData != `{"checked":true}` {
		t.Errorf("modified message sent as %+v", m)
	}
	if after[1].MsgBody[0].Text() != "plain" {
		t.Errorf("second message %+v", after[1])
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/auth/usersig"
)

// End-to-end tests of the client API: real WebSocket connections against a real server and
// a real SQLite file, with the App backend a real HTTP receiver.

// The owner transfers the room through the client: both users are pushed the role change,
// the App backend gets Live.CallbackAfterChangeOwner as from the owner's device, and REST
// sees the new owner.
func TestClientOwnerTransfer(t *testing.T) {
	e := startClientEnv(t)
	alice := e.dial(t, "alice", "iOS")
	bob := e.dial(t, "bob", "Android")

	res := alice.call(t, "createRoom", map[string]any{"roomId": "r1", "roomName": "Alice's"})
	if !strings.Contains(string(res), `"ownerId":"alice"`) {
		t.Errorf("createRoom result %s", res)
	}
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	bob.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"bob"`)

	before := time.Now().UnixMilli()
	alice.call(t, "changeUserRole", map[string]string{"roomId": "r1", "userId": "bob", "role": "roomOwner"})
	after := time.Now().UnixMilli()

	for _, p := range []*peer{alice, bob} {
		p.waitPush(t, "onUserRoleChanged", `"userId":"bob"`, `"userRole":"roomOwner"`)
		p.waitPush(t, "onUserRoleChanged", `"userId":"alice"`, `"userRole":"generalUser"`)
	}

	got := e.rc.WaitFor(t, "the owner-change callback", 15*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdOwner)) == 1 })
	cb := callbacksOf(got, cmdOwner)[0]
	for k, v := range map[string]string{"SdkAppid": fmt.Sprint(testApp), "CallbackCommand": cmdOwner, "ClientIP": "127.0.0.1", "OptPlatform": "iOS"} {
		if cb.Query.Get(k) != v {
			t.Errorf("callback query %s = %q, want %q (%v)", k, cb.Query.Get(k), v, cb.Query)
		}
	}
	var body ownerBody
	if err := json.Unmarshal(cb.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.EventTime < before || body.EventTime > after {
		t.Errorf("EventTime %d not within the call [%d, %d]", body.EventTime, before, after)
	}
	body.EventTime = 0
	want := ownerBody{CallbackCommand: cmdOwner, RoomId: "r1", Operator_Account: "alice", CurrentOwner_Account: "bob", OriginalOwner_Account: "alice"}
	if body != want {
		t.Errorf("callback body %+v, want %+v", body, want)
	}
	// The room was created from the client too, with alice's platform.
	if c := callbacksOf(got, cmdCreate); len(c) != 1 || c[0].Query.Get("OptPlatform") != "iOS" {
		t.Errorf("create-room callbacks %d, OptPlatform %v", len(c), c)
	}
	if o := e.roomOwner(t, "r1"); o != "bob" {
		t.Errorf("get_room_info owner %q, want bob", o)
	}
	// fetchRoomInfo agrees.
	if res := bob.call(t, "fetchRoomInfo", map[string]string{"roomId": "r1"}); !strings.Contains(string(res), `"ownerId":"bob"`) {
		t.Errorf("fetchRoomInfo %s", res)
	}
	// The new owner may not be transferred away from by the old one any more.
	alice.callFail(t, 100006, "changeUserRole", map[string]string{"roomId": "r1", "userId": "alice", "role": "roomOwner"})
}

// A member who is neither owner nor admin gets 100006 for every management operation, and
// nothing changes: not the room, not its members, and no callback is sent.
func TestClientMemberHasNoPermission(t *testing.T) {
	e := startClientEnv(t)
	alice := e.dial(t, "alice", "Web")
	bob := e.dial(t, "bob", "Web")
	carol := e.dial(t, "carol", "Web")
	alice.call(t, "createRoom", map[string]any{"roomId": "r1", "roomName": "before"})
	for _, p := range []*peer{alice, bob, carol} {
		p.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	}
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"carol"`)
	alice.call(t, "setRoomMetadataByAdmin", map[string]any{"roomId": "r1", "metadata": map[string]string{"k": "v0"}})
	baseline := e.rc.WaitFor(t, "the callbacks so far", 15*time.Second, func(g []callbackRequest) bool {
		return len(callbacksOf(g, cmdSetMeta)) == 1 && len(memberStates(g, "r1")) == 3
	})

	bob.callFail(t, 100006, "changeUserRole", map[string]string{"roomId": "r1", "userId": "bob", "role": "roomOwner"})
	bob.callFail(t, 100006, "changeUserRole", map[string]string{"roomId": "r1", "userId": "carol", "role": "administrator"})
	bob.callFail(t, 100006, "kickRemoteUserOutOfRoom", map[string]string{"roomId": "r1", "userId": "carol"})
	bob.callFail(t, 100006, "kickRemoteUserOutOfRoom", map[string]string{"roomId": "r1", "userId": "alice"})
	bob.callFail(t, 100006, "setRoomMetadataByAdmin", map[string]any{"roomId": "r1", "metadata": map[string]string{"k": "bob"}})
	bob.callFail(t, 100006, "deleteRoomMetadataByAdmin", map[string]any{"roomId": "r1", "keys": []string{"k"}})
	bob.callFail(t, 100006, "updateRoomNameByAdmin", map[string]string{"roomId": "r1", "roomName": "bob's"})
	bob.callFail(t, 100006, "destroyRoom", map[string]string{"roomId": "r1"})

	// Nothing changed.
	env := mustOK(t, e.call("live_engine_http_srv/get_room_info", map[string]string{"RoomId": "r1"}))
	info := response[struct {
		RoomInfo struct{ Owner_Account, RoomName string }
	}](t, env)
	if info.RoomInfo.Owner_Account != "alice" || info.RoomInfo.RoomName != "before" {
		t.Errorf("room after the attempts: %+v", info.RoomInfo)
	}
	if m := e.members(t, "r1"); !slices.Equal(m, []string{"alice", "bob", "carol"}) {
		t.Errorf("members after the attempts: %v", m)
	}
	env = mustOK(t, e.call("live_engine_http_srv/get_room_metadata", map[string]any{"RoomId": "r1"}))
	if !strings.Contains(string(env.Response), `"Value":"v0"`) {
		t.Errorf("metadata after the attempts: %s", env.Response)
	}
	env = mustOK(t, e.call("live_engine_http_srv/get_admin_list", map[string]any{"RoomId": "r1"}))
	if strings.Contains(string(env.Response), "carol") {
		t.Errorf("admins after the attempts: %s", env.Response)
	}
	// No callback: the next callback of the room (callbacks of one room arrive in commit
	// order) is the marker alice causes now.
	alice.call(t, "setRoomMetadataByAdmin", map[string]any{"roomId": "r1", "metadata": map[string]string{"k": "marker"}})
	got := e.rc.WaitFor(t, "the marker callback", 15*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdSetMeta)) == 2 })
	extra := got[len(baseline):]
	if len(extra) != 1 || !strings.Contains(string(extra[0].Body), "marker") {
		for _, c := range extra {
			t.Errorf("callback after the refused attempts: %s %s", c.Command, c.Body)
		}
	}
	// Nobody was pushed anything but the marker's metadata change either.
	for _, p := range []*peer{alice, bob, carol} {
		p.waitPush(t, "onRoomMetadataChanged", "marker")
		for _, n := range p.pushes() {
			if n.Method == "onUserRoleChanged" || n.Method == "onKickedOutOfRoom" || n.Method == "onRoomDismissed" ||
				n.Method == "onRoomInfoChanged" || n.Method == "onRemoteUserLeaveRoom" || strings.Contains(string(n.Params), "bob's") {
				t.Errorf("%s was pushed %s %s", p.user, n.Method, n.Params)
			}
		}
	}
}

// A connection is refused before the upgrade, with an HTTP status and a JSON body
// {code,message}, for a bad UserSig, an unknown SDKAppID or a missing userid; client.Dial
// returns that as an *client.Error.
func TestClientAuthRefusedBeforeUpgrade(t *testing.T) {
	e := startClientEnv(t)
	now := time.Now()
	sign := func(app uint64, key, user string, expire int64, at time.Time) string {
		s, err := usersig.Sign(app, key, user, expire, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name         string
		app          uint64
		user, sig    string
		status, code int
	}{
		{"wrong key", testApp, "alice", sign(testApp, "not-the-key-0123456789", "alice", 86400, now), 401, 70009},
		{"expired", testApp, "alice", sign(testApp, testKey, "alice", 60, now.Add(-time.Hour)), 401, 70001},
		{"another user's sig", testApp, "alice", sign(testApp, testKey, "bob", 86400, now), 401, 70013},
		{"malformed sig", testApp, "alice", "not-a-usersig", 401, 70003},
		{"unknown sdkappid", 1400009999, "alice", sign(1400009999, testKey, "alice", 86400, now), 403, 70020},
		{"missing userid", testApp, "", sign(testApp, testKey, "alice", 86400, now), 400, 60004},
		{"missing usersig", testApp, "alice", "", 401, 70002},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := client.Options{SDKAppID: c.app, UserID: c.user, UserSig: c.sig}
			// The bare HTTP answer.
			u, _ := client.URL(e.WS, opts)
			resp, err := http.Get("http" + strings.TrimPrefix(u, "ws"))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %q: %v", raw, err)
			}
			if resp.StatusCode != c.status || body["code"] != float64(c.code) || body["message"] == "" || len(body) != 2 {
				t.Errorf("HTTP %d %s, want %d with code %d", resp.StatusCode, raw, c.status, c.code)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			// A real WebSocket handshake gets the same, through the client package.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := client.Dial(ctx, e.WS, opts)
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded")
			}
			var ce *client.Error
			if !errors.As(err, &ce) || ce.HTTPStatus != c.status || ce.Code != c.code || ce.Message == "" {
				t.Errorf("Dial: %#v (%v), want HTTP %d code %d", err, err, c.status, c.code)
			}
		})
	}
	// None of them became an account or a connection; the right sig still connects.
	env := mustOK(t, e.call("im_open_login_svc/account_check", map[string]any{"CheckItem": []map[string]string{{"UserID": "alice"}}}))
	if !strings.Contains(string(env.Raw), `"AccountStatus":"NotImported"`) {
		t.Errorf("alice after refused logins: %s", env.Raw)
	}
	e.dial(t, "alice", "Web")
}

// A user who was never imported becomes an account on its first login.
func TestClientFirstLoginImportsAccount(t *testing.T) {
	e := startClientEnv(t)
	check := func() string {
		env := mustOK(t, e.call("im_open_login_svc/account_check", map[string]any{"CheckItem": []map[string]string{{"UserID": "newbie"}}}))
		var r struct {
			ResultItem []struct{ UserID, AccountStatus string }
		}
		json.Unmarshal(env.Raw, &r)
		if len(r.ResultItem) != 1 {
			t.Fatalf("account_check: %s", env.Raw)
		}
		return r.ResultItem[0].AccountStatus
	}
	if s := check(); s != "NotImported" {
		t.Fatalf("before login: %s", s)
	}
	p := e.dial(t, "newbie", "Mac")
	if s := check(); s != "Imported" {
		t.Fatalf("after login: %s", s)
	}
	// The account is usable at once: it creates a room through the client, and REST may make
	// it an owner.
	p.call(t, "createRoom", map[string]string{"roomId": "nr"})
	if o := e.roomOwner(t, "nr"); o != "newbie" {
		t.Errorf("owner %q", o)
	}
}

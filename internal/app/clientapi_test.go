package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
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

// fastHeartbeat: pings every second, a second to answer, 30 s to come back.
func fastHeartbeat(c *config.Client) {
	c.HeartbeatInterval = time.Second
	c.HeartbeatTimeout = time.Second
	c.ReconnectGrace = 30 * time.Second
}

// A connection that stops answering pings loses its heartbeat: the App backend is told
// Offline/HeartbeatInterrupt and the other members onRemoteUserLeaveRoom; the user comes
// back within the grace period as Online/HeartbeatRecover, and a clean close is a Leave.
func TestClientHeartbeatLossAndRecovery(t *testing.T) {
	e := startClientEnv(t, withClient(fastHeartbeat))
	alice := e.dial(t, "alice", "Web")
	alice.call(t, "createRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})

	carol := e.dialRaw(t, "carol", 0)
	carol.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"carol"`)
	// carol reads no more: the server's next ping goes unanswered.
	start := time.Now()
	states := e.waitMemberState(t, "r1", "Offline/HeartbeatInterrupt:carol")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("heartbeat loss noticed after %s", d)
	}
	alice.waitPush(t, "onRemoteUserLeaveRoom", `"userId":"carol"`)
	if m := e.members(t, "r1"); !slices.Equal(m, []string{"alice"}) {
		t.Errorf("members after the loss: %v", m)
	}
	// alice, who answers her pings, is still there.
	if alice.Err() != nil {
		t.Fatalf("alice's connection ended: %v", alice.Err())
	}

	carol2 := e.dial(t, "carol", "Web")
	carol2.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	e.waitMemberState(t, "r1", "Online/HeartbeatRecover:carol")
	alice.waitPushes(t, "carol entering twice", func(ns []client.Notification) bool {
		n := 0
		for _, x := range ns {
			if x.Method == "onRemoteUserEnterRoom" && strings.Contains(string(x.Params), `"carol"`) {
				n++
			}
		}
		return n == 2
	})

	carol2.Close()
	states = e.waitMemberState(t, "r1", "Offline/Leave:carol")
	want := []string{"Online/Enter:alice", "Online/Enter:carol", "Offline/HeartbeatInterrupt:carol", "Online/HeartbeatRecover:carol", "Offline/Leave:carol"}
	if !slices.Equal(states, want) {
		t.Errorf("member states %v, want %v", states, want)
	}
	// alice's pushes about carol tell the same story, in the same order.
	var story []string
	for _, n := range alice.waitPushes(t, "carol leaving twice", func(ns []client.Notification) bool {
		k := 0
		for _, x := range ns {
			if x.Method == "onRemoteUserLeaveRoom" {
				k++
			}
		}
		return k == 2
	}) {
		if strings.Contains(string(n.Params), `"carol"`) {
			story = append(story, n.Method)
		}
	}
	if want := []string{"onRemoteUserEnterRoom", "onRemoteUserLeaveRoom", "onRemoteUserEnterRoom", "onRemoteUserLeaveRoom"}; !slices.Equal(story, want) {
		t.Errorf("alice's pushes about carol %v, want %v", story, want)
	}
}

// A connection that does not read is closed once its send queue is full; the other members
// keep receiving every push, in order, and the room is not slowed down.
func TestClientSlowReaderDisconnected(t *testing.T) {
	rc := newReceiver(t)
	// Only the member-state callbacks: a callback for every push would slow the publisher.
	// The queue holds 32 frames: with fewer, a burst of pushes can fill the queue of a
	// healthy reader whose writer goroutine is not scheduled in time on a loaded 2-core
	// machine (the bound counts frames, not bytes waiting in the socket).
	e := startClientEnvIn(t, t.TempDir(), rc, withCallback(rc.URL()+"/cb", cmdMemberState),
		withClient(func(c *config.Client) { c.SendQueue = 32 }))
	e.importAccounts("owner")
	e.createRoom("r1", "owner")
	alice := e.dial(t, "alice", "Web")
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	bob := e.dial(t, "bob", "Web")
	bob.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	// A small receive buffer: with autotuning, a kernel whose tcp_rmem allows 32 MiB (Linux
	// 6.18 here) absorbs every push of the test without the server noticing.
	slow := e.dialRaw(t, "slow", 64<<10)
	slow.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"slow"`)

	// Large pushes, so that the socket buffers fill soon: 6 values of 2 KB besides "seq".
	// Enough of them to fill the slow client's receive buffer, the largest send buffer the
	// kernel gives the server's socket and the send queue, with room to spare; no more, so
	// that the healthy readers are not flooded while the slow one's close waits out
	// CloseGrace.
	pad := strings.Repeat("x", 2000)
	pushes := min(3000, (64<<10+tcpSendBufferMax(t))/12000+32+100)
	n := 0
	slowGone := func() bool { return !slices.Contains(e.members(t, "r1"), "slow") }
	for ; n < pushes; n++ {
		md := []map[string]string{{"Key": "seq", "Value": fmt.Sprint(n)}}
		for i := range 6 {
			md = append(md, map[string]string{"Key": fmt.Sprint("pad", i), "Value": pad})
		}
		mustOK(t, e.call("live_engine_http_srv/set_room_metadata", map[string]any{"RoomId": "r1", "Metadata": md}))
		if n%10 == 9 && slowGone() {
			n++
			break
		}
	}
	// The session closes as soon as its queue overflows, but its member leaves when the
	// connection has ended: its socket is full, so the close frame cannot go out and the
	// server waits CloseGrace before it cuts the connection. A fast machine makes all the
	// pushes within that time.
	for deadline := time.Now().Add(10 * time.Second); !slowGone() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !slowGone() {
		t.Fatalf("the slow reader is still a member 10 s after %d pushes", n)
	}
	t.Logf("slow reader disconnected after %d pushes", n)
	e.waitMemberState(t, "r1", "Offline/HeartbeatInterrupt:slow")

	seqs := func(ns []client.Notification) []int {
		var out []int
		for _, x := range ns {
			if x.Method != "onRoomMetadataChanged" {
				continue
			}
			var p struct{ Metadata map[string]string }
			json.Unmarshal(x.Params, &p)
			var s int
			fmt.Sscan(p.Metadata["seq"], &s)
			out = append(out, s)
		}
		return out
	}
	for _, p := range []*peer{alice, bob} {
		got := seqs(p.waitPushes(t, fmt.Sprint(n, " metadata pushes"), func(ns []client.Notification) bool { return len(seqs(ns)) >= n }))
		for i, s := range got {
			if s != i {
				t.Fatalf("%s: push %d has seq %d (in order, each once, expected)", p.user, i, s)
			}
		}
		if len(got) != n || p.Err() != nil {
			t.Errorf("%s: %d pushes, connection error %v", p.user, len(got), p.Err())
		}
		p.waitPush(t, "onRemoteUserLeaveRoom", `"userId":"slow"`)
	}
	// What the slow reader did get is a prefix of the pushes, in order, and then the end.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	next := 0
	for {
		_, data, err := slow.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("the slow reader's connection is still open after %d frames", next)
			}
			break
		}
		var f rawFrame
		json.Unmarshal(data, &f)
		if f.Method != "onRoomMetadataChanged" {
			continue
		}
		if s := seqs([]client.Notification{{Method: f.Method, Params: f.Params}}); len(s) != 1 || s[0] != next {
			t.Fatalf("slow reader's push %d: %v", next, s)
		}
		next++
	}
	if next >= n {
		t.Errorf("the slow reader got all %d pushes", n)
	}
}

// With auto_dissolve.no_users, a room is dissolved by the system once its last member has
// left; rooms with members are not touched, and their members are told when a room is
// destroyed through REST.
func TestClientAutoDissolve(t *testing.T) {
	e := startClientEnv(t, withAutoDissolve(config.AutoDissolve{NoUsers: time.Second}))
	alice := e.dial(t, "alice", "Web")
	bob := e.dial(t, "bob", "Web")
	alice.call(t, "createRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "createRoom", map[string]string{"roomId": "r2"})
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "enterRoom", map[string]string{"roomId": "r2"})
	bob.call(t, "enterRoom", map[string]string{"roomId": "r2"})

	alice.call(t, "exitRoom", map[string]string{"roomId": "r1"})
	left := time.Now()
	testkit.Eventually(t, "r1 dissolved", 10*time.Second, func() (bool, string) {
		env := e.call("live_engine_http_srv/get_room_info", map[string]string{"RoomId": "r1"})
		return env.ErrorCode == 100004, string(env.Raw)
	})
	if d := time.Since(left); d < time.Second {
		t.Errorf("r1 dissolved %s after its last member left, before its lifetime of 1s", d)
	}
	got := e.rc.WaitFor(t, "the system's destroy callback", 15*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdDestroy)) == 1 })
	cb := callbacksOf(got, cmdDestroy)[0]
	var body struct{ RoomId, EventType, Operator_Account string }
	json.Unmarshal(cb.Body, &body)
	if body.RoomId != "r1" || body.EventType != "DestroyBySystem" || body.Operator_Account != "@TIM#SYSTEM" {
		t.Errorf("destroy callback %s", cb.Body)
	}
	// r2 and its members are untouched.
	if m := e.members(t, "r2"); !slices.Equal(m, []string{"alice", "bob"}) {
		t.Errorf("r2 members %v", m)
	}
	alice.call(t, "setRoomMetadataByAdmin", map[string]any{"roomId": "r2", "metadata": map[string]string{"k": "still here"}})
	bob.waitPush(t, "onRoomMetadataChanged", "still here")
	for _, p := range []*peer{alice, bob} {
		for _, n := range p.pushes() {
			if n.Method == "onRoomDismissed" {
				t.Errorf("%s was pushed %s %s", p.user, n.Method, n.Params)
			}
		}
	}
	// The owner destroys r2 through REST: its members are told.
	mustOK(t, e.call("live_engine_http_srv/destroy_room", map[string]string{"RoomId": "r2"}))
	for _, p := range []*peer{alice, bob} {
		p.waitPush(t, "onRoomDismissed", `"roomId":"r2"`)
	}
	got = e.rc.WaitFor(t, "the REST destroy callback", 15*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdDestroy)) == 2 })
	if b := string(callbacksOf(got, cmdDestroy)[1].Body); !strings.Contains(b, `"EventType":"DestroyByUser"`) || !strings.Contains(b, `"RoomId":"r2"`) {
		t.Errorf("REST destroy callback %s", b)
	}
	// Their connections are out of r2: a call on it is refused as for a room not entered.
	bob.callFail(t, 100004, "fetchRoomInfo", map[string]string{"roomId": "r2"})
	if alice.Err() != nil || bob.Err() != nil {
		t.Errorf("connections ended: %v, %v", alice.Err(), bob.Err())
	}
}

// A dissolution timer is state in the database: a server stopped while it is pending
// dissolves the room at its time after a restart.
func TestClientAutoDissolveAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	rc := newReceiver(t)
	opt := withAutoDissolve(config.AutoDissolve{NoUsers: 3 * time.Second})
	e := startClientEnvIn(t, dir, rc, opt)
	alice := e.dial(t, "alice", "Web")
	alice.call(t, "createRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "exitRoom", map[string]string{"roomId": "r1"})
	left := time.Now()
	e.Close()

	e2 := startClientEnvIn(t, dir, rc, opt)
	if time.Since(left) < 2*time.Second {
		// Still pending: the room exists.
		mustOK(t, e2.call("live_engine_http_srv/get_room_info", map[string]string{"RoomId": "r1"}))
	}
	testkit.Eventually(t, "r1 dissolved after the restart", 15*time.Second, func() (bool, string) {
		env := e2.call("live_engine_http_srv/get_room_info", map[string]string{"RoomId": "r1"})
		return env.ErrorCode == 100004, string(env.Raw)
	})
	if d := time.Since(left); d < 3*time.Second {
		t.Errorf("dissolved %s after the last member left, before its lifetime of 3s", d)
	}
	got := rc.WaitFor(t, "the system's destroy callback", 15*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdDestroy)) == 1 })
	if b := string(callbacksOf(got, cmdDestroy)[0].Body); !strings.Contains(b, `"EventType":"DestroyBySystem"`) || !strings.Contains(b, `"Operator_Account":"@TIM#SYSTEM"`) {
		t.Errorf("destroy callback %s", b)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// roomd client connects as a user, runs the operations typed on its standard input and
// prints their results and the pushes it gets.
func TestClientCLI(t *testing.T) {
	e := startClientEnv(t)
	e.importAccounts("owner")
	e.createRoom("r1", "owner")
	stdin, typing := io.Pipe()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- app.Main(context.Background(), []string{"client", "--user", "alice", "--url", e.WS,
			"--sdkappid", fmt.Sprint(testApp), "--key", testKey, "--platform", "ios"},
			app.Env{Stdin: stdin, Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	}()
	waitOutput := func(what string) {
		t.Helper()
		testkit.Eventually(t, what, 15*time.Second, func() (bool, string) {
			return strings.Contains(stdout.String(), what), "stdout: " + stdout.String() + "\nstderr: " + stderr.String()
		})
	}
	fmt.Fprintln(typing, `enterRoom {"roomId":"r1"}`)
	waitOutput(`< result {"roomInfo":{"roomId":"r1"`)
	bob := e.dial(t, "bob", "Web")
	bob.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	waitOutput(`* onRemoteUserEnterRoom {"roomId":"r1","userInfo":{"userId":"bob"}}`)
	fmt.Fprintln(typing, `changeUserRole {"roomId":"r1","userId":"bob","role":"roomOwner"}`)
	waitOutput(`< error 100006 `)
	fmt.Fprintln(typing, `sendTextMessage {"roomId":"r1","text":"hi bob"}`)
	waitOutput(`< result {"messageSeq":`)
	bob.waitPush(t, "onReceiveTextMessage", `"text":"hi bob"`, `"userId":"alice"`)
	typing.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("roomd client: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("roomd client did not end at the end of its input")
	}
	if !strings.Contains(stderr.String(), "connected to") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// alice's end of input was a clean exit: she left the room.
	e.waitMemberState(t, "r1", "Offline/Leave:alice")
	bob.waitPush(t, "onRemoteUserLeaveRoom", `"userId":"alice"`)
	// Her presence callbacks carry the platform she declared (ios, spelled iOS).
	got := e.rc.WaitFor(t, "alice's Online callback", 10*time.Second, func(g []callbackRequest) bool { return len(memberStates(g, "r1")) >= 1 })
	if c := callbacksOf(got, cmdMemberState)[0]; c.Query.Get("OptPlatform") != "iOS" || !strings.Contains(string(c.Body), `"alice"`) {
		t.Errorf("first member-state callback %s %v", c.Body, c.Query)
	}
}

// TestClientLargeRoomPresencePushes pins that in a room larger than
// client.presence_push_limit only the owner and admins are told of entries and departures,
// while every member still is in a small room.
func TestClientLargeRoomPresencePushes(t *testing.T) {
	e := startClientEnv(t, withClient(func(c *config.Client) { c.PresencePushLimit = 2 }))
	alice := e.dial(t, "alice", "iOS")
	bob := e.dial(t, "bob", "Android")
	carol := e.dial(t, "carol", "Web")
	alice.call(t, "createRoom", map[string]any{"roomId": "big"})
	alice.call(t, "enterRoom", map[string]string{"roomId": "big"})
	bob.call(t, "enterRoom", map[string]string{"roomId": "big"}) // 2 members: everyone is told
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"bob"`)
	carol.call(t, "enterRoom", map[string]string{"roomId": "big"}) // 3 members: only the owner
	alice.waitPush(t, "onRemoteUserEnterRoom", `"userId":"carol"`)
	// A change every member hears of, after carol's entry: once bob has it, he would have
	// had carol's entry before it.
	alice.call(t, "setRoomMetadataByAdmin", map[string]any{"roomId": "big", "metadata": map[string]string{"k": "v"}})
	bob.waitPush(t, "onRoomMetadataChanged")
	for _, n := range bob.pushes() {
		if n.Method == "onRemoteUserEnterRoom" && strings.Contains(string(n.Params), `"carol"`) {
			t.Errorf("bob, an ordinary member of a room over the limit, was told of carol's entry: %s", n.Params)
		}
	}
}

// tcpSendBufferMax is the largest send buffer Linux autotunes a TCP socket to (the third
// field of net.ipv4.tcp_wmem), or 4 MiB where it cannot be read.
func tcpSendBufferMax(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil && n > 0 {
				return n
			}
		}
	}
	t.Logf("tcp_wmem not read (%v): assuming a 4 MiB send buffer at most", err)
	return 4 << 20
}

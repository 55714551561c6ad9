package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
)

// Helpers of the client API's end-to-end tests: a real server with a callback receiver,
// users connected with the Go client package (peers) or with a bare WebSocket that the test
// reads by hand (raw connections, for clients that stop reading).

// allClientCommands are the callbacks a client can cause.
var allClientCommands = []string{cmdCreate, cmdDestroy, cmdOwner, cmdMemberState, cmdModifyAdmin, cmdUpdate, cmdSetMeta, cmdDelMeta}

// clientEnv is a running roomd with an App backend receiving every callback a client can
// cause, and the client API's endpoint.
type clientEnv struct {
	*testServer
	rc *testkit.Receiver
	// WS is the client API's endpoint, ws://127.0.0.1:port/v1/client.
	WS string
}

// withClient sets the client API's configuration.
func withClient(f func(*config.Client)) serverOption {
	return func(c *config.Config) { f(&c.Client) }
}

// withAutoDissolve sets the test app's automatic dissolution.
func withAutoDissolve(d config.AutoDissolve) serverOption {
	return func(c *config.Config) { c.Apps[0].AutoDissolve = d }
}

// startClientEnv starts roomd with every client callback switched on, plus opts.
func startClientEnv(t *testing.T, opts ...serverOption) *clientEnv {
	t.Helper()
	rc := newReceiver(t)
	return startClientEnvIn(t, t.TempDir(), rc, opts...)
}

// startClientEnvIn starts roomd on dir (a restart when it was used before) with callbacks to rc.
func startClientEnvIn(t *testing.T, dir string, rc *testkit.Receiver, opts ...serverOption) *clientEnv {
	t.Helper()
	opts = append([]serverOption{withCallback(rc.URL()+"/cb", allClientCommands...)}, opts...)
	ts := startServerIn(t, dir, app.Options{}, opts...)
	return &clientEnv{testServer: ts, rc: rc, WS: "ws" + strings.TrimPrefix(ts.Base, "http") + "/v1/client"}
}

// peer is a user connected with the Go client package; it records every push it gets.
type peer struct {
	*client.Conn
	user string

	mu      sync.Mutex
	notes   []client.Notification
	changed chan struct{}
	drained chan struct{}
}

// dial connects user, declaring platform, and closes the connection when the test ends.
func (e *clientEnv) dial(t *testing.T, user, platform string) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, e.WS, client.Options{SDKAppID: testApp, UserID: user, UserSig: e.userSig(user), Platform: platform,
		NotificationBuffer: 4096})
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	p := &peer{Conn: c, user: user, changed: make(chan struct{}), drained: make(chan struct{})}
	go func() {
		defer close(p.drained)
		for n := range c.Notifications() {
			p.mu.Lock()
			p.notes = append(p.notes, n)
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close() })
	return p
}

// call calls method and fails the test unless it succeeds; it returns the result.
func (p *peer) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var res json.RawMessage
	if err := p.Call(ctx, method, params, &res); err != nil {
		t.Fatalf("%s: %s %v: %v", p.user, method, params, err)
	}
	return res
}

// callFail calls method and fails the test unless it fails with the Tencent code.
func (p *peer) callFail(t *testing.T, code int, method string, params any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := p.Call(ctx, method, params, nil)
	ce, ok := err.(*client.Error)
	if !ok || ce.Code != code {
		t.Fatalf("%s: %s %v: got %v, want error %d", p.user, method, params, err, code)
	}
}

// pushes returns the notifications received so far.
func (p *peer) pushes() []client.Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]client.Notification(nil), p.notes...)
}

// waitPushes waits until cond holds for the notifications received so far and returns them.
func (p *peer) waitPushes(t *testing.T, what string, cond func([]client.Notification) bool) []client.Notification {
	t.Helper()
	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	for {
		p.mu.Lock()
		got := append([]client.Notification(nil), p.notes...)
		changed := p.changed
		p.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-changed:
		case <-p.drained:
			if cond(p.pushes()) {
				return p.pushes()
			}
			t.Fatalf("%s: connection ended (%v) while waiting for %s; got %s", p.user, p.Err(), what, notesText(got))
		case <-timer.C:
			t.Fatalf("%s: timed out waiting for %s; got %s", p.user, what, notesText(got))
		}
	}
}

// waitPush waits for a push of method whose params contain every fragment.
func (p *peer) waitPush(t *testing.T, method string, fragments ...string) client.Notification {
	t.Helper()
	var found client.Notification
	p.waitPushes(t, fmt.Sprintf("%s %v", method, fragments), func(ns []client.Notification) bool {
		for _, n := range ns {
			if n.Method == method && containsAll(string(n.Params), fragments) {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

func containsAll(s string, fragments []string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return true
}

func notesText(ns []client.Notification) string {
	var b strings.Builder
	for i, n := range ns {
		if i == 20 {
			fmt.Fprintf(&b, "\n  … and %d more", len(ns)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s %.200s", n.Method, n.Params)
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}

// rawConn is a connection the test reads by hand: it answers pings only while a read is in
// progress, so a test that stops reading stops its heartbeat.
type rawConn struct {
	*websocket.Conn
	user   string
	nextID int
}

// dialRaw connects user with a bare WebSocket. A readBuffer > 0 shrinks the socket's
// receive buffer, so that a connection that does not read backs up quickly.
func (e *clientEnv) dialRaw(t *testing.T, user string, readBuffer int) *rawConn {
	t.Helper()
	u, err := client.URL(e.WS, client.Options{SDKAppID: testApp, UserID: user, UserSig: e.userSig(user), Platform: "Android"})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil && readBuffer > 0 {
			c.(*net.TCPConn).SetReadBuffer(readBuffer)
		}
		return c, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("raw dial as %s: %v", user, err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &rawConn{Conn: ws, user: user}
}

// rawFrame is any frame from the server.
type rawFrame struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *client.Error   `json:"error"`
}

// call sends a request and reads frames until its response (notifications before it are
// dropped); after it returns nothing reads the connection.
func (c *rawConn) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	c.nextID++
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("%s: send %s: %v", c.user, method, err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("%s: read the response to %s: %v", c.user, method, err)
		}
		var f rawFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: frame %s: %v", c.user, data, err)
		}
		if string(f.ID) != fmt.Sprint(c.nextID) {
			continue
		}
		if f.Error != nil {
			t.Fatalf("%s: %s: %v", c.user, method, f.Error)
		}
		return f.Result
	}
}

// memberState is one Live.CallbackAfterMemberStateChanged as "Type/Cause:user,user".
func memberStates(got []callbackRequest, roomID string) []string {
	var out []string
	for _, c := range got {
		if c.Command != cmdMemberState || c.RoomID != roomID {
			continue
		}
		var b struct {
			EventType, EventCause string
			MemberList            []struct{ Member_Account string }
		}
		json.Unmarshal(c.Body, &b)
		var users []string
		for _, m := range b.MemberList {
			users = append(users, m.Member_Account)
		}
		out = append(out, b.EventType+"/"+b.EventCause+":"+strings.Join(users, ","))
	}
	return out
}

// waitMemberState waits until the room's member-state callbacks include want
// ("Offline/HeartbeatInterrupt:carol") and returns them all.
func (e *clientEnv) waitMemberState(t *testing.T, roomID, want string) []string {
	t.Helper()
	var states []string
	e.rc.WaitFor(t, want+" in room "+roomID, 20*time.Second, func(g []callbackRequest) bool {
		states = memberStates(g, roomID)
		for _, s := range states {
			if s == want {
				return true
			}
		}
		return false
	})
	return states
}

// callbacks returns the callbacks of command received so far.
func callbacksOf(got []callbackRequest, command string) []callbackRequest {
	var out []callbackRequest
	for _, c := range got {
		if c.Command == command {
			out = append(out, c)
		}
	}
	return out
}

// roomOwner returns the owner of a room as REST get_room_info answers it.
func (e *clientEnv) roomOwner(t *testing.T, roomID string) string {
	t.Helper()
	env := mustOK(t, e.call("live_engine_http_srv/get_room_info", map[string]string{"RoomId": roomID}))
	r := response[struct {
		RoomInfo struct{ Owner_Account, RoomName string }
	}](t, env)
	return r.RoomInfo.Owner_Account
}

// members returns a room's members as REST get_member_list answers them.
func (e *clientEnv) members(t *testing.T, roomID string) []string {
	t.Helper()
	env := mustOK(t, e.call("live_engine_http_srv/get_member_list", map[string]string{"RoomId": roomID}))
	r := response[struct {
		MemberList []struct{ Member_Account string }
	}](t, env)
	var out []string
	for _, m := range r.MemberList {
		out = append(out, m.Member_Account)
	}
	return out
}

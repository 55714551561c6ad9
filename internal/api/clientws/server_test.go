package clientws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/golden"
)

const testApp = 1400000000

// closed is one OnClose call.
type closed struct {
	s      *clientws.Session
	reason clientws.CloseReason
}

// env is a clientws server on httptest with a tiny method table.
type env struct {
	srv    *clientws.Server
	http   *httptest.Server
	url    string // ws://127.0.0.1:port/v1/client
	opened chan *clientws.Session
	closed chan closed
}

// authenticate accepts app testApp and a UserSig "sig-<userid>".
func authenticate(_ context.Context, app, user, sig string) (clientws.Identity, error) {
	if app != "1400000000" {
		return clientws.Identity{}, errcode.New(errcode.SDKAppIDNotFound, "sdkappid "+app+" is not served here")
	}
	if sig != "sig-"+user {
		return clientws.Identity{}, errcode.New(errcode.SigMismatch, "usersig does not match")
	}
	return clientws.Identity{App: testApp, UserID: user}, nil
}

type roomParams struct {
	RoomID string `json:"roomId"`
}

func methods(srv **clientws.Server) map[string]clientws.Method {
	return map[string]clientws.Method{
		"whoami": func(_ context.Context, s *clientws.Session, _ json.RawMessage) (any, error) {
			return map[string]any{"app": s.App(), "userId": s.UserID(), "platform": s.Platform(), "clientIp": s.ClientIP()}, nil
		},
		"echo": func(_ context.Context, _ *clientws.Session, p json.RawMessage) (any, error) { return p, nil },
		"enterRoom": func(_ context.Context, s *clientws.Session, p json.RawMessage) (any, error) {
			var rp roomParams
			if err := json.Unmarshal(p, &rp); err != nil || rp.RoomID == "" {
				return nil, errcode.Invalid("roomId", "is required")
			}
			return nil, (*srv).Hub().Subscribe(s, rp.RoomID)
		},
		"missing": func(context.Context, *clientws.Session, json.RawMessage) (any, error) {
			return nil, fmt.Errorf("%w: r1", errcode.New(errcode.RoomNotFound, "room does not exist"))
		},
		"boom": func(context.Context, *clientws.Session, json.RawMessage) (any, error) {
			return nil, errors.New("disk on fire")
		},
		"panic": func(context.Context, *clientws.Session, json.RawMessage) (any, error) { panic("oops") },
	}
}

func newEnv(t testing.TB, cfg clientws.Config) *env {
	t.Helper()
	e := &env{opened: make(chan *clientws.Session, 10000), closed: make(chan closed, 10000)}
	cfg.Authenticate = authenticate
	cfg.Methods = methods(&e.srv)
	cfg.OnOpen = func(s *clientws.Session) { e.opened <- s }
	return e.start(t, cfg)
}

// start serves e's clientws server, made from cfg (whose Authenticate and Methods are
// set), on a loopback test server until the test ends; closed sessions go to e.closed.
func (e *env) start(t testing.TB, cfg clientws.Config) *env {
	cfg.OnClose = func(s *clientws.Session, r clientws.CloseReason) { e.closed <- closed{s, r} }
	e.srv = clientws.New(cfg)
	mux := http.NewServeMux()
	mux.Handle(clientws.Path, e.srv)
	e.http = httptest.NewServer(mux)
	e.url = "ws" + strings.TrimPrefix(e.http.URL, "http") + clientws.Path
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		e.http.Close()
	})
	return e
}

func (e *env) dial(t testing.TB, user, platform string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, e.url, client.Options{SDKAppID: testApp, UserID: user, UserSig: "sig-" + user, Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawDial opens a WebSocket with coder/websocket directly, to send frames the Go client
// never sends.
func (e *env) rawDial(t testing.TB, user string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, _ := client.URL(e.url, client.Options{SDKAppID: testApp, UserID: user, UserSig: "sig-" + user})
	c, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func waitClosed(t testing.TB, e *env, want clientws.CloseReason) *clientws.Session {
	t.Helper()
	select {
	case c := <-e.closed:
		if c.reason != want {
			t.Fatalf("OnClose reason %v, want %v", c.reason, want)
		}
		return c.s
	case <-time.After(15 * time.Second):
		t.Fatalf("no OnClose (want %v) within 15s", want)
	}
	return nil
}

// eventually polls cond until it holds, failing t after 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestAuthRefusedBeforeUpgrade(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	base := e.http.URL + clientws.Path
	tests := []struct {
		name   string
		query  string
		status int
		body   string
	}{
		{"no sdkappid", "?userid=alice&usersig=sig-alice", 400, `{"code":60012,"message":"sdkappid is missing"}`},
		{"sdkappid not a number", "?sdkappid=abc&userid=alice&usersig=sig-alice", 400, `{"code":60006,"message":"sdkappid is not a number"}`},
		{"no userid", "?sdkappid=1400000000&usersig=sig-alice", 400, `{"code":60004,"message":"userid is missing"}`},
		{"no usersig", "?sdkappid=1400000000&userid=alice", 401, `{"code":70002,"message":"usersig is missing"}`},
		{"bad usersig", "?sdkappid=1400000000&userid=alice&usersig=sig-bob", 401, `{"code":70009,"message":"usersig does not match"}`},
		{"unknown app", "?sdkappid=1400000001&userid=alice&usersig=sig-alice", 403, `{"code":70020,"message":"sdkappid 1400000001 is not served here"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+tt.query, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || strings.TrimSpace(string(body)) != tt.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	// The Go client reports the refusal as a typed error.
	_, err := client.Dial(ctx(t), e.url, client.Options{SDKAppID: testApp, UserID: "alice", UserSig: "forged"})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.HTTPStatus != 401 || ce.Code != errcode.SigMismatch {
		t.Fatalf("Dial with a bad UserSig: %v", err)
	}
	select {
	case s := <-e.opened:
		t.Fatalf("a refused connection was opened: %s", s.UserID())
	default:
	}
}

func TestRequestResponse(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	for platform, want := range map[string]string{"ios": "iOS", "WEB": "Web", "iPad": "iPad", "xbox": "Unknown", "": "Unknown"} {
		c := e.dial(t, "alice", platform)
		var got map[string]any
		if err := c.Call(ctx(t), "whoami", nil, &got); err != nil {
			t.Fatal(err)
		}
		if got["platform"] != want || got["userId"] != "alice" || got["clientIp"] != "127.0.0.1" || got["app"] != float64(testApp) {
			t.Errorf("platform %q: whoami = %v, want platform %s", platform, got, want)
		}
	}
	c := e.dial(t, "bob", "Android")
	var echo map[string]string
	if err := c.Call(ctx(t), "echo", map[string]string{"roomId": "r1"}, &echo); err != nil || echo["roomId"] != "r1" {
		t.Fatalf("echo = %v, %v", echo, err)
	}
}

func TestErrorResponses(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	c := e.dial(t, "alice", "Web")
	tests := []struct {
		method string
		params any
		code   int
		msg    string
	}{
		{"noSuchMethod", nil, clientws.CodeMethodNotFound, "method not found: noSuchMethod"},
		{"missing", nil, errcode.RoomNotFound, "room does not exist: r1"},
		{"enterRoom", map[string]any{}, errcode.LiveInvalid, "invalid parameter: roomId is required"},
		{"boom", nil, errcode.LiveInternal, errcode.InternalInfo},
		{"panic", nil, errcode.LiveInternal, errcode.InternalInfo},
		{"echo", []int{1}, clientws.CodeInvalidParams, `invalid params: "params" must be a JSON object`},
	}
	for _, tt := range tests {
		err := c.Call(ctx(t), tt.method, tt.params, nil)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Code != tt.code || ce.Message != tt.msg {
			t.Errorf("%s: got %v, want %d %q", tt.method, err, tt.code, tt.msg)
		}
	}
	// The connection survives every error.
	if err := c.Call(ctx(t), "whoami", nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedFrames(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	ws := e.rawDial(t, "alice", nil)
	tests := []struct {
		typ   websocket.MessageType
		frame string
		want  string
	}{
		{websocket.MessageText, `{"jsonrpc":"2.0","id":1,`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: the frame is not valid JSON"}}`},
		{websocket.MessageText, `[1,2]`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: the frame is not a JSON object"}}`},
		{websocket.MessageText, `{"jsonrpc":"2.0","id":{},"method":"whoami"}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: \"id\" must be a string, a number or null"}}`},
		{websocket.MessageBinary, `{"jsonrpc":"2.0","id":1,"method":"whoami"}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: binary frames are not supported"}}`},
		{websocket.MessageText, `{"jsonrpc":"2.0","id":"s1","method":"echo","params":"x"}`, `{"jsonrpc":"2.0","id":"s1","error":{"code":-32602,"message":"invalid params: \"params\" must be a JSON object"}}`},
		// A notification (no id) is executed and never answered: the next answer is the ping's.
		{websocket.MessageText, `{"jsonrpc":"2.0","method":"echo"}`, ""},
		{websocket.MessageText, `{"jsonrpc":"2.0","method":"nope"}`, ""},
		{websocket.MessageText, `{"jsonrpc":"2.0","id":9,"method":"echo","params":{"a":1}}`, `{"jsonrpc":"2.0","id":9,"result":{"a":1}}`},
	}
	for _, tt := range tests {
		if err := ws.Write(ctx(t), tt.typ, []byte(tt.frame)); err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			continue
		}
		_, got, err := ws.Read(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("frame %s:\n got %s\nwant %s", tt.frame, got, tt.want)
		}
	}
}

// TestOrdering: requests of one connection are answered in the order they were sent.
func TestOrdering(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	ws := e.rawDial(t, "alice", nil)
	const n = 100
	for i := range n {
		if err := ws.Write(ctx(t), websocket.MessageText, fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"echo","params":{"i":%d}}`, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		_, got, err := ws.Read(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"i":%d}}`, i, i); string(got) != want {
			t.Fatalf("response %d = %s, want %s", i, got, want)
		}
	}
}

// TestGoldenFrames pins the exact bytes of a response, an error response and a
// notification as they travel over a real connection.
func TestGoldenFrames(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	ws := e.rawDial(t, "alice", nil)
	roundTrip := func(req string) []byte {
		t.Helper()
		if err := ws.Write(ctx(t), websocket.MessageText, []byte(req)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.Read(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	golden.Check(t, "testdata/response.golden",
		append(roundTrip(`{"jsonrpc":"2.0","id":1,"method":"enterRoom","params":{"roomId":"r1"}}`), '\n'))
	golden.Check(t, "testdata/error.golden",
		append(roundTrip(`{"jsonrpc":"2.0","id":2,"method":"missing","params":{"roomId":"r1"}}`), '\n'))
	n, err := e.srv.Hub().PublishRoom(testApp, "r1", "onUserRoleChanged",
		map[string]any{"roomId": "r1", "userId": "bob", "userRole": "roomOwner"})
	if err != nil || n != 1 {
		t.Fatalf("PublishRoom = %d, %v", n, err)
	}
	_, got, err := ws.Read(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/notification.golden", append(got, '\n'))
}

func TestFanOut(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	const n = 200
	conns := make([]*client.Conn, n)
	for i := range conns {
		conns[i] = e.dial(t, fmt.Sprintf("u%d", i%50), "Web") // 4 connections per user
		if err := conns[i].Call(ctx(t), "enterRoom", map[string]string{"roomId": "big"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.srv.Hub().RoomSessions(testApp, "big")); got != n {
		t.Fatalf("RoomSessions = %d, want %d", got, n)
	}
	sent, err := e.srv.Hub().PublishRoom(testApp, "big", "onRoomInfoChanged", map[string]string{"roomId": "big", "roomName": "hello"})
	if err != nil || sent != n {
		t.Fatalf("PublishRoom = %d, %v", sent, err)
	}
	sent, _ = e.srv.Hub().PublishRoomExcept(testApp, "big", "u0", "onRemoteUserLeaveRoom", map[string]string{"roomId": "big", "userId": "u0"})
	if sent != n-4 {
		t.Fatalf("PublishRoomExcept sent to %d, want %d", sent, n-4)
	}
	sent, _ = e.srv.Hub().PublishUser(testApp, "u0", "onKickedOutOfRoom", map[string]string{"roomId": "big"})
	if sent != 4 {
		t.Fatalf("PublishUser sent to %d, want 4", sent)
	}
	for i, c := range conns {
		want := []string{"onRoomInfoChanged", "onRemoteUserLeaveRoom"}
		if i%50 == 0 {
			want = []string{"onRoomInfoChanged", "onKickedOutOfRoom"}
		}
		for _, m := range want {
			select {
			case note := <-c.Notifications():
				if note.Method != m {
					t.Fatalf("conn %d got %s, want %s", i, note.Method, m)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("conn %d: no %s", i, m)
			}
		}
	}
}

// TestSlowReader: a client that never reads is disconnected as a slow reader, while the
// others keep receiving every notification.
func TestSlowReader(t *testing.T) {
	e := newEnv(t, clientws.Config{SendQueue: 8, WriteTimeout: time.Minute, CloseGrace: 200 * time.Millisecond})
	slow := e.rawDial(t, "slow", nil)
	if err := slow.Write(ctx(t), websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"method":"enterRoom","params":{"roomId":"r"}}`)); err != nil {
		t.Fatal(err)
	}
	// The slow client reads nothing from now on, not even the response above.
	var good []*client.Conn
	for i := range 3 {
		c := e.dial(t, fmt.Sprintf("good%d", i), "Web")
		if err := c.Call(ctx(t), "enterRoom", map[string]string{"roomId": "r"}, nil); err != nil {
			t.Fatal(err)
		}
		good = append(good, c)
	}
	eventually(t, "the slow client enters the room", func() bool { return len(e.srv.Hub().RoomSessions(testApp, "r")) == 4 })
	deadline := time.Now().Add(30 * time.Second)
	payload := strings.Repeat("x", 60<<10)
	var slowSession *clientws.Session
	for i := 0; slowSession == nil; i++ {
		if time.Now().After(deadline) {
			t.Fatal("the slow reader was never disconnected")
		}
		if _, err := e.srv.Hub().PublishRoom(testApp, "r", "onReceiveTextMessage", map[string]any{"seq": i, "text": payload}); err != nil {
			t.Fatal(err)
		}
		for _, c := range good { // the good clients receive every notification, in order
			select {
			case note, ok := <-c.Notifications():
				var p struct{ Seq int }
				if !ok || json.Unmarshal(note.Params, &p) != nil || p.Seq != i {
					t.Fatalf("good client: notification %d: %s %s (%v)", i, note.Method, note.Params[:min(20, len(note.Params))], c.Err())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("good client did not receive notification %d", i)
			}
		}
		select {
		case c := <-e.closed:
			if c.reason != clientws.CloseSlowReader || c.s.UserID() != "slow" {
				t.Fatalf("OnClose(%s, %v), want slow, slow_reader", c.s.UserID(), c.reason)
			}
			slowSession = c.s
		default:
		}
	}
	if got := len(e.srv.Hub().RoomSessions(testApp, "r")); got != 3 {
		t.Errorf("after the slow reader left, the room has %d sessions, want 3", got)
	}
	if err := slowSession.Notify("x", nil); !errors.Is(err, clientws.ErrSessionClosed) {
		t.Errorf("Notify on a closed session: %v", err)
	}
	if err := e.srv.Hub().Subscribe(slowSession, "r"); !errors.Is(err, clientws.ErrSessionClosed) {
		t.Errorf("Subscribe of a closed session: %v", err)
	}
}

// TestHeartbeatLost: a client that stops answering pings is closed with heartbeat_lost.
func TestHeartbeatLost(t *testing.T) {
	e := newEnv(t, clientws.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 200 * time.Millisecond, CloseGrace: 200 * time.Millisecond})
	healthy := e.dial(t, "healthy", "Web")
	var mu sync.Mutex
	answer := true
	mute := e.rawDial(t, "mute", &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		return answer
	}})
	go func() { // keep reading, so that only pings go unanswered
		for {
			if _, _, err := mute.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	// Several heartbeats pass while both answer.
	for range 5 {
		if err := healthy.Call(ctx(t), "whoami", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := mute.Ping(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case c := <-e.closed:
		t.Fatalf("%s closed (%v) while answering pings", c.s.UserID(), c.reason)
	default:
	}
	mu.Lock()
	answer = false
	mu.Unlock()
	s := waitClosed(t, e, clientws.CloseHeartbeatLost)
	if s.UserID() != "mute" {
		t.Fatalf("heartbeat lost for %s, want mute", s.UserID())
	}
	if err := healthy.Call(ctx(t), "whoami", nil, nil); err != nil {
		t.Fatalf("the healthy client: %v", err)
	}
}

// TestHeartbeatDoesNotDelayFrames: while the server waits for a pong that does not come,
// a notification published meanwhile still reaches the client at once.
func TestHeartbeatDoesNotDelayFrames(t *testing.T) {
	e := newEnv(t, clientws.Config{PingInterval: 20 * time.Millisecond, PingTimeout: time.Minute})
	pinged := make(chan struct{}, 1)
	ws := e.rawDial(t, "paused", &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return false // the pong is withheld: the server's ping stays outstanding
	}})
	if err := ws.Write(ctx(t), websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"method":"enterRoom","params":{"roomId":"r"}}`)); err != nil {
		t.Fatal(err)
	}
	frames := make(chan string, 16)
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				close(frames)
				return
			}
			frames <- string(data)
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatalf("%s: connection ended", what)
			}
			return f
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing within 10s", what)
		}
		return ""
	}
	if f := next("enterRoom response"); !strings.Contains(f, `"result"`) {
		t.Fatalf("enterRoom: %s", f)
	}
	select {
	case <-pinged:
	case <-time.After(10 * time.Second):
		t.Fatal("no ping within 10s")
	}
	time.Sleep(50 * time.Millisecond) // the ping stays unanswered
	for i := range 3 {
		start := time.Now()
		if n, err := e.srv.Hub().PublishRoom(testApp, "r", "onRoomInfoChanged", map[string]int{"seq": i}); err != nil || n != 1 {
			t.Fatalf("PublishRoom = %d, %v", n, err)
		}
		f := next(fmt.Sprintf("notification %d", i))
		if !strings.Contains(f, fmt.Sprintf(`"seq":%d`, i)) {
			t.Fatalf("notification %d: %s", i, f)
		}
		// Generous for a loaded machine, far below the minute the ping waits for.
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("notification %d took %v while a ping waited for its pong", i, d)
		}
	}
	select {
	case c := <-e.closed:
		t.Fatalf("%s closed (%v) while its ping was still within the timeout", c.s.UserID(), c.reason)
	default:
	}
}

func TestFrameTooLarge(t *testing.T) {
	e := newEnv(t, clientws.Config{MaxFrameBytes: 1024})
	ws := e.rawDial(t, "alice", nil)
	ok := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"%s"}}`, strings.Repeat("a", 1024-60))
	if len(ok) > 1024 {
		t.Fatal("test frame too long")
	}
	if err := ws.Write(ctx(t), websocket.MessageText, []byte(ok)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx(t)); err != nil {
		t.Fatalf("a frame of %d bytes: %v", len(ok), err)
	}
	big := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"echo","params":{"s":"%s"}}`, strings.Repeat("a", 2000))
	ws.Write(ctx(t), websocket.MessageText, []byte(big))
	_, _, err := ws.Read(ctx(t))
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("after an oversized frame: %v, want close 1009", err)
	}
	waitClosed(t, e, clientws.CloseFrameTooLarge)
}

func TestClientCloseLeavesRooms(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	c := e.dial(t, "alice", "Web")
	for _, r := range []string{"r1", "r2"} {
		if err := c.Call(ctx(t), "enterRoom", map[string]string{"roomId": r}, nil); err != nil {
			t.Fatal(err)
		}
	}
	s := <-e.opened
	if rooms := e.srv.Hub().Rooms(s); len(rooms) != 2 {
		t.Fatalf("Rooms = %v", rooms)
	}
	c.Close()
	waitClosed(t, e, clientws.CloseClient)
	if n := len(e.srv.Hub().RoomSessions(testApp, "r1")) + len(e.srv.Hub().UserSessions(testApp, "alice")); n != 0 {
		t.Fatalf("%d hub entries left after the close", n)
	}
}

func TestSessionClose(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	c := e.dial(t, "alice", "Web")
	s := <-e.opened
	s.Close()
	waitClosed(t, e, clientws.CloseByServer)
	<-c.Done()
	if websocket.CloseStatus(c.Err()) != websocket.StatusNormalClosure {
		t.Fatalf("client saw %v", c.Err())
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	var conns []*client.Conn
	for i := range 5 {
		conns = append(conns, e.dial(t, fmt.Sprintf("u%d", i), "Web"))
	}
	for range conns {
		<-e.opened
	}
	if err := e.srv.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for range conns {
		waitClosed(t, e, clientws.CloseServerShutdown)
	}
	for _, c := range conns {
		<-c.Done()
		if websocket.CloseStatus(c.Err()) != websocket.StatusGoingAway {
			t.Errorf("client saw %v, want 1001", c.Err())
		}
	}
	_, err := client.Dial(ctx(t), e.url, client.Options{SDKAppID: testApp, UserID: "late", UserSig: "sig-late"})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("Dial after Shutdown: %v", err)
	}
}

// TestProtocolDocQuotesGoldenFrames keeps docs/client-protocol.md honest: the frames it shows
// are the golden ones.
func TestProtocolDocQuotesGoldenFrames(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/client-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"response", "error", "notification"} {
		frame, err := os.ReadFile("testdata/" + name + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), strings.TrimSpace(string(frame))) {
			t.Errorf("docs/client-protocol.md does not show testdata/%s.golden: %s", name, frame)
		}
	}
}

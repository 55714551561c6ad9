package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/config"
)

// Shared helpers for the end-to-end tests of this package: a real roomd server on
// 127.0.0.1:0 with a real SQLite file, and a real HTTP callback receiver.

const (
	testApp   = 1400000001
	testKey   = "e2e-secret-key-0123456789abcdef"
	testAdmin = "admin"
)

// testServer is a running roomd for one test.
type testServer struct {
	t    *testing.T
	Srv  *app.Server
	Dir  string
	Base string
	sig  string
}

// serverOption adjusts the configuration before the server starts.
type serverOption func(*config.Config)

// withCallback points the test app's callbacks at url with the given commands switched on.
func withCallback(url string, cmds ...string) serverOption {
	return func(c *config.Config) {
		c.Apps[0].Callback = &config.Callback{URL: url, Commands: cmds}
		c.Apps[0].Callback.Retry.InitialBackoff = 20 * time.Millisecond
		c.Apps[0].Callback.Retry.MaxBackoff = 200 * time.Millisecond
		c.Apps[0].ApplyDefaults()
	}
}

// startServer starts roomd with one app (testApp, admin testAdmin) on a fresh data dir.
func startServer(t *testing.T, o app.Options, opts ...serverOption) *testServer {
	t.Helper()
	dir := t.TempDir()
	return startServerIn(t, dir, o, opts...)
}

// startServerIn starts roomd on an existing data dir (to restart on the same database).
func startServerIn(t *testing.T, dir string, o app.Options, opts ...serverOption) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	off := false
	cfg.Apps = []config.App{{SDKAppID: testApp, SecretKey: testKey, Admins: []string{testAdmin, "admin2"},
		RateLimit: config.RateLimit{Enabled: &off}}}
	cfg.Apps[0].ApplyDefaults()
	for _, opt := range opts {
		opt(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := app.NewServer(context.Background(), cfg, o)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	ts := &testServer{t: t, Srv: srv, Dir: dir, Base: srv.URL()}
	ts.sig = ts.userSig(testAdmin)
	t.Cleanup(func() { ts.Close() })
	return ts
}

var closedServers sync.Map

// Close stops the server (idempotent).
func (ts *testServer) Close() {
	if _, done := closedServers.LoadOrStore(ts, true); done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Srv.Close(ctx)
}

func (ts *testServer) userSig(user string) string {
	sig, err := usersig.Sign(testApp, testKey, user, 86400, time.Now())
	if err != nil {
		ts.t.Fatal(err)
	}
	return sig
}

// envelope is a decoded REST reply.
type envelope struct {
	ActionStatus string
	ErrorCode    int
	ErrorInfo    string
	RequestId    string
	Response     json.RawMessage
	Raw          []byte
}

// call POSTs body (a JSON string or a value to marshal) to /v4/api as the admin.
func (ts *testServer) call(api string, body any) envelope {
	ts.t.Helper()
	return ts.callAs(testAdmin, ts.sig, api, body)
}

// callAs POSTs as identifier with sig.
func (ts *testServer) callAs(identifier, sig, api string, body any) envelope {
	ts.t.Helper()
	url := ts.Base + "/v4/" + api + "?sdkappid=" + itoa(testApp) + "&identifier=" + identifier + "&usersig=" + sig + "&random=42&contenttype=json"
	return ts.post(url, body)
}

func (ts *testServer) post(url string, body any) envelope {
	ts.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			ts.t.Fatal(err)
		}
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		ts.t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("POST %s: HTTP %d %s", url, resp.StatusCode, raw)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		ts.t.Fatalf("POST %s: reply is not JSON: %s", url, raw)
	}
	env.Raw = raw
	return env
}

// mustOK fails the test unless env is a success.
func mustOK(t *testing.T, env envelope) envelope {
	t.Helper()
	if env.ActionStatus != "OK" || env.ErrorCode != 0 {
		t.Fatalf("want OK, got %s", env.Raw)
	}
	return env
}

// mustFail fails the test unless env failed with code.
func mustFail(t *testing.T, env envelope, code int) {
	t.Helper()
	if env.ActionStatus != "FAIL" || env.ErrorCode != code {
		t.Fatalf("want FAIL %d, got %s", code, env.Raw)
	}
}

// importAccounts imports users into the test app.
func (ts *testServer) importAccounts(users ...string) {
	ts.t.Helper()
	var list []map[string]string
	for _, u := range users {
		list = append(list, map[string]string{"UserID": u})
	}
	mustOK(ts.t, ts.call("im_open_login_svc/multiaccount_import", map[string]any{"AccountList": list}))
}

// createRoom creates a Live room owned by owner.
func (ts *testServer) createRoom(id, owner string) {
	ts.t.Helper()
	mustOK(ts.t, ts.call("live_engine_http_srv/create_room", map[string]any{"RoomInfo": map[string]any{"RoomId": id, "RoomType": "Live", "Owner_Account": owner}}))
}

// callbackRequest is one request the receiver got.
type callbackRequest struct {
	Query   map[string]string
	Header  http.Header
	Body    []byte
	Command string
	RoomID  string
	At      time.Time
}

// receiver is a real HTTP App backend that records callbacks. Its reply is decided by
// Respond, which may be swapped while it runs.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []callbackRequest
	respond func(n int, r callbackRequest, w http.ResponseWriter) // nil: 200 OK
	arrived chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{arrived: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Server.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cr := callbackRequest{Query: map[string]string{}, Header: r.Header.Clone(), Body: body, At: time.Now()}
	for k, v := range r.URL.Query() {
		cr.Query[k] = v[0]
	}
	var head struct {
		CallbackCommand string
		RoomId          string
	}
	json.Unmarshal(body, &head)
	cr.Command, cr.RoomID = head.CallbackCommand, head.RoomId
	rc.mu.Lock()
	n := len(rc.got)
	respond := rc.respond
	rc.mu.Unlock()
	if respond != nil {
		respond(n, cr, w)
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`))
	}
	rc.mu.Lock()
	rc.got = append(rc.got, cr)
	rc.mu.Unlock()
	select {
	case rc.arrived <- struct{}{}:
	default:
	}
}

// setRespond swaps the reply function.
func (rc *receiver) setRespond(f func(n int, r callbackRequest, w http.ResponseWriter)) {
	rc.mu.Lock()
	rc.respond = f
	rc.mu.Unlock()
}

// requests returns a copy of what arrived so far.
func (rc *receiver) requests() []callbackRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]callbackRequest(nil), rc.got...)
}

// waitFor polls until cond holds for the received requests or the deadline passes.
func (rc *receiver) waitFor(t *testing.T, what string, timeout time.Duration, cond func([]callbackRequest) bool) []callbackRequest {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := rc.requests()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; received %d callbacks", what, len(got))
		}
		select {
		case <-rc.arrived:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func itoa(v uint64) string {
	b := []byte{}
	if v == 0 {
		return "0"
	}
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}

func signOf(token string, sec int64) string { return webhookSign(token, sec) }

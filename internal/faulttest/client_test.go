package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
)

// client calls the admin REST API of one app as its admin.
type client struct {
	hc  *http.Client
	app uint64
	sig string
}

// newClient returns a client of app with a fresh admin UserSig and its own connections.
func newClient(t *testing.T, app uint64, key string) *client {
	t.Helper()
	sig, err := usersig.Sign(app, key, adminID, 86400, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	// The timeout is the "never hangs" bound of every call: a healthy roomd answers in
	// milliseconds, a loaded 2-core machine in well under a second.
	return &client{hc: &http.Client{Transport: tr, Timeout: 20 * time.Second}, app: app, sig: sig}
}

// envelope is the Tencent REST reply.
type envelope struct {
	ActionStatus string          `json:"ActionStatus"`
	ErrorCode    int             `json:"ErrorCode"`
	ErrorInfo    string          `json:"ErrorInfo"`
	RequestId    string          `json:"RequestId"`
	Response     json.RawMessage `json:"Response"`
	FailAccounts []string        `json:"FailAccounts"`
}

func (e envelope) ok() bool { return e.ActionStatus == "OK" && e.ErrorCode == 0 }

// query returns the query string of a call as the admin.
func (c *client) query() string {
	return fmt.Sprintf("sdkappid=%d&identifier=%s&usersig=%s&random=%d&contenttype=json",
		c.app, adminID, url.QueryEscape(c.sig), rand.Uint32())
}

// call POSTs body (marshalled unless it is already []byte) to /v4/api. The error is a
// transport failure or a reply that is not an HTTP 200 Tencent envelope; a Tencent error
// code comes back in the envelope with a nil error.
func (c *client) call(ctx context.Context, base, api string, body any) (envelope, error) {
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return envelope{}, err
		}
	}
	return c.raw(ctx, http.MethodPost, base+"/v4/"+api+"?"+c.query(), raw)
}

// raw sends one request and decodes the envelope.
func (c *client) raw(ctx context.Context, method, u string, body []byte) (envelope, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return envelope{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return envelope{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return envelope{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return envelope{}, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return envelope{}, fmt.Errorf("reply is not a Tencent envelope: %v: %.200s", err, b)
	}
	if env.ActionStatus != "OK" && env.ActionStatus != "FAIL" {
		return envelope{}, fmt.Errorf("reply has ActionStatus %q: %.200s", env.ActionStatus, b)
	}
	return env, nil
}

// mustCall makes a call that has to succeed.
func (c *client) mustCall(t *testing.T, base, api string, body any) envelope {
	t.Helper()
	env, err := c.call(context.Background(), base, api, body)
	if err != nil {
		t.Fatalf("%s: %v", api, err)
	}
	if !env.ok() {
		t.Fatalf("%s: error %d: %s", api, env.ErrorCode, env.ErrorInfo)
	}
	return env
}

// importAccounts imports ids (at most 100) and fails the test unless all were imported.
func (c *client) importAccounts(t *testing.T, base string, ids []string) {
	t.Helper()
	env := c.mustCall(t, base, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": ids})
	if len(env.FailAccounts) > 0 {
		t.Fatalf("multiaccount_import failed for %v", env.FailAccounts)
	}
}

// createRoom creates a Live room owned by the admin.
func (c *client) createRoom(t *testing.T, base, id string) {
	t.Helper()
	c.mustCall(t, base, "live_engine_http_srv/create_room", map[string]any{"RoomInfo": map[string]any{"RoomId": id, "RoomType": "Live"}})
}

// roomOwner returns a room's owner as get_room_info reports it.
func (c *client) roomOwner(ctx context.Context, base, id string) (string, error) {
	env, err := c.call(ctx, base, "live_engine_http_srv/get_room_info", map[string]string{"RoomId": id})
	if err != nil {
		return "", err
	}
	if !env.ok() {
		return "", fmt.Errorf("get_room_info %s: error %d: %s", id, env.ErrorCode, env.ErrorInfo)
	}
	var resp struct {
		RoomInfo struct {
			Owner_Account string
		}
	}
	if err := json.Unmarshal(env.Response, &resp); err != nil {
		return "", err
	}
	return resp.RoomInfo.Owner_Account, nil
}

// Receiver modes.
const (
	modeOK   = iota // answer 200 with a JSON object
	mode503         // answer 503
	modeHang        // never answer (until the client gives up or the test ends)
)

// arrival is one request the receiver got.
type arrival struct {
	N      int
	At     time.Time
	ID     string // webhook-id header
	Query  url.Values
	Body   string
	Status int // what the receiver answered; 0 when it hung and never answered
	// HungFor is how long a hung request waited before the client gave up.
	HungFor time.Duration

	// Parsed from Body.
	Command, Room, Current, Original string
}

// receiver is an App backend in the test process that records every request. It can
// answer OK, answer 503, hang, or be down (its listener closed) and come back on the same
// address.
type receiver struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	mode     int
	arrivals []arrival
	srv      *http.Server
	release  chan struct{} // closed to free hung handlers
}

// newReceiver starts a receiver on a free loopback port; it is shut down when the test ends.
func newReceiver(t *testing.T) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, addr: ln.Addr().String(), release: make(chan struct{})}
	r.serve(ln)
	t.Cleanup(func() {
		r.mu.Lock()
		select {
		case <-r.release:
		default:
			close(r.release)
		}
		srv := r.srv
		r.srv = nil
		r.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	})
	return r
}

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 10 * time.Second}
	r.srv = srv
	go srv.Serve(ln)
}

// URL is the callback URL to configure.
func (r *receiver) URL() string { return "http://" + r.addr + "/callback" }

// setMode switches how new requests are answered. Leaving modeHang frees the requests that
// hang at that moment (they end without an answer, as if the backend had crashed).
func (r *receiver) setMode(m int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mode == modeHang && m != modeHang {
		close(r.release)
		r.release = make(chan struct{})
	}
	r.mode = m
}

// down closes the listener and every open connection: callbacks get connection refused.
func (r *receiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (r *receiver) up() {
	r.t.Helper()
	var ln net.Listener
	ok := waitFor(10*time.Second, 50*time.Millisecond, func() bool {
		var err error
		ln, err = net.Listen("tcp", r.addr)
		return err == nil
	})
	if !ok {
		r.t.Fatalf("receiver could not listen on %s again", r.addr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serve(ln)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	a := arrival{At: time.Now(), ID: req.Header.Get("webhook-id"), Query: req.URL.Query(), Body: string(body)}
	var cb struct {
		CallbackCommand                                     string
		RoomId, CurrentOwner_Account, OriginalOwner_Account string
	}
	if json.Unmarshal(body, &cb) == nil {
		a.Command, a.Room, a.Current, a.Original = cb.CallbackCommand, cb.RoomId, cb.CurrentOwner_Account, cb.OriginalOwner_Account
	}
	r.mu.Lock()
	mode, release := r.mode, r.release
	a.N = len(r.arrivals)
	switch mode {
	case modeOK:
		a.Status = http.StatusOK
	case mode503:
		a.Status = http.StatusServiceUnavailable
	}
	r.arrivals = append(r.arrivals, a)
	r.mu.Unlock()

	switch mode {
	case modeOK:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)
	case mode503:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
	case modeHang:
		select {
		case <-req.Context().Done():
		case <-release:
		}
		r.mu.Lock()
		r.arrivals[a.N].HungFor = time.Since(a.At)
		r.mu.Unlock()
		// Hijack and drop the connection so that nothing is answered, even after release.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	}
}

// all returns a copy of every request received so far, in arrival order.
func (r *receiver) all() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]arrival(nil), r.arrivals...)
}

// delivered returns the requests answered 200, in arrival order.
func (r *receiver) delivered() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []arrival
	for _, a := range r.arrivals {
		if a.Status == http.StatusOK {
			out = append(out, a)
		}
	}
	return out
}

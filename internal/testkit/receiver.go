package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// OKReply is the body of the reply that accepts a callback.
const OKReply = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`

// Callback is one request the Receiver got.
type Callback struct {
	// N is the request's place in arrival order, from 0.
	N int
	// At is when it arrived.
	At     time.Time
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// ID is the webhook-id header.
	ID string
	// Command and RoomID are the body's CallbackCommand and RoomId.
	Command, RoomID string
	// Status is what the receiver answered: 0 while the answer is being written, and when
	// the receiver hung and never answered.
	Status int
	// HungFor is how long a hung request waited before the client gave up or the receiver
	// stopped hanging.
	HungFor time.Duration
}

// Mode says how the Receiver answers new callbacks when no Responder is set.
type Mode int

// The modes.
const (
	// ModeOK answers 200 with OKReply.
	ModeOK Mode = iota
	// ModeFail answers 503.
	ModeFail
	// ModeHang never answers: the request waits until the client gives up, the mode
	// changes or the test ends, and then its connection is closed without a reply.
	ModeHang
)

// Responder answers one callback in place of the Mode. r's body can be read again; c is
// the callback as recorded.
type Responder func(w http.ResponseWriter, r *http.Request, c Callback)

// Receiver is an App backend in the test process: a real HTTP server on 127.0.0.1 that
// records every request with its query, headers and body. It answers as its Mode or its
// Responder says, can be taken down and brought back on the same address, and lets a test
// wait for what it received with a deadline.
type Receiver struct {
	t    testing.TB
	addr string

	mu       sync.Mutex
	mode     Mode
	respond  Responder
	got      []Callback
	changed  chan struct{} // closed and replaced whenever got changes
	srv      *http.Server
	release  chan struct{} // closed to free hung requests
	finished bool
}

// NewReceiver starts a receiver on a free loopback port; it is shut down when t ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{t: t, addr: ln.Addr().String(), changed: make(chan struct{}), release: make(chan struct{})}
	r.serve(ln)
	t.Cleanup(func() {
		r.mu.Lock()
		r.finished = true
		close(r.release)
		srv := r.srv
		r.srv = nil
		r.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	})
	return r
}

func (r *Receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 10 * time.Second}
	r.srv = srv
	go srv.Serve(ln)
}

// URL returns the receiver's base URL, http://127.0.0.1:port; callbacks may go to any path
// below it.
func (r *Receiver) URL() string { return "http://" + r.addr }

// SetMode switches how new callbacks are answered. Leaving ModeHang frees the requests
// that hang at that moment (they end without an answer, as if the backend had crashed).
func (r *Receiver) SetMode(m Mode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mode == ModeHang && m != ModeHang && !r.finished {
		close(r.release)
		r.release = make(chan struct{})
	}
	r.mode = m
}

// Respond sets the function that answers new callbacks; nil goes back to the Mode.
func (r *Receiver) Respond(f Responder) {
	r.mu.Lock()
	r.respond = f
	r.mu.Unlock()
}

// Down closes the listener and every open connection: callbacks get connection refused.
func (r *Receiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up listens again on the same address after Down, retrying for up to 10 s while the
// port is not free yet.
func (r *Receiver) Up() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", r.addr)
		if err == nil {
			r.mu.Lock()
			r.serve(ln)
			r.mu.Unlock()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("receiver could not listen on %s again: %v", r.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusWriter remembers the status a Responder wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	c := Callback{At: time.Now(), Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Body: body,
		ID: req.Header.Get("webhook-id")}
	var head struct {
		CallbackCommand string
		RoomId          string
	}
	if json.Unmarshal(body, &head) == nil {
		c.Command, c.RoomID = head.CallbackCommand, head.RoomId
	}
	r.mu.Lock()
	mode, respond, release := r.mode, r.respond, r.release
	c.N = len(r.got)
	r.got = append(r.got, c)
	r.notifyLocked()
	r.mu.Unlock()

	status := 0
	switch {
	case respond != nil:
		req.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w}
		respond(sw, req, c)
		status = sw.status
		if status == 0 {
			status = http.StatusOK
		}
	case mode == ModeOK:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, OKReply)
		status = http.StatusOK
	case mode == ModeFail:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		status = http.StatusServiceUnavailable
	case mode == ModeHang:
		select {
		case <-req.Context().Done():
		case <-release:
		}
		r.mu.Lock()
		r.got[c.N].HungFor = time.Since(c.At)
		r.notifyLocked()
		r.mu.Unlock()
		// Hijack and drop the connection so that nothing is answered, even after release.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	r.mu.Lock()
	r.got[c.N].Status = status
	r.notifyLocked()
	r.mu.Unlock()
}

// notifyLocked wakes the waiters; r.mu is held.
func (r *Receiver) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// All returns every callback received so far, in arrival order.
func (r *Receiver) All() []Callback {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Callback(nil), r.got...)
}

// Delivered returns the callbacks answered with a 2xx status, in arrival order.
func (r *Receiver) Delivered() []Callback { return delivered(r.All()) }

// Unique returns the delivered callbacks, each webhook-id once (its first delivery), in
// arrival order: what a receiver that de-duplicates by webhook-id, as the Standard Webhooks
// headers allow, would process. Callbacks without a webhook-id are all kept.
func (r *Receiver) Unique() []Callback { return unique(r.All()) }

func delivered(all []Callback) []Callback {
	var out []Callback
	for _, c := range all {
		if c.Status >= 200 && c.Status < 300 {
			out = append(out, c)
		}
	}
	return out
}

func unique(all []Callback) []Callback {
	seen := map[string]bool{}
	var out []Callback
	for _, c := range delivered(all) {
		if c.ID != "" && seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out
}

// WaitFor waits until cond holds for the callbacks received so far (in arrival order) and
// returns them; it fails t, naming what, when timeout passes first. It wakes on every
// change, without polling.
func (r *Receiver) WaitFor(t testing.TB, what string, timeout time.Duration, cond func([]Callback) bool) []Callback {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		got := append([]Callback(nil), r.got...)
		changed := r.changed
		r.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("timed out after %s waiting for %s; received %d callbacks, %d delivered", timeout, what, len(got), len(delivered(got)))
		}
	}
}

// WaitN waits until n callbacks arrived, answered or not, and returns every callback.
func (r *Receiver) WaitN(t testing.TB, n int, timeout time.Duration) []Callback {
	t.Helper()
	return r.WaitFor(t, strconv.Itoa(n)+" callbacks", timeout, func(g []Callback) bool { return len(g) >= n })
}

// WaitUnique waits until n distinct webhook-ids were delivered and returns Unique.
func (r *Receiver) WaitUnique(t testing.TB, n int, timeout time.Duration) []Callback {
	t.Helper()
	return unique(r.WaitFor(t, strconv.Itoa(n)+" delivered callbacks", timeout, func(g []Callback) bool { return len(unique(g)) >= n }))
}

package dispatcher

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/netguard"
	"github.com/roomd/roomd/internal/webhook"
)

func newLean(fallback http.RoundTripper) *leanTransport {
	var d net.Dialer
	return &leanTransport{dial: d.DialContext, fallback: fallback, maxIdle: 4, idleTimeout: time.Minute}
}

// rawServer is a cannedServer that answers each request 200 with a JSON object; with
// closeAfter it closes the connection after each reply without announcing it (as a
// backend's keep-alive timeout does).
func rawServer(t *testing.T, closeAfter bool) (addr string, conns, reqs *atomic.Int32) {
	t.Helper()
	return cannedServer(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", closeAfter, false, 0)
}

// captureOne returns the exact bytes of the first request sent to a fresh listener by rt.
func captureOne(t *testing.T, rt http.RoundTripper, mk func(url string) *http.Request) []byte {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var buf bytes.Buffer
		br := bufio.NewReader(io.TeeReader(c, &buf))
		req, err := http.ReadRequest(br)
		if err == nil {
			io.Copy(io.Discard, req.Body)
		}
		got <- buf.Bytes()[:buf.Len()-br.Buffered()]
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
	}()
	resp, err := rt.RoundTrip(mk("http://" + l.Addr().String() + "/cb?tenant=7"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	// The listeners' ports differ between runs: compare with the address taken out.
	return bytes.ReplaceAll(<-got, []byte(l.Addr().String()), []byte("ADDR"))
}

// TestLeanWireBytes pins that the lean transport puts on the wire exactly the bytes
// net/http's Transport writes for the same callback request (plain and signed).
func TestLeanWireBytes(t *testing.T) {
	now := time.Unix(1703589922, 0)
	for _, signed := range []bool{false, true} {
		mk := func(url string) *http.Request {
			cfg := &webhook.Config{App: 1400000000, URL: url}
			if signed {
				cfg.Token, cfg.TokenEnabled, cfg.SigningSecret = "xxxxyyyy", true, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
			}
			req, err := webhook.NewRequest(context.Background(), cfg, webhook.Delivery{ID: "msg_x_1", App: cfg.App,
				Command: webhook.AfterChangeOwner, Body: []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner"}`),
				ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI}, now)
			if err != nil {
				t.Fatal(err)
			}
			return req
		}
		std := http.DefaultTransport.(*http.Transport).Clone()
		std.DisableCompression = true
		defer std.CloseIdleConnections()
		want := captureOne(t, std, mk)
		lean := newLean(std)
		defer lean.CloseIdleConnections()
		got := captureOne(t, lean, mk)
		if !bytes.Equal(got, want) {
			t.Errorf("signed=%v: lean transport wrote\n%q\nnet/http writes\n%q", signed, got, want)
		}
	}
}

func postOK(t *testing.T, rt http.RoundTripper, ctx context.Context, url string) error {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"a":1}`))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(b) != "{}" {
		t.Errorf("reply %d %q", resp.StatusCode, b)
	}
	return nil
}

// TestLeanKeepAlive: sequential requests share one connection.
func TestLeanKeepAlive(t *testing.T) {
	addr, conns, _ := rawServer(t, false)
	lean := newLean(nil)
	defer lean.CloseIdleConnections()
	for range 20 {
		if err := postOK(t, lean, context.Background(), "http://"+addr+"/"); err != nil {
			t.Fatal(err)
		}
	}
	if c := conns.Load(); c != 1 {
		t.Errorf("%d connections for 20 sequential requests, want 1", c)
	}
}

// TestLeanStaleConnection: a backend that closes each connection after its reply (without
// saying so) still gets every request once: the closed idle connection is found out,
// before reuse or at the first read, and the request goes on a new one.
func TestLeanStaleConnection(t *testing.T) {
	addr, conns, reqs := rawServer(t, true)
	lean := newLean(nil)
	defer lean.CloseIdleConnections()
	for i := range 10 {
		if err := postOK(t, lean, context.Background(), "http://"+addr+"/"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if i == 5 {
			// Make the idle connection old enough to be probed before reuse.
			lean.mu.Lock()
			for _, l := range lean.idle {
				for _, lc := range l {
					lc.idleAt = lc.idleAt.Add(-2 * probeIdleAfter)
				}
			}
			lean.mu.Unlock()
		}
	}
	if n := reqs.Load(); n != 10 || conns.Load() != 10 {
		t.Errorf("backend saw %d requests on %d connections, want 10 on 10", n, conns.Load())
	}
}

// TestLeanPeerOpen: the idle probe tells an open connection from one the peer closed.
func TestLeanPeerOpen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if !peerOpen(c) {
		t.Error("open connection reported closed")
	}
	s.Close()
	deadline := time.Now().Add(2 * time.Second)
	for peerOpen(c) {
		if time.Now().After(deadline) {
			t.Fatal("closed connection still reported open")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLeanTimeoutAndCancel: a backend that does not answer ends the request at the
// context's deadline with context.DeadlineExceeded, and at once when it is cancelled.
func TestLeanTimeoutAndCancel(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	lean := newLean(nil)
	defer lean.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := postOK(t, lean, ctx, srv.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %s", d)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel2)
	start = time.Now()
	if err := postOK(t, lean, ctx2, srv.URL); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: err %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

// TestLeanHTTPSFallback: an https:// request goes through the fallback transport (net/http,
// with HTTP/2 where offered).
func TestLeanHTTPSFallback(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		io.WriteString(w, "{}")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	// The callback client's own fallback (NewGuardedClient), trusting the test certificate.
	lean := NewGuardedClient(4, netguard.New(netguard.Options{})).Transport.(*leanTransport)
	lean.fallback.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	defer lean.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
	resp, err := lean.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if p := resp.Header.Get("X-Proto"); p != "HTTP/2.0" {
		t.Errorf("https request went as %s, want HTTP/2.0", p)
	}
	if len(lean.idle) != 0 {
		t.Error("the lean pool holds an https connection")
	}
}

// TestLeanReap: idle connections the backend closed are closed by the reaper, and the
// reaper stops once the pool is empty.
func TestLeanReap(t *testing.T) {
	addr, _, _ := rawServer(t, true)
	lean := newLean(nil)
	defer lean.CloseIdleConnections()
	for range 3 {
		if err := postOK(t, lean, context.Background(), "http://"+addr+"/"); err != nil {
			t.Fatal(err)
		}
	}
	lean.mu.Lock()
	for _, l := range lean.idle {
		for _, lc := range l {
			lc.idleAt = lc.idleAt.Add(-2 * probeIdleAfter)
		}
	}
	lean.mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for {
		lean.reap()
		lean.mu.Lock()
		n, armed := len(lean.idle), lean.reaper != nil
		lean.mu.Unlock()
		if n == 0 && !armed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hosts with idle connections left, reaper armed %v", n, armed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

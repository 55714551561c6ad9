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
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/netguard"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// cannedServer accepts connections on 127.0.0.1; on each it reads requests and answers
// each with reply (written in pieces of at most chunk bytes when chunk > 0); with
// closeAfter it closes the connection after the reply, and with hang it sends nothing and
// waits until the peer goes away.
func cannedServer(t *testing.T, reply string, closeAfter, hang bool, chunk int) (addr string, conns, reqs *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns, reqs = new(atomic.Int32), new(atomic.Int32)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					reqs.Add(1)
					if hang {
						io.Copy(io.Discard, br)
						return
					}
					for b := []byte(reply); len(b) > 0; {
						n := len(b)
						if chunk > 0 {
							n = min(n, chunk)
						}
						if _, err := c.Write(b[:n]); err != nil {
							return
						}
						b = b[n:]
						if chunk > 0 {
							time.Sleep(time.Millisecond)
						}
					}
					if closeAfter {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), conns, reqs
}

// testDispatcher returns a dispatcher for attemptAs alone, sending with a client of its
// own, over the direct path or (direct false) through http.Client as before.
func testDispatcher(t *testing.T, direct bool) *Dispatcher {
	client := NewGuardedClient(4, netguard.New(netguard.Options{}))
	t.Cleanup(client.CloseIdleConnections)
	d := &Dispatcher{o: Options{Clock: clock.Real{}, Client: client}}
	if direct {
		d.lean = client.Transport.(*leanTransport)
	}
	return d
}

// fixedNow is the time of the attempts TestDirectMatchesClient compares (their Sign and
// webhook-timestamp depend on it).
var fixedNow = clock.Func(func() time.Time { return time.Unix(1703589922, 0) })

var testEvent = store.Event{ID: 7, App: 1400000000, RoomID: "r1", Command: string(webhook.AfterChangeOwner),
	Body: []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"r1"}`), ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI}

// comparable returns the parts of an attempt that do not depend on timing.
func comparable(a store.Attempt) store.Attempt {
	a.StartedAt, a.Duration = time.Time{}, 0
	return a
}

// oddReplies are replies, plain and not, that TestDirectMatchesClient sends to both paths.
var oddReplies = []struct {
	name, reply string
	close       bool
}{
	{"ok", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", false},
	{"ok-no-reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}", false},
	{"ok-lower-case", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nCONNECTION: Keep-Alive\r\n\r\n{}", false},
	{"empty-200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
	{"not-json", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n", false},
	{"chunked-ext", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\n\r\n", false},
	{"chunked-trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Sum: 1\r\n\r\n", false},
	{"chunked-bad-size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", true},
	{"chunked-cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}", true},
	{"chunked-trailer-cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n", true},
	{"continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false},
	{"early-hints", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false},
	{"switching", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", true},
	{"http10-until-close", "HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", true},
	{"http10-keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", false},
	{"http11-until-close", "HTTP/1.1 200 OK\r\n\r\n{}", true},
	{"connection-close", "HTTP/1.1 200 OK\r\nConnection: foo, close\r\nContent-Length: 2\r\n\r\n{}", true},
	{"retry-after", "HTTP/1.1 503 Service Unavailable\r\nRetry-After:  120 \r\nContent-Length: 4\r\n\r\nbusy", false},
	{"retry-after-date", "HTTP/1.1 429 Too Many\r\nRetry-After: Wed, 21 Oct 2099 07:28:00 GMT\r\nContent-Length: 0\r\n\r\n", false},
	{"redirect", "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/x\r\nContent-Length: 0\r\n\r\n", false},
	{"redirect-no-location", "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n", false},
	{"no-content", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false},
	{"status-000", "HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\n{}", false},
	{"status-999", "HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\n{}", false},
	{"short-body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", true},
	{"no-body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true},
	{"extra-bytes", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}junk", false},
	{"dup-cl-same", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", false},
	{"dup-cl-differ", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", true},
	{"bad-cl", "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n{}", true},
	{"cl-and-te", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", false},
	{"te-gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}", true},
	{"te-http10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}", true},
	{"malformed-status", "HTTP/1.1 OK\r\n\r\n", true},
	{"malformed-code", "HTTP/1.1 20x OK\r\n\r\n", true},
	{"plus-code", "HTTP/1.1 +20 OK\r\nContent-Length: 2\r\n\r\n{}", true},
	{"http2-version", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", true},
	{"bad-version", "HTTX/1.1 200 OK\r\n\r\n", true},
	{"garbage", "hello\r\n\r\n", true},
	{"garbage-open", "hello\r\n", false},
	{"bad-line-open", "HTTP/1.1 200 OK\r\nno colon\r\n", false},
	{"no-colon", "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}", true},
	{"space-before-colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}", true},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 2\r\n\r\n{}", false},
	{"leading-space", "HTTP/1.1 200 OK\r\n X-A: 1\r\nContent-Length: 2\r\n\r\n{}", true},
	{"bare-lf", "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", false},
	{"ctl-in-value", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\n{}", true},
	{"utf8-value", "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\n{}", false},
	{"empty", "", true},
	{"cut-status", "HTTP/1.1 20", true},
	{"cut-header", "HTTP/1.1 200 OK\r\nContent-Len", true},
	{"long-header", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 6000) + "\r\nContent-Length: 2\r\n\r\n{}", false},
	{"big-body", "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n{" + strings.Repeat(" ", 69998) + "}", false},
	{"exact-limit", "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n{" + strings.Repeat(" ", 65534) + "}", false},
	{"big-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11170\r\n{" + strings.Repeat(" ", 69998) + "}\r\n0\r\n\r\n", false},
	{"big-until-close", "HTTP/1.0 200 OK\r\n\r\n{" + strings.Repeat(" ", 69998) + "}", true},
}

// TestDirectMatchesClient sends each of oddReplies to the direct path and to the
// http.Client path (net/http's reading, as before the direct path) and checks that both
// record the same attempt: request URL and headers, status, reply, error text, and the
// Retry-After taken.
func TestDirectMatchesClient(t *testing.T) {
	for _, c := range oddReplies {
		for _, chunk := range []int{0, 7} {
			if chunk > 0 && len(c.reply) > 2000 {
				continue
			}
			var got [2]store.Attempt
			var reps [2]reply
			var took [2]time.Duration
			addr, _, _ := cannedServer(t, c.reply, c.close, false, chunk)
			for i, direct := range []bool{true, false} {
				d := testDispatcher(t, direct)
				d.o.Clock = fixedNow
				cfg := &webhook.Config{App: testEvent.App, URL: "http://" + addr + "/cb", Timeout: 3 * time.Second,
					Token: "xxxxyyyy", TokenEnabled: true, SigningSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
				start := time.Now()
				got[i], reps[i] = d.attemptAs(context.Background(), cfg, testEvent, "msg_x_7")
				took[i] = time.Since(start)
			}
			// The direct path never waits for more of a reply than net/http does (the
			// server keeps the connection open after the reply unless c.close).
			if took[0] > took[1]+time.Second {
				t.Errorf("%s (pieces of %d): direct path took %s, http.Client path %s", c.name, chunk, took[0], took[1])
			}
			if a, b := comparable(got[0]), comparable(got[1]); a != b {
				t.Errorf("%s (pieces of %d): direct path recorded\n%+v\nhttp.Client path\n%+v", c.name, chunk, a, b)
			}
			if d := reps[0].retryAfter - reps[1].retryAfter; d < -time.Second || d > time.Second {
				t.Errorf("%s: Retry-After %s, http.Client path %s", c.name, reps[0].retryAfter, reps[1].retryAfter)
			}
		}
	}
}

// TestDirectKeepAlive: the direct path keeps a connection for the next attempt after a
// plain reply read to its end, and not after one that asks to close, ends with the
// connection, or leaves bytes unread.
func TestDirectKeepAlive(t *testing.T) {
	for _, c := range []struct {
		name, reply string
		reuse       bool
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", true},
		{"continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true},
		{"http10-keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", true},
		{"not-plain-but-fine", "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\n{}", true},
		{"connection-close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", false},
		{"http10", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", false},
		{"extra-bytes", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}junk", false},
		{"big-body", "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n{" + strings.Repeat(" ", 69998) + "}", false},
	} {
		addr, conns, reqs := cannedServer(t, c.reply, false, false, 0)
		d := testDispatcher(t, true)
		cfg := &webhook.Config{App: testEvent.App, URL: "http://" + addr + "/cb", Timeout: 5 * time.Second}
		for range 3 {
			d.attemptAs(context.Background(), cfg, testEvent, "msg_x_7")
		}
		want := int32(3)
		if c.reuse {
			want = 1
		}
		if n := conns.Load(); n != want || reqs.Load() != 3 {
			t.Errorf("%s: 3 attempts on %d connections (%d requests), want %d", c.name, n, reqs.Load(), want)
		}
	}
}

// TestDirectStaleConnection: a backend that closes each connection after its reply without
// saying so gets every attempt once, as through the lean transport's RoundTrip.
func TestDirectStaleConnection(t *testing.T) {
	addr, conns, reqs := cannedServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true, false, 0)
	d := testDispatcher(t, true)
	cfg := &webhook.Config{App: testEvent.App, URL: "http://" + addr + "/cb", Timeout: 5 * time.Second}
	for i := range 10 {
		if att, _ := d.attemptAs(context.Background(), cfg, testEvent, "msg_x_7"); att.Error != "" {
			t.Fatalf("attempt %d: %s", i, att.Error)
		}
	}
	if reqs.Load() != 10 || conns.Load() != 10 {
		t.Errorf("backend saw %d requests on %d connections, want 10 on 10", reqs.Load(), conns.Load())
	}
}

// TestDirectTimeoutAndStop: a backend that does not answer ends the attempt at its timeout,
// recorded as the http.Client path records it, and at once when the dispatcher's context
// ends (Stop).
func TestDirectTimeoutAndStop(t *testing.T) {
	addr, _, _ := cannedServer(t, "", false, true, 0)
	d := testDispatcher(t, true)
	cfg := &webhook.Config{App: testEvent.App, URL: "http://" + addr + "/cb", Timeout: 100 * time.Millisecond}
	start := time.Now()
	att, _ := d.attemptAs(context.Background(), cfg, testEvent, "msg_x_7")
	if att.Error != "timeout after 100ms" || time.Since(start) > 3*time.Second {
		t.Errorf("attempt to a silent backend: %q after %s", att.Error, time.Since(start))
	}
	cfg.Timeout = time.Minute
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(ErrStopped) })
	start = time.Now()
	att, _ = d.attemptAs(ctx, cfg, testEvent, "msg_x_7")
	if !strings.Contains(att.Error, context.Canceled.Error()) || time.Since(start) > 3*time.Second {
		t.Errorf("attempt cut short by Stop: %q after %s", att.Error, time.Since(start))
	}
}

// TestDirectWorkerGuard: on a worker, the end of the run context reaches the exchange in
// progress through the worker's guard (no context.AfterFunc per attempt): it is cut short
// at once, and the worker makes no exchange after it.
func TestDirectWorkerGuard(t *testing.T) {
	addr, _, reqs := cannedServer(t, "", false, true, 0)
	d := testDispatcher(t, true)
	cfg := &webhook.Config{App: testEvent.App, URL: "http://" + addr + "/cb", Timeout: time.Minute}
	ctx, cancel := context.WithCancelCause(context.Background())
	w := &worker{}
	context.AfterFunc(ctx, w.guard.end) // as Dispatcher.run arms it
	time.AfterFunc(50*time.Millisecond, func() { cancel(ErrStopped) })
	start := time.Now()
	att, _ := d.attemptOn(ctx, w, cfg, testEvent, "msg_x_7")
	if !strings.Contains(att.Error, context.Canceled.Error()) || time.Since(start) > 3*time.Second {
		t.Errorf("attempt cut short by Stop: %q after %s", att.Error, time.Since(start))
	}
	if w.guard.lc != nil {
		t.Error("the guard still names the connection after the attempt")
	}
	n := reqs.Load()
	if att, _ = d.attemptOn(ctx, w, cfg, testEvent, "msg_x_7"); att.Error == "" || reqs.Load() != n {
		t.Errorf("attempt after the end: %q, %d requests (before: %d)", att.Error, reqs.Load(), n)
	}
}

// TestDirectWorkerReply: a worker's kept reply (its string shared, its JSON check not
// repeated) never gives an attempt another outcome than a fresh check: replies that
// alternate between an object, a non-object and bodies longer than the recorded part.
func TestDirectWorkerReply(t *testing.T) {
	long := "{" + strings.Repeat(" ", maxRecordedResponse) + "}"
	longBad := "{" + strings.Repeat(" ", maxRecordedResponse) + "]"
	bodies := []string{"{}", "{}", "[]", "[]", "{}", long, longBad, long, long[:maxRecordedResponse], long[:maxRecordedResponse], "{}"}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(bodies[int(n.Add(1)-1)%len(bodies)]))
	}))
	t.Cleanup(srv.Close)
	d := testDispatcher(t, true)
	cfg := &webhook.Config{App: testEvent.App, URL: srv.URL + "/cb", Timeout: 5 * time.Second}
	w := &worker{}
	for i, b := range bodies {
		att, _ := d.attemptOn(context.Background(), w, cfg, testEvent, "msg_x_7")
		wantOK := isJSONObject([]byte(b))
		if (att.Error == "") != wantOK || att.Response != b[:min(len(b), maxRecordedResponse)] {
			t.Errorf("reply %d (%.10q, %d bytes): error %q, response of %d bytes; want ok=%v", i, b, len(b), att.Error, len(att.Response), wantOK)
		}
	}
}

// TestDirectRefusedAddress: the direct path dials through the guard, and records its
// refusal as the http.Client path does.
func TestDirectRefusedAddress(t *testing.T) {
	addr, _, reqs := cannedServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false, false, 0)
	var got [2]store.Attempt
	for i, direct := range []bool{true, false} {
		client := NewGuardedClient(4, netguard.New(netguard.Options{Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}))
		d := &Dispatcher{o: Options{Clock: clock.Real{}, Client: client}}
		if direct {
			d.lean = client.Transport.(*leanTransport)
		}
		cfg := &webhook.Config{App: testEvent.App, URL: "http://" + addr + "/cb", Timeout: 5 * time.Second}
		got[i], _ = d.attemptAs(context.Background(), cfg, testEvent, "msg_x_7")
	}
	if a, b := comparable(got[0]), comparable(got[1]); a != b || a.Error == "" || reqs.Load() != 0 {
		t.Errorf("refused: direct %+v, http.Client %+v, %d requests", a, b, reqs.Load())
	}
}

// TestDirectWireBytes pins that the direct path writes the bytes the lean transport writes
// for the request webhook.NewRequest makes (TestLeanWireBytes pins those against net/http),
// and records the URL and headers RecordRequest gives, for URLs of every form it takes.
func TestDirectWireBytes(t *testing.T) {
	now := time.Unix(1703589922, 0)
	for _, u := range []string{"http://h.example/cb", "http://h.example:8080/cb?tenant=7", "http://h.example", "http://h.example?",
		"http://127.0.0.1:9/a/b/?x=1&", "http://[::1]:9/cb", "http://h.example/a%20b"} {
		for _, signed := range []bool{false, true} {
			cfg := &webhook.Config{App: 1400000000, URL: u}
			if signed {
				cfg.Token, cfg.TokenEnabled, cfg.SigningSecret = "xxxxyyyy", true, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
				cfg.PreviousSigningSecret, cfg.PreviousSigningUntil = "old", now.Add(time.Hour)
			}
			dl := webhook.Delivery{ID: "msg_x_1", App: cfg.App, Command: webhook.AfterChangeOwner,
				Body: []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner"}`), ClientIP: "10.0.0.1", Platform: webhook.PlatformRESTAPI}
			req, err := webhook.NewRequest(context.Background(), cfg, dl, now)
			if err != nil {
				t.Fatal(err)
			}
			lt := &leanTransport{}
			if !lt.handles(req) {
				t.Fatalf("%s: the lean transport does not take it", u)
			}
			want := appendRequest(nil, req, dl.Body)
			wantURL, wantHeaders := webhook.RecordRequest(req)

			tg := newTarget(u)
			if tg == nil {
				t.Fatalf("%s: not for the direct path", u)
			}
			if tg.host != req.URL.Host {
				t.Errorf("%s: host %q, want %q", u, tg.host, req.URL.Host)
			}
			r := webhook.PrepareRequest(cfg, dl, now)
			fields, ua, ok := directFields(&r, nil)
			if !ok {
				t.Fatalf("%s: headers not plain", u)
			}
			got := appendWire(nil, http.MethodPost, tg.requestURI(r.URL), tg.host, ua, fields, r.Body)
			if !bytes.Equal(got, want) {
				t.Errorf("%s signed=%v: direct path writes\n%q\nlean transport\n%q", u, signed, got, want)
			}
			if r.URL != wantURL || r.RecordedHeaders() != wantHeaders {
				t.Errorf("%s signed=%v: records %q %q, want %q %q", u, signed, r.URL, r.RecordedHeaders(), wantURL, wantHeaders)
			}
		}
	}
}

// TestDirectTargets: URLs that net/http would rewrite or that are not plain http:// take
// the http.Client path.
func TestDirectTargets(t *testing.T) {
	for _, u := range []string{"https://h.example/cb", "HTTP://h.example/cb", "http://user:pw@h.example/cb", "http://h.example/cb#frag",
		"http://h.example/a b", "http://h.example/é", "http://h.example:80x/cb", "http:h.example/cb", "http://", "http:///cb",
		"http://[fe80::1%25eth0]/cb", "http://h.example/a%zz", "ftp://h.example/"} {
		if tg := newTarget(u); tg != nil {
			t.Errorf("%s: taken by the direct path (%+v)", u, tg)
		}
	}
	for u, key := range map[string]string{"http://h.example/cb": "h.example:80", "http://h.example:8080": "h.example:8080", "http://[::1]/": "[::1]:80"} {
		if tg := newTarget(u); tg == nil || tg.key != key {
			t.Errorf("%s: target %+v, want key %s", u, tg, key)
		}
	}
}

// TestPeekHeadLongHeader: a header longer than the connection's buffer is not read by the
// minimal parser (net/http reads it).
func TestPeekHeadLongHeader(t *testing.T) {
	long := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n"
	if _, err := peekHead(bufio.NewReaderSize(strings.NewReader(long), 4096)); !errors.Is(err, errHeadNotPlain) {
		t.Errorf("long header: %v", err)
	}
	short := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n"
	head, err := peekHead(bufio.NewReaderSize(iotestOneByte(short), 4096))
	if err != nil || string(head) != short[:len(short)-len("HTTP/1.1 200 OK\r\n")] {
		t.Errorf("peekHead one byte at a time: %q, %v", head, err)
	}
}

// iotestOneByte returns a reader of s that gives one byte per Read.
func iotestOneByte(s string) io.Reader { return &oneByte{s: s} }

type oneByte struct{ s string }

func (r *oneByte) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

package dispatcher

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/roomd/roomd/internal/webhook"
)

// leanTransport is the callback client's transport for plain http:// App backends: an
// HTTP/1.1 keep-alive client that writes each request with one buffered write and reads
// the reply with a bufio.Reader and http.ReadResponse on the calling goroutine.
// net/http's Transport runs two goroutines per connection (a reader and a writer) and hands
// every request and reply between them over channels; on the owner-change profile those
// connection loops were about 30 % of the process's CPU. Every other request (https://,
// with HTTP/2 where the backend offers it, or anything this transport does not write itself:
// a body of unknown length, a Transfer-Encoding, trailers, a non-ASCII host) goes to
// fallback, the guarded net/http Transport.
//
// The bytes on the wire are those net/http writes for the same request (TestLeanWireBytes
// pins it): request line, Host, User-Agent, Content-Length, then the other headers sorted by
// name, then the body. Connections are dialled through dial (the netguard guard), kept per
// host:port, at most maxIdle idle per host, and dropped after idleTimeout.
type leanTransport struct {
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	fallback    http.RoundTripper
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle map[string][]*leanConn
	// reaper is armed while there are idle connections (reap).
	reaper *time.Timer
}

// leanConn is one keep-alive connection of a leanTransport.
type leanConn struct {
	t     *leanTransport
	key   string
	c     net.Conn
	br    *bufio.Reader
	wbuf  []byte
	nread int64 // bytes read from c in the current exchange
	// rerr is the first read error: every later read returns it too, so that a reply
	// that the minimal parser hands to net/http after a failed read (reply.go) meets the
	// same end of input as if net/http had read it from the start.
	rerr   error
	idleAt time.Time
	reused bool
}

// Read counts what the reply reader takes from the connection, so that a reused
// connection that ends before the first byte of a reply can be told from one that broke
// in the middle of it.
func (lc *leanConn) Read(p []byte) (int, error) {
	if lc.rerr != nil {
		return 0, lc.rerr
	}
	n, err := lc.c.Read(p)
	lc.nread += int64(n)
	lc.rerr = err
	return n, err
}

// probeIdleAfter is how long a connection may sit idle before it is checked (one
// non-blocking peek) for a close by the App backend before reuse. Under load connections
// are reused within milliseconds and never pay for the check.
const probeIdleAfter = time.Second

// aLongTimeAgo is a deadline in the past: setting it unblocks a read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// RoundTrip sends req. A plain http:// request with a known body length is sent on a
// connection of the transport's own; any other goes to the fallback.
func (t *leanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.handles(req) {
		return t.fallback.RoundTrip(req)
	}
	key := req.URL.Host
	if req.URL.Port() == "" {
		key = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body = make([]byte, req.ContentLength)
		_, err := io.ReadFull(req.Body, body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	ctx := req.Context()
	for try := 0; ; try++ {
		lc, err := t.conn(ctx, key, try > 0, time.Time{})
		if err != nil {
			return nil, err
		}
		resp, err := lc.exchange(req, body)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if _, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline is the context's, and may fire a moment before it.
			return nil, context.DeadlineExceeded
		}
		if !lc.resendable(try, err) {
			return nil, err
		}
	}
}

// resendable reports whether the request whose exchange on lc failed with err, on its
// try-th sending, may be sent once more on a newly dialled connection. A reused connection
// that the App backend closed while it was idle (a keep-alive timeout racing this request)
// fails before the first byte of a reply; the backend has not handled the request, so it
// is sent once more, as net/http does for a connection its reader saw closed.
func (lc *leanConn) resendable(try int, err error) bool {
	return lc.reused && lc.nread == 0 && try == 0 && staleConnError(err)
}

// begin starts an exchange on lc: it sets the connection's deadline (the attempt's
// timeout is exact), arms ctx's end (Stop, without a deadline of its own) to unblock the
// read or write at once, and writes wire. The returned exchEnd disarms ctx's end; on an
// error the connection is already closed. ctx's end is armed through g, the worker's
// guard, when g is not nil (no context.AfterFunc per exchange; see connGuard), else with
// context.AfterFunc.
func (lc *leanConn) begin(ctx context.Context, deadline time.Time, wire []byte, g *connGuard) (end exchEnd, err error) {
	if err := lc.c.SetDeadline(deadline); err != nil {
		lc.c.Close()
		return end, err
	}
	if g != nil {
		if !g.hold(lc) {
			lc.c.Close()
			return end, context.Cause(ctx)
		}
		end.guard = g
	} else if ctx.Done() != nil {
		c := lc.c
		end.stop = context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	}
	lc.nread = 0
	if _, err := lc.c.Write(wire); err != nil {
		lc.abort(end)
		return exchEnd{}, err
	}
	return end, nil
}

// exchEnd disarms the end of an exchange's context, armed by begin either with
// context.AfterFunc (stop) or through a worker's guard.
type exchEnd struct {
	stop  func() bool
	guard *connGuard
}

// disarm disarms the context's end; false when it had already happened (the connection's
// deadline was then moved into the past, and the connection may not be reused).
func (e exchEnd) disarm() bool {
	switch {
	case e.guard != nil:
		return e.guard.release()
	case e.stop != nil:
		return e.stop()
	}
	return true
}

// connGuard stands in for a context.AfterFunc per exchange for the dispatcher's workers:
// each worker has one, armed once on the run context (Dispatcher.run), which names the
// connection of the worker's exchange in progress. When the run context ends, end moves
// that connection's deadline into the past, as the AfterFunc did, and refuses any later
// exchange. (A context.AfterFunc per exchange cost an allocation and two trips through
// the run context's lock and children map, shared by every worker.)
type connGuard struct {
	mu    sync.Mutex
	lc    *leanConn
	ended bool
}

// hold names lc as the guarded exchange's connection; false when the context has ended.
func (g *connGuard) hold(lc *leanConn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return false
	}
	g.lc = lc
	return true
}

// release ends the guarded exchange; false when the context ended during it.
func (g *connGuard) release() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lc = nil
	return !g.ended
}

// end is the context's end: the exchange in progress, if any, is unblocked at once.
func (g *connGuard) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ended = true
	if g.lc != nil {
		g.lc.c.SetDeadline(aLongTimeAgo)
	}
}

// handles reports whether the transport writes req itself.
func (t *leanTransport) handles(req *http.Request) bool {
	u := req.URL
	if u == nil || u.Scheme != "http" || u.Host == "" || u.User != nil || req.Close || len(req.TransferEncoding) > 0 || req.Trailer != nil {
		return false
	}
	if req.Method != http.MethodPost && req.Method != http.MethodGet {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength <= 0 {
		return false // unknown length (chunked): net/http's job
	}
	if req.Host != "" && req.Host != u.Host {
		return false
	}
	if !plainToken(u.Host, isHostByte) {
		return false
	}
	for k, vs := range req.Header {
		if !plainToken(k, isTokenByte) {
			return false
		}
		switch k {
		case "Host", "Transfer-Encoding", "Trailer", "Connection", "Content-Length", "Expect":
			return false
		}
		for _, v := range vs {
			if !plainValue(v) {
				return false
			}
		}
	}
	return true
}

// conn returns an idle connection to key, or dials one (always with fresh). A dial ends
// with ctx or at deadline (unless zero).
func (t *leanTransport) conn(ctx context.Context, key string, fresh bool, deadline time.Time) (*leanConn, error) {
	now := time.Now()
	for !fresh {
		t.mu.Lock()
		list := t.idle[key]
		if len(list) == 0 {
			t.mu.Unlock()
			break
		}
		lc := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[key] = list[:len(list)-1]
		t.mu.Unlock()
		idle := now.Sub(lc.idleAt)
		if idle > t.idleTimeout || (idle > probeIdleAfter && !peerOpen(lc.c)) {
			lc.c.Close()
			continue
		}
		lc.reused = true
		return lc, nil
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	c, err := t.dial(ctx, "tcp", key)
	if err != nil {
		return nil, err
	}
	lc := &leanConn{t: t, key: key, c: c}
	lc.br = bufio.NewReaderSize(lc, 4096)
	return lc, nil
}

// put returns lc to the idle pool, or closes it when the pool is full.
func (t *leanTransport) put(lc *leanConn) {
	lc.idleAt = time.Now()
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*leanConn{}
	}
	if list := t.idle[lc.key]; len(list) < t.maxIdle {
		t.idle[lc.key] = append(list, lc)
		if t.reaper == nil {
			t.reaper = time.AfterFunc(reapEvery, t.reap)
		}
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	lc.c.Close()
}

// reapEvery is how often the idle connections are looked over while there are any.
const reapEvery = 5 * time.Second

// reap closes the idle connections that have been idle for longer than idleTimeout, or
// that the App backend has closed (an idle connection has no reader that would notice),
// so that they do not linger as open files.
func (t *leanTransport) reap() {
	now := time.Now()
	var drop []*leanConn
	t.mu.Lock()
	for key, list := range t.idle {
		kept := list[:0]
		for _, lc := range list {
			idle := now.Sub(lc.idleAt)
			if idle > t.idleTimeout || (idle > probeIdleAfter && !peerOpen(lc.c)) {
				drop = append(drop, lc)
				continue
			}
			kept = append(kept, lc)
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = kept
		}
	}
	if len(t.idle) > 0 {
		if t.reaper == nil {
			t.reaper = time.AfterFunc(reapEvery, t.reap)
		} else {
			t.reaper.Reset(reapEvery)
		}
	} else {
		t.reaper = nil
	}
	t.mu.Unlock()
	for _, lc := range drop {
		lc.c.Close()
	}
}

// CloseIdleConnections closes the idle connections (http.Client.CloseIdleConnections).
func (t *leanTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	if t.reaper != nil {
		t.reaper.Stop()
		t.reaper = nil
	}
	t.mu.Unlock()
	for _, list := range idle {
		for _, lc := range list {
			lc.c.Close()
		}
	}
	if c, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// exchange writes req (with body) on lc and reads the reply's header. The reply's body
// gives lc back to the pool when it has been read to its end, or closes it.
func (lc *leanConn) exchange(req *http.Request, body []byte) (*http.Response, error) {
	ctx := req.Context()
	deadline, _ := ctx.Deadline()
	lc.wbuf = appendRequest(lc.wbuf[:0], req, body)
	stop, err := lc.begin(ctx, deadline, lc.wbuf, nil)
	if err != nil {
		return nil, err
	}
	if cap(lc.wbuf) > 64<<10 {
		lc.wbuf = nil // do not keep a large body's buffer on an idle connection
	}
	resp, err := readFinalResponse(lc.br, req)
	if err != nil {
		lc.abort(stop)
		return nil, err
	}
	resp.Body = &leanBody{rc: resp.Body, lc: lc, stop: stop, keep: !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols}
	return resp, nil
}

// readFinalResponse reads the reply to req from br with net/http, passing over the
// informational (1xx) replies that come before it; 101 Switching Protocols is final.
func readFinalResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			resp.Body.Close()
			continue // an informational reply: the real one follows
		}
		return resp, nil
	}
}

// abort ends an exchange that failed: the connection is closed.
func (lc *leanConn) abort(end exchEnd) {
	end.disarm()
	lc.c.Close()
}

// leanBody is a reply body of a leanTransport connection.
type leanBody struct {
	rc   io.ReadCloser
	lc   *leanConn
	stop exchEnd
	keep bool // the connection may carry another request once the body is read
	eof  bool
	done bool
}

func (b *leanBody) Read(p []byte) (int, error) {
	if b.done {
		if b.eof {
			return 0, io.EOF
		}
		return 0, errors.New("read on closed response body")
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
		b.finish()
	} else if err != nil {
		b.keep = false
		b.finish()
	}
	return n, err
}

// Close ends the body; a body not read to its end takes its connection with it.
func (b *leanBody) Close() error {
	if !b.done {
		if b.rc == http.NoBody {
			b.eof = true // an empty body needs no reading
		}
		// A body closed before its end leaves the rest of the reply on the connection,
		// which finish then closes.
		b.finish()
	}
	return nil
}

// finish gives the connection back or closes it, once.
func (b *leanBody) finish() {
	if b.done {
		return
	}
	b.done = true
	b.rc.Close()
	lc := b.lc
	if !b.stop.disarm() {
		b.keep = false // the context ended: the deadline was moved into the past
	}
	if b.keep && b.eof && lc.br.Buffered() == 0 {
		lc.t.put(lc)
		return
	}
	lc.c.Close()
}

// appendRequest appends the HTTP/1.1 request req with body to dst, byte for byte as
// net/http's Request.Write puts it (for the requests handles accepts).
func appendRequest(dst []byte, req *http.Request, body []byte) []byte {
	ua := "Go-http-client/1.1"
	if vs, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(vs) > 0 {
			ua = vs[0]
		}
	}
	var buf [16]webhook.HeaderField
	fields := buf[:0]
	for k, vs := range req.Header {
		if k != "User-Agent" {
			for _, v := range vs {
				fields = append(fields, webhook.HeaderField{Name: k, Value: v})
			}
		}
	}
	return appendWire(dst, req.Method, req.URL.RequestURI(), req.URL.Host, ua, fields, body)
}

// appendWire appends an HTTP/1.1 request to dst as net/http writes it: the request line,
// Host, User-Agent (unless ua is empty), Content-Length (for a POST or a body), then
// fields (User-Agent not among them) sorted by name, the values of one name in their
// order, then the body. fields is sorted in place.
func appendWire(dst []byte, method, uri, host, ua string, fields []webhook.HeaderField, body []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, uri...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	if ua != "" {
		dst = append(dst, "User-Agent: "...)
		dst = append(dst, ua...)
		dst = append(dst, "\r\n"...)
	}
	if len(body) > 0 || method == http.MethodPost {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	// (An insertion sort: a callback has four of them; stable, so one name's values stay
	// in their order.)
	for i := 1; i < len(fields); i++ {
		for j := i; j > 0 && fields[j].Name < fields[j-1].Name; j-- {
			fields[j], fields[j-1] = fields[j-1], fields[j]
		}
	}
	for _, f := range fields {
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// staleConnError reports whether err is how a connection closed by the peer shows.
func staleConnError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// plainToken reports whether s is non-empty and made of bytes ok accepts.
func plainToken(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// isTokenByte reports whether c may appear in a header name (RFC 9110 token).
func isTokenByte(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isHostByte reports whether c may appear in the host:port the transport writes as it is
// (ASCII names, IPv4 and bracketed IPv6 literals; no zones, no percent-encoding).
func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'
}

// plainValue reports whether v is written by net/http unchanged: visible ASCII and inner
// spaces only (no control bytes, no leading or trailing white space, no non-ASCII bytes).
func plainValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return v == "" || (v[0] != ' ' && v[len(v)-1] != ' ')
}

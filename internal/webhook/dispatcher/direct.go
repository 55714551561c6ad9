package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// The dispatcher's direct path. An attempt to a plain http:// App backend, through the
// client NewGuardedClient makes, does not go through http.Client at all: the request is
// written from the webhook.Request (PrepareRequest) with appendWire, byte for byte as
// net/http would write the request NewRequest makes (TestDirectWireBytes), on the lean
// transport's connections; the attempt's timeout is the connection's deadline (no context
// timer); and the reply is read by the minimal parser of reply.go into a reused buffer.
// The attempt's record (URL, headers, status, reply, error texts) is the one the
// http.Client path makes (TestDirectMatchesClient). Anything else — https://, a URL
// net/url would rewrite, a header value net/http would not write as it is — takes the
// http.Client path as before.

// leanTarget is what the direct path needs of a callback URL.
type leanTarget struct {
	key  string // the pool's host:port
	host string // the Host header
	// uriAt is where the request URI starts in the full URL (after the host); slash is
	// set when the URL has no path, so the request URI is "/" and the query.
	uriAt int
	slash bool
}

// maxTargets bounds the cached targets; the cache is emptied when it is full.
const maxTargets = 1024

// targets caches a leanTarget (nil: not for the direct path) per configured URL.
type targets struct {
	mu sync.RWMutex
	m  map[string]*leanTarget
}

// get returns the target of raw, or nil when raw is not for the direct path.
func (ts *targets) get(raw string) *leanTarget {
	ts.mu.RLock()
	tg, ok := ts.m[raw]
	ts.mu.RUnlock()
	if ok {
		return tg
	}
	tg = newTarget(raw)
	ts.mu.Lock()
	if ts.m == nil || len(ts.m) >= maxTargets {
		ts.m = map[string]*leanTarget{}
	}
	ts.m[raw] = tg
	ts.mu.Unlock()
	return tg
}

// newTarget returns the target of the configured URL raw, or nil when raw is not plain:
// http:// with an ASCII host, no user info, no fragment, and a form that net/url keeps
// as it is (so that the recorded URL and the request URI are those the http.Client path
// gives) once the query webhook.RequestURL appends is added.
func newTarget(raw string) *leanTarget {
	const scheme = "http://"
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw, scheme) || u.Scheme != "http" || u.Opaque != "" || u.User != nil ||
		u.Fragment != "" || strings.Contains(raw, "#") || !plainToken(u.Host, isHostByte) || u.String() != raw {
		return nil
	}
	tg := &leanTarget{key: u.Host, host: u.Host, uriAt: len(scheme) + len(u.Host)}
	if raw[:tg.uriAt] != scheme+u.Host {
		return nil
	}
	if u.Port() == "" {
		tg.key = net.JoinHostPort(u.Hostname(), "80")
	}
	rest := raw[tg.uriAt:]
	if rest != "" && rest[0] != '/' && rest[0] != '?' {
		return nil
	}
	tg.slash = rest == "" || rest[0] == '?'
	// Check the request URI against net/url's with a query such as RequestURL appends.
	full := webhook.RequestURL(&webhook.Config{URL: raw}, webhook.Delivery{App: 1, Command: "A.B c", ClientIP: "::1", Platform: "RESTAPI"}, time.Unix(0, 0))
	fu, err := url.Parse(full)
	if err != nil || fu.String() != full || fu.RequestURI() != tg.requestURI(full) || fu.Host != u.Host {
		return nil
	}
	return tg
}

// requestURI returns the request URI of full, the target's URL with its query.
func (tg *leanTarget) requestURI(full string) string {
	if tg.slash {
		return "/" + full[tg.uriAt:]
	}
	return full[tg.uriAt:]
}

// directFields returns r's header fields for the wire, User-Agent apart, in buf (which
// holds all of them), or ok false when one of them is not written by net/http as it is
// (see handles).
func directFields(r *webhook.Request, buf []webhook.HeaderField) (fields []webhook.HeaderField, ua string, ok bool) {
	all := r.AppendHeaders(buf[:0])
	fields = all[:0]
	for _, f := range all {
		if !plainValue(f.Value) {
			return nil, "", false
		}
		if f.Name == "User-Agent" {
			ua = f.Value
			continue
		}
		fields = append(fields, f)
	}
	return fields, ua, ua != ""
}

// leanReply is a reply read by leanTransport.post.
type leanReply struct {
	status               int
	retryAfter, location string
	body                 []byte
	// bodyErr is an error met while reading the body (after the status and header).
	bodyErr error
}

// postReq stands for the request of a reply that http.ReadResponse reads (it looks only at
// the method).
var postReq = &http.Request{Method: http.MethodPost}

// post sends the request wire (written by appendWire) to tg, with the deadline set on the
// connection, and reads the reply, its body into buf[:0]. ctx's end (Stop) unblocks it at once.
// The connection is back in the pool (or closed) when post returns. err is an error before
// the reply's header was read; rep.bodyErr one while reading its body.
func (t *leanTransport) post(ctx context.Context, tg *leanTarget, wire []byte, deadline time.Time, buf []byte, g *connGuard) (rep leanReply, err error) {
	for try := 0; ; try++ {
		lc, err := t.conn(ctx, tg.key, try > 0, deadline)
		if err != nil {
			return rep, err
		}
		rep, err = lc.post(ctx, wire, deadline, buf, g)
		if err == nil {
			return rep, nil
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(deadline) {
			return rep, context.DeadlineExceeded
		}
		if !lc.resendable(try, err) {
			return rep, err
		}
	}
}

// post is one exchange of leanTransport.post on lc.
func (lc *leanConn) post(ctx context.Context, wire []byte, deadline time.Time, buf []byte, g *connGuard) (rep leanReply, err error) {
	stop, err := lc.begin(ctx, deadline, wire, g)
	if err != nil {
		return rep, err
	}
	keep := false
	for {
		head, err := peekHead(lc.br)
		h, ok := replyHead{}, false
		if err == nil {
			h, ok = parseHead(head)
		}
		if !ok {
			// Not a plain reply (or the connection failed): net/http reads it.
			return lc.postStd(stop, buf)
		}
		lc.br.Discard(len(head))
		if h.status >= 100 && h.status < 200 {
			continue // an informational reply: the real one follows
		}
		rep.status = h.status
		if h.retryAfter != nil {
			rep.retryAfter = string(h.retryAfter)
		}
		if h.location != nil {
			rep.location = string(h.location)
		}
		var eof bool
		rep.body, eof, rep.bodyErr = readBody(lc.br, &h, buf)
		keep = eof && rep.bodyErr == nil && !h.close
		break
	}
	lc.finish(stop, keep)
	return rep, nil
}

// postStd reads the reply with net/http's ReadResponse, as exchange does, and its body as
// the http.Client path reads it.
func (lc *leanConn) postStd(stop exchEnd, buf []byte) (rep leanReply, err error) {
	resp, err := readFinalResponse(lc.br, postReq)
	if err != nil {
		lc.abort(stop)
		return rep, err
	}
	rep.status = resp.StatusCode
	rep.retryAfter = resp.Header.Get("Retry-After")
	rep.location = resp.Header.Get("Location")
	var eof bool
	rep.body, eof, rep.bodyErr = readAllLimited(resp.Body, buf[:0])
	if resp.Body == http.NoBody {
		eof = true
	}
	resp.Body.Close()
	lc.finish(stop, eof && rep.bodyErr == nil && !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols)
	return rep, nil
}

// finish ends an exchange whose reply was read: the connection goes back to the pool when
// keep holds, nothing is left unread and ctx has not ended meanwhile; else it is closed.
func (lc *leanConn) finish(stop exchEnd, keep bool) {
	if !stop.disarm() {
		keep = false // ctx ended: the deadline was moved into the past
	}
	if keep && lc.br.Buffered() == 0 && lc.rerr == nil {
		lc.t.put(lc)
		return
	}
	lc.c.Close()
}

// directBufs are the buffers of one attempt over the direct path: the request as written,
// and the reply's body.
type directBufs struct{ wire, body []byte }

// directPool holds directBufs between attempts; a buffer grown past maxKeptBuf is not
// kept.
var directPool = sync.Pool{New: func() any { return &directBufs{wire: make([]byte, 0, 1024), body: make([]byte, 0, 4096)} }}

const maxKeptBuf = 64 << 10

// attemptDirect makes one attempt over the direct path and fills in att; ok is false when
// the attempt is not for it (then nothing was sent and att is as it was).
func (d *Dispatcher) attemptDirect(ctx context.Context, w *worker, cfg *webhook.Config, dl webhook.Delivery, att *store.Attempt, timeout time.Duration) (rep reply, ok bool) {
	tg := d.targets.get(cfg.URL)
	if tg == nil {
		return rep, false
	}
	r := webhook.PrepareRequest(cfg, dl, att.StartedAt)
	var fbuf [5]webhook.HeaderField
	fields, ua, ok := directFields(&r, fbuf[:])
	if !ok {
		return rep, false
	}
	att.URL = cfg.URL
	att.RequestURL, att.RequestHeaders = r.URL, r.RecordedHeaders()
	bufs := directPool.Get().(*directBufs)
	defer func() {
		if cap(bufs.wire) <= maxKeptBuf && cap(bufs.body) <= maxKeptBuf {
			directPool.Put(bufs)
		}
	}()
	bufs.wire = appendWire(bufs.wire[:0], http.MethodPost, tg.requestURI(r.URL), tg.host, ua, fields, r.Body)
	var g *connGuard
	if w != nil {
		g = &w.guard
	}
	res, err := d.lean.post(ctx, tg, bufs.wire, time.Now().Add(timeout), bufs.body, g)
	if res.body != nil {
		bufs.body = res.body[:0]
	}
	att.Duration = d.o.Now().Sub(att.StartedAt)
	if err != nil {
		// The texts of the http.Client path, whose errors are *url.Error.
		att.Error = webhook.TransportError(&url.Error{Op: "Post", URL: r.URL, Err: err})
		if errors.Is(err, context.DeadlineExceeded) {
			att.Error = fmt.Sprintf("timeout after %s", timeout)
		}
		return rep, true
	}
	att.StatusCode = res.status
	// A worker keeps the last reply it recorded: a backend mostly answers alike, and the
	// record then shares the string, and a body already found to be a JSON object is not
	// checked again.
	whole := len(res.body) <= maxRecordedResponse
	if body := res.body[:min(len(res.body), maxRecordedResponse)]; w != nil && string(body) == w.reply {
		att.Response = w.reply
	} else {
		att.Response = string(body)
		if w != nil {
			w.reply, w.replyJSON = att.Response, false
		}
	}
	if res.bodyErr != nil {
		att.Error = "read reply: " + res.bodyErr.Error()
		return rep, true
	}
	if res.status != http.StatusOK {
		att.Error = fmt.Sprintf("HTTP status %d", res.status)
		if msg := webhook.RedirectText(res.status, res.location); msg != "" {
			att.Error = msg
		}
		rep.retryAfter = parseRetryAfter(res.retryAfter, d.o.Now())
		return rep, true
	}
	if w != nil && whole && w.replyJSON {
		return rep, true // this body is w.reply, whole, and a JSON object
	}
	if !isJSONObject(res.body) {
		att.Error = "reply is not a JSON object"
	} else if w != nil && whole {
		w.replyJSON = true // (w.reply is this body)
	}
	return rep, true
}

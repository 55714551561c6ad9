package clientws

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// CloseReason tells why a connection ended; OnClose receives it.
type CloseReason int32

// The reasons a connection ends. The first reason recorded wins: a connection the server
// is closing for a slow reader stays a slow reader even if the client's close frame
// arrives meanwhile.
const (
	// CloseClient: the client sent a close frame (a clean disconnect).
	CloseClient CloseReason = iota + 1
	// CloseConnectionLost: the connection broke without a close frame (reset, EOF, a
	// protocol error of the peer).
	CloseConnectionLost
	// CloseHeartbeatLost: the client did not answer a ping within the heartbeat timeout.
	CloseHeartbeatLost
	// CloseSlowReader: the connection's send queue was full; the client reads too slowly.
	CloseSlowReader
	// CloseFrameTooLarge: the client sent a frame larger than Config.MaxFrameBytes.
	CloseFrameTooLarge
	// CloseServerShutdown: the server is shutting down (Server.Shutdown).
	CloseServerShutdown
	// CloseByServer: the application closed the session (Session.Close).
	CloseByServer
)

var closeReasonNames = [...]string{
	CloseClient:         "client_closed",
	CloseConnectionLost: "connection_lost",
	CloseHeartbeatLost:  "heartbeat_lost",
	CloseSlowReader:     "slow_reader",
	CloseFrameTooLarge:  "frame_too_large",
	CloseServerShutdown: "server_shutdown",
	CloseByServer:       "closed_by_server",
}

// String returns the reason in snake_case, as it appears in logs.
func (r CloseReason) String() string {
	if r > 0 && int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "unknown"
}

// closeFrame returns the close code and reason text the server sends for r.
func (r CloseReason) closeFrame() (websocket.StatusCode, string) {
	switch r {
	case CloseSlowReader:
		return websocket.StatusPolicyViolation, "slow reader: send queue full"
	case CloseHeartbeatLost:
		return websocket.StatusPolicyViolation, "heartbeat lost: no pong in time"
	case CloseFrameTooLarge:
		return websocket.StatusMessageTooBig, "frame too large"
	case CloseServerShutdown:
		return websocket.StatusGoingAway, "server shutting down"
	default:
		return websocket.StatusNormalClosure, ""
	}
}

// ErrSessionClosed is returned by Session.Notify and Hub.Subscribe when the session is
// closing or closed.
var ErrSessionClosed = errors.New("clientws: session closed")

// Session is one authenticated client connection. Its identity (App, UserID, Platform,
// ClientIP, ID) never changes; its methods are safe for concurrent use.
type Session struct {
	id       uint64
	app      uint64
	userID   string
	platform string
	clientIP string

	srv  *Server
	conn *websocket.Conn
	// raw is the connection under conn. The writer writes whole frames (textFrame) to it
	// directly, one system call per batch, under wmu; coder/websocket writes only control
	// frames (pings, pongs, the close frame), each in a single write, through a writer that
	// takes wmu too (lockedWriter), so frames never interleave.
	raw  net.Conn
	wmu  sync.Mutex
	rc   syscall.RawConn // raw's file descriptor (nil for a TLS connection), see send
	rw   rawWriter       // non-blocking writes to rc, under wmu
	ctx  context.Context // cancelled when the connection has ended or must end now
	stop context.CancelFunc

	// Send queue: frames waiting for the writer, bounded by srv.cfg.SendQueue counting
	// the frames the writer has taken but not finished writing. Guarded by qmu.
	qmu     sync.Mutex
	queue   [][]byte
	pending int
	writing bool           // a writer goroutine is draining the queue
	corked  bool           // a request is being handled: frames wait for its response (cork.go)
	hold    *time.Timer    // ends a cork that holds frames for longer than corkHold; nil until needed
	holding bool           // hold is armed
	ended   bool           // the connection has ended: no goroutine may start any more
	force   *time.Timer    // cancels ctx when a close takes longer than CloseGrace
	ping    *time.Timer    // fires the next heartbeat
	bg      sync.WaitGroup // the writer, heartbeat and close goroutines; Add under qmu

	reason atomic.Int32 // CloseReason, set once

	// Hub state, guarded by srv.hub.mu.
	rooms   map[string]struct{}
	removed bool
}

// ID returns the connection's id, unique within the server's process.
func (s *Session) ID() uint64 { return s.id }

// App returns the SDKAppID the session authenticated for.
func (s *Session) App() uint64 { return s.app }

// UserID returns the authenticated user.
func (s *Session) UserID() string { return s.userID }

// Platform returns the declared platform in canonical spelling (Web, Android, iOS,
// Windows, Mac, iPad) or Unknown.
func (s *Session) Platform() string { return s.platform }

// ClientIP returns the client's IP address, taken from the connection's remote address.
func (s *Session) ClientIP() string { return s.clientIP }

// Context returns a context that is cancelled when the connection has ended.
func (s *Session) Context() context.Context { return s.ctx }

// Notify sends a notification to this session alone. It encodes params and enqueues the
// frame without blocking; a full send queue closes the session as a slow reader. It
// returns ErrSessionClosed when the session is closing, or the encoding error.
func (s *Session) Notify(method string, params any) error {
	frame, err := notificationFrame(method, params)
	if err != nil {
		return err
	}
	if !s.enqueue(frame) {
		return ErrSessionClosed
	}
	return nil
}

// Close closes the session from the server side with a normal close (1000) and reason
// CloseByServer. It returns at once; OnClose follows when the connection has ended.
func (s *Session) Close() { s.beginClose(CloseByServer) }

// Reason returns why the session ended, or 0 while it is open.
func (s *Session) Reason() CloseReason { return CloseReason(s.reason.Load()) }

// enqueue appends frame (a whole WebSocket frame, see textFrame) to the send queue without
// blocking, and starts the writer goroutine if none is running. The same frame slice may be
// enqueued to many sessions: it is never modified. It reports false when the session is
// closing or the queue was full (the session is then closed as a slow reader).
func (s *Session) enqueue(frame []byte) bool {
	if s.reason.Load() != 0 {
		return false
	}
	s.qmu.Lock()
	if s.ended {
		s.qmu.Unlock()
		return false
	}
	if s.pending >= s.srv.cfg.SendQueue {
		s.qmu.Unlock()
		s.beginClose(CloseSlowReader)
		return false
	}
	s.queue = append(s.queue, frame)
	s.pending++
	switch {
	case s.writing:
	case s.corked:
		s.holdLocked() // the read loop writes it with the response (cork.go)
	case s.rc != nil:
		s.writing = true // a flusher writes it (flush.go)
		s.srv.hub.wake(s)
	default:
		s.writing = s.goLocked(s.drain)
	}
	s.qmu.Unlock()
	return true
}

// send is enqueue for a publisher that writes to many sessions (Hub.send): when the session
// is idle (no writer, nothing queued), it writes frame to the socket itself, without a
// goroutine and without ever blocking, as far as the socket takes it at once (all of it,
// unless the client has fallen behind by a socket buffer); the rest, and any frame queued
// meanwhile, go through the writer goroutine as enqueue's do. It reports what enqueue does.
func (s *Session) send(frame []byte) bool {
	if s.rc == nil || s.reason.Load() != 0 {
		return s.enqueue(frame)
	}
	s.qmu.Lock()
	if s.ended || s.writing || len(s.queue) > 0 {
		s.qmu.Unlock()
		return s.enqueue(frame)
	}
	s.writing = true // the writer's role: no writer goroutine starts while we write
	s.pending++
	s.qmu.Unlock()
	n := s.tryWrite(frame)
	s.qmu.Lock()
	if n < len(frame) && n >= 0 { // the socket is full: the rest goes first, by the writer
		s.queue = append(s.queue, nil)
		copy(s.queue[1:], s.queue)
		s.queue[0] = frame[n:]
	} else {
		s.pending--
	}
	s.writing = len(s.queue) > 0 && s.goLocked(s.drain)
	s.qmu.Unlock()
	return n >= 0
}

// tryWrite writes frame to the socket without blocking and returns how much of it the
// socket took, or -1 when the session is closing (nothing is written) or the connection
// failed (it is then dropped, and the read loop ends the session).
//
// It checks the reason alone, not s.ctx (whose Err takes a lock: ~0.5 µs per connection of a
// large publish): the context ends only after a reason is recorded (beginClose, serve), and a
// write racing with the teardown fails on the closed descriptor.
func (s *Session) tryWrite(frame []byte) int {
	s.wmu.Lock()
	if s.reason.Load() != 0 {
		s.wmu.Unlock()
		return -1
	}
	n, err := s.rw.write(frame)
	s.wmu.Unlock()
	if err != nil {
		s.conn.CloseNow()
		return -1
	}
	return n
}

// goLocked starts f in a goroutine the teardown waits for, unless the connection has
// ended. s.qmu must be held: Add happens before serve sets ended and Waits.
func (s *Session) goLocked(f func()) bool {
	if s.ended {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

// beginClose records r as the reason (if none is recorded yet) and starts a server-side
// close: a goroutine sends the close frame and waits for the handshake, and if the close
// has not completed after CloseGrace the connection is dropped.
func (s *Session) beginClose(r CloseReason) {
	if !s.reason.CompareAndSwap(0, int32(r)) {
		return
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.ended {
		return
	}
	s.force = time.AfterFunc(s.srv.cfg.CloseGrace, s.stop)
	s.goLocked(func() {
		code, text := r.closeFrame()
		_ = s.conn.Close(code, text)
		s.stop()
	})
}

// drain is the writer: it writes the queued frames in order until the queue is empty, then
// exits. At most one runs at a time (s.writing), so frames go out in the order they were
// enqueued. Frames queued while it writes go out together, in one system call. An idle
// session has no writer goroutine.
func (s *Session) drain() {
	var batch [][]byte
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.writing = false
			if cap(s.queue) > 16 { // keep idle sessions small after a burst
				s.queue = nil
			}
			s.qmu.Unlock()
			return
		}
		batch, s.queue = s.queue, batch[:0]
		s.qmu.Unlock()
		if err := s.writeQueued(batch); err != nil {
			// A write that timed out means a slow reader; any failed write leaves the
			// stream unusable (a frame may be cut), so the connection is dropped at once
			// and the read loop ends the session.
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.reason.CompareAndSwap(0, int32(CloseSlowReader))
			}
			s.conn.CloseNow()
		}
		clear(batch)
		s.qmu.Lock()
		s.pending -= len(batch)
		s.qmu.Unlock()
	}
}

// writeQueued writes frames for the writer: first as much as the socket takes at once,
// without blocking (tryWriteFrames: one send of the joined frames, no deadline to set and
// clear), which is all of them unless the client has fallen behind by a socket buffer; then
// what is left with writeFrames, within WriteTimeout.
func (s *Session) writeQueued(frames [][]byte) error {
	if s.rc == nil {
		return s.writeFrames(frames)
	}
	n := s.tryWriteFrames(frames)
	if n < 0 { // closing (nothing written, as writeFrames drops it) or failed (dropped)
		return nil
	}
	k := 0
	for k < len(frames) && n >= len(frames[k]) {
		n -= len(frames[k])
		k++
	}
	if k == len(frames) {
		return nil
	}
	rest := frames[k:]
	first := rest[0]
	rest[0] = first[n:]
	err := s.writeFrames(rest)
	rest[0] = first
	return err
}

// writeFrames writes whole frames to the connection, in one system call (writev) when there
// are several, within WriteTimeout. A session that is closing writes no more data (its close
// frame may be on the way): the frames are dropped.
func (s *Session) writeFrames(frames [][]byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.reason.Load() != 0 || s.ctx.Err() != nil {
		return nil
	}
	// A session whose context ends while the write waits is unblocked by coder/websocket,
	// which closes the connection when the read loop's context (s.ctx) ends.
	s.raw.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
	var err error
	if len(frames) == 1 {
		_, err = s.raw.Write(frames[0])
	} else {
		bufs := net.Buffers(frames)
		_, err = bufs.WriteTo(s.raw)
	}
	s.raw.SetWriteDeadline(time.Time{})
	return err
}

// lockedWriter is what coder/websocket writes its control frames to: the session's
// connection, under the session's write lock.
type lockedWriter struct{ s *Session }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.wmu.Lock()
	defer w.s.wmu.Unlock()
	return w.s.raw.Write(p)
}

// heartbeat runs when the ping timer fires, in the timer's own goroutine: it pings and
// waits for the pong while the writer stays free to write queued frames (coder/websocket
// interleaves the ping's control frame between data frames). No pong within PingTimeout
// closes the session with CloseHeartbeatLost; a pong arms the next heartbeat.
func (s *Session) heartbeat() {
	s.qmu.Lock()
	if s.ended {
		s.qmu.Unlock()
		return
	}
	s.bg.Add(1)
	s.qmu.Unlock()
	defer s.bg.Done()
	cfg := &s.srv.cfg
	ctx, cancel := context.WithTimeout(s.ctx, cfg.PingTimeout)
	err := s.conn.Ping(ctx)
	timedOut := ctx.Err() != nil
	cancel()
	if err != nil {
		// A ping that fails because the connection is already gone is not a lost
		// heartbeat: the read loop records why the connection ended.
		if timedOut && s.ctx.Err() == nil {
			s.beginClose(CloseHeartbeatLost)
		}
		return
	}
	s.qmu.Lock()
	if !s.ended && s.reason.Load() == 0 {
		s.ping.Reset(cfg.PingInterval)
	}
	s.qmu.Unlock()
}

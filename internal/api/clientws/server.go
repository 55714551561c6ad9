package clientws

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/roomd/roomd/internal/errcode"
)

// Path is the endpoint the client API is served at.
const Path = "/v1/client"

// Identity is who a connection authenticated as.
type Identity struct {
	App    uint64
	UserID string
}

// Authenticator checks a connection's query parameters before the upgrade. sdkAppID is the
// decimal text of the sdkappid parameter (already checked to be a number). An error is
// classified with errcode.Classify(err, errcode.Live) and refused with an HTTP status that
// follows from its code (see Server.ServeHTTP).
type Authenticator func(ctx context.Context, sdkAppID, userID, userSig string) (Identity, error)

// Method handles one request. params is the request's params object ({} when absent). The
// result is encoded as the response's "result" (nil as {}); an error is classified with
// errcode.Classify(err, errcode.Live). ctx is the session's context: it ends when the
// connection does. A method runs on the connection's read loop, so it must return well
// within the heartbeat timeout. params is valid only until the method returns (the
// connection reads its next message into the same memory): a method that keeps any of it
// copies it.
type Method func(ctx context.Context, s *Session, params json.RawMessage) (any, error)

// Config configures a Server. Authenticate and Methods are required; zero values of the
// other fields take the documented defaults.
type Config struct {
	// Authenticate checks sdkappid, userid and usersig before the upgrade.
	Authenticate Authenticator
	// Methods is the dispatch table, by JSON-RPC method name. It is read, never modified.
	Methods map[string]Method
	// OnOpen, if set, is called once a session is registered and before its first request
	// is read.
	OnOpen func(s *Session)
	// OnClose, if set, is called exactly once per opened session, after the connection has
	// ended and the session has left every room of the hub.
	OnClose func(s *Session, reason CloseReason)
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger

	// SendQueue is the number of frames a connection may have waiting to be written;
	// beyond that it is closed as a slow reader. Default 256.
	SendQueue int
	// MaxFrameBytes is the largest message a client may send; a larger one closes the
	// connection with 1009. Default 64 KiB.
	MaxFrameBytes int64
	// PingInterval is the time between the server's pings. Default 25 s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong before the heartbeat is lost.
	// Default 20 s.
	PingTimeout time.Duration
	// WriteTimeout bounds the write of one frame; a write that takes longer means a slow
	// reader. Default 10 s.
	WriteTimeout time.Duration
	// CloseGrace bounds a server-side close: if the close handshake has not completed
	// after it, the connection is dropped. Default 2 s.
	CloseGrace time.Duration
	// OriginPatterns, if set, restricts the Origin header of browser clients (host
	// patterns as path.Match takes them). When empty every origin is accepted: the
	// UserSig in the query authenticates, not a cookie, so cross-site requests gain
	// nothing.
	OriginPatterns []string
}

func (c *Config) setDefaults() {
	if c.SendQueue <= 0 {
		c.SendQueue = 256
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server serves the client API: it authenticates, upgrades, reads and dispatches requests,
// and writes responses and notifications. It is an http.Handler for Path.
type Server struct {
	cfg  Config
	log  *slog.Logger
	hub  *Hub
	base context.Context // parent of every session's context
	kill context.CancelFunc

	nextID atomic.Uint64

	mu       sync.Mutex // guards shutdown and wg.Add
	shutdown bool
	wg       sync.WaitGroup // one per open session
}

// New returns a Server for cfg. It panics if cfg.Authenticate is nil.
func New(cfg Config) *Server {
	if cfg.Authenticate == nil {
		panic("clientws: Config.Authenticate is nil")
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.hub = &Hub{
		rooms: make(map[roomKey]map[*Session]struct{}),
		users: make(map[userKey]map[*Session]struct{}),
	}
	s.base, s.kill = context.WithCancel(context.Background())
	return s
}

// Hub returns the server's hub, through which the application subscribes sessions to
// rooms and publishes notifications.
func (srv *Server) Hub() *Hub { return srv.hub }

// Shutdown refuses new connections, closes every open one with 1001 (going away) and
// reason CloseServerShutdown, and waits until all have ended and OnClose has returned for
// each. If ctx ends first, the remaining connections are dropped at once and Shutdown
// returns ctx's error after they have ended.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.shutdown = true
	srv.mu.Unlock()
	for _, s := range srv.hub.all() {
		s.beginClose(CloseServerShutdown)
	}
	done := make(chan struct{})
	go func() {
		srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		srv.kill()
		return nil
	case <-ctx.Done():
		srv.kill()
		<-done
		return ctx.Err()
	}
}

// platforms maps the lower-case spelling of each known platform to its canonical form.
var platforms = map[string]string{
	"web": "Web", "android": "Android", "ios": "iOS", "windows": "Windows", "mac": "Mac", "ipad": "iPad",
	"macos": "Mac", // the spelling of Tencent's IM docs
}

// NormalizePlatform returns the canonical spelling of a declared platform (Web, Android,
// iOS, Windows, Mac, iPad; matched case-insensitively, and macOS taken as Mac), or Unknown.
func NormalizePlatform(p string) string {
	if c, ok := platforms[strings.ToLower(p)]; ok {
		return c
	}
	return "Unknown"
}

// authError is the JSON body of a connection refused before the upgrade.
type authError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func refuse(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b, _ := json.Marshal(authError{Code: code, Message: message})
	w.Write(append(b, '\n'))
}

// AuthStatus returns the HTTP status a connection refused before the upgrade gets for a
// Tencent code: 401 for UserSig failures, 403 for an unknown SDKAppID and for other
// refusals, 400 for malformed parameters and 500 for internal errors.
func AuthStatus(code int) int {
	switch {
	case code >= errcode.SigExpired && code < errcode.SDKAppIDNotFound:
		return http.StatusUnauthorized
	case code == errcode.SDKAppIDNotFound:
		return http.StatusForbidden
	case code == errcode.BadRequest, code == errcode.BadJSON, code == errcode.BadAccount,
		code == errcode.BadSDKAppID, code == errcode.SDKAppIDMissing, code == errcode.AccountNotString,
		code == errcode.LiveInvalid, code == errcode.AccountInvalid:
		return http.StatusBadRequest
	case code == errcode.LiveInternal, code == errcode.AccountInternal:
		return http.StatusInternalServerError
	default:
		return http.StatusForbidden
	}
}

// ServeHTTP authenticates the request, upgrades it to a WebSocket and serves the session
// until the connection ends. Before the upgrade it refuses, with a JSON body
// {"code":…,"message":…}: a method other than GET (405, 60002), a missing sdkappid (400,
// 60012), a non-numeric sdkappid (400, 60006), a missing userid (400, 60004), a missing
// usersig (401, 70002), any error of Authenticate (AuthStatus of its code) and a server
// that is shutting down (503, 100001).
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		refuse(w, http.StatusMethodNotAllowed, errcode.BadRequest, "the client API is served over GET (a WebSocket upgrade)")
		return
	}
	q := r.URL.Query()
	appText, userID, sig := q.Get("sdkappid"), q.Get("userid"), q.Get("usersig")
	switch {
	case appText == "":
		refuse(w, http.StatusBadRequest, errcode.SDKAppIDMissing, "sdkappid is missing")
		return
	case !isUint(appText):
		refuse(w, http.StatusBadRequest, errcode.BadSDKAppID, "sdkappid is not a number")
		return
	case userID == "":
		refuse(w, http.StatusBadRequest, errcode.BadAccount, "userid is missing")
		return
	case sig == "":
		refuse(w, http.StatusUnauthorized, errcode.SigEmpty, "usersig is missing")
		return
	}
	id, err := srv.cfg.Authenticate(r.Context(), appText, userID, sig)
	if err != nil {
		code, info, internal := errcode.Classify(err, errcode.Live)
		if internal {
			srv.log.Error("client_auth_failed", "sdkappid", appText, "user_id", userID, "err", err)
		}
		refuse(w, AuthStatus(code), code, info)
		return
	}
	srv.mu.Lock()
	down := srv.shutdown
	srv.mu.Unlock()
	if down {
		refuse(w, http.StatusServiceUnavailable, errcode.LiveInternal, "server shutting down")
		return
	}

	opts := &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}
	if len(srv.cfg.OriginPatterns) > 0 {
		opts.OriginPatterns = srv.cfg.OriginPatterns
	} else {
		opts.InsecureSkipVerify = true // authenticated by UserSig, not by cookie
	}
	s := &Session{
		app:      id.App,
		userID:   id.UserID,
		platform: NormalizePlatform(q.Get("platform")),
		clientIP: hostOf(r.RemoteAddr),
		srv:      srv,
	}
	conn, err := websocket.Accept(smallBuffers{w, s}, r, opts)
	if err != nil {
		return // Accept has answered the request
	}
	conn.SetReadLimit(srv.cfg.MaxFrameBytes)
	s.id = srv.nextID.Add(1)
	s.conn = conn
	s.ctx, s.stop = context.WithCancel(srv.base)

	srv.mu.Lock()
	if srv.shutdown {
		srv.mu.Unlock()
		s.stop()
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	srv.wg.Add(1)
	srv.hub.add(s)
	srv.mu.Unlock()

	// The handler returns now, so that net/http lets go of the request and its buffers;
	// the read loop runs in a fresh goroutine with a small stack.
	go func() {
		defer srv.wg.Done()
		srv.serve(s)
	}()
}

// Buffer sizes of an upgraded connection. net/http hands a hijacked connection 4 KiB
// buffers each way; the client API's requests are small (a few hundred bytes), and larger
// ones bypass the buffer, so 1 KiB suffices for reading. coder/websocket writes only control
// frames (at most 127 bytes each; the session writes its data frames itself, see
// Session.raw), so its write buffer only needs to hold one. coder/websocket keeps the bufio
// pair it is given for the connection's life.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 256
)

// smallBuffers hands coder/websocket's Accept a hijacked connection with small buffers,
// whose writes take the session's write lock, and gives the session the raw connection.
type smallBuffers struct {
	http.ResponseWriter
	s *Session
}

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(c, readBufferSize)
	if n := brw.Reader.Buffered(); n > 0 { // bytes the client sent after the request
		b, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), c), max(readBufferSize, n))
		if _, err := br.Peek(n); err != nil { // keep them in br, where Accept looks for them
			c.Close()
			return nil, nil, err
		}
	}
	if err := brw.Writer.Flush(); err != nil { // the 101 response, if still buffered
		c.Close()
		return nil, nil, err
	}
	w.s.raw, w.s.rc = c, rawConn(c)
	w.s.rw.rc = w.s.rc
	return c, bufio.NewReadWriter(br, bufio.NewWriterSize(lockedWriter{w.s}, writeBufferSize)), nil
}

// serve runs the session: OnOpen, the writer goroutine, the read loop, then the teardown
// and OnClose.
func (srv *Server) serve(s *Session) {
	log := srv.log
	log.Debug("client_connected", "conn_id", s.id, "sdkappid", s.app, "user_id", s.userID,
		"platform", s.platform, "client_ip", s.clientIP)
	if srv.cfg.OnOpen != nil {
		srv.cfg.OnOpen(s)
	}
	s.qmu.Lock()
	s.ping = time.AfterFunc(srv.cfg.PingInterval, s.heartbeat)
	s.qmu.Unlock()

	// The read loop reads without a context that can end (see readMessage); when the
	// session's context ends, the socket is closed under coder/websocket (as it does itself
	// for a context that ends: CloseNow would wait for a close handshake in progress),
	// which ends a read or a write in progress.
	unwatch := context.AfterFunc(s.ctx, func() { s.raw.Close() })
	reason := srv.readLoop(s)
	unwatch()
	s.reason.CompareAndSwap(0, int32(reason))
	s.qmu.Lock()
	s.ended = true
	s.ping.Stop()
	if s.hold != nil {
		s.hold.Stop()
	}
	if s.force != nil {
		s.force.Stop()
	}
	s.qmu.Unlock()
	s.stop()
	s.bg.Wait() // the writer, a heartbeat in flight and a server-side close
	s.conn.CloseNow()
	srv.hub.remove(s)
	s.qmu.Lock()
	s.queue, s.pending = nil, 0
	s.qmu.Unlock()
	final := s.Reason()
	log.Debug("client_disconnected", "conn_id", s.id, "user_id", s.userID, "reason", final.String())
	if srv.cfg.OnClose != nil {
		srv.cfg.OnClose(s, final)
	}
}

// readLoop reads and handles frames in arrival order until the connection ends, and
// returns the reason it ended for, as seen from the reading side.
func (srv *Server) readLoop(s *Session) CloseReason {
	for {
		typ, buf, err := s.readMessage()
		if err != nil {
			putReadBuf(buf)
			switch {
			case errors.Is(err, websocket.ErrMessageTooBig):
				return CloseFrameTooLarge
			case websocket.CloseStatus(err) != -1:
				return CloseClient
			default:
				return CloseConnectionLost
			}
		}
		if typ != websocket.MessageText {
			putReadBuf(buf)
			s.enqueue(errorFrame(nil, &Error{Code: CodeInvalidRequest, Message: "invalid request: binary frames are not supported"}))
			continue
		}
		srv.handle(s, *buf)
		putReadBuf(buf)
	}
}

// readBufs holds the buffers messages are read into: a message is handled before the next
// is read, and a method does not keep its params (see Method), so an idle connection holds
// none and a busy one does not allocate one per message.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

// readMessage reads the next message into a buffer of readBufs; the caller hands the
// buffer back with putReadBuf once it is done with the message. It reads with a context
// that never ends: coder/websocket would otherwise register and remove a watch of the
// context for every frame header and payload it reads; serve closes the connection when
// s.ctx ends instead, once per session.
func (s *Session) readMessage() (websocket.MessageType, *[]byte, error) {
	typ, r, err := s.conn.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	buf := readBufs.Get().(*[]byte)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			*buf = b
			if err == io.EOF {
				return typ, buf, nil
			}
			return typ, buf, err
		}
	}
}

// putReadBuf returns a message's buffer to readBufs, unless it grew large.
func putReadBuf(buf *[]byte) {
	if buf != nil && cap(*buf) <= 64<<10 {
		readBufs.Put(buf)
	}
}

// handle decodes and executes one request and enqueues its response. The frames queued for
// the session meanwhile (the method's pushes) are written with the response, by the read
// loop (cork.go).
func (srv *Server) handle(s *Session, data []byte) {
	s.cork()
	if frame := srv.respond(s, data); frame != nil {
		s.enqueue(frame)
	}
	s.uncork()
}

// respond decodes and executes one request and returns its response as a WebSocket frame,
// or nil for a notification.
func (srv *Server) respond(s *Session, data []byte) []byte {
	req, id, ferr := DecodeFrame(data)
	if ferr != nil {
		return errorFrame(id, ferr)
	}
	m := srv.cfg.Methods[req.Method]
	if m == nil {
		if !req.IsNotification() {
			return errorFrame(id, &Error{Code: CodeMethodNotFound, Message: "method not found: " + req.Method})
		}
		return nil
	}
	result, err := call(m, s, req.Params)
	var frame []byte
	if err == nil {
		frame, err = resultFrame(id, result)
		if err != nil {
			err = fmt.Errorf("encode result of %s: %w", req.Method, err)
		}
	}
	if err != nil {
		code, info, internal := errcode.Classify(err, errcode.Live)
		if internal {
			srv.log.Error("client_method_failed", "conn_id", s.id, "user_id", s.userID,
				"method", req.Method, "id", string(id), "err", err)
		}
		frame = errorFrame(id, &Error{Code: code, Message: info})
	}
	if req.IsNotification() {
		return nil
	}
	return frame
}

// call runs m, turning a panic into an internal error.
func call(m Method, s *Session, params json.RawMessage) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("method panicked: %v", p)
		}
	}()
	return m(s.ctx, s, params)
}

func isUint(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// hostOf returns the host part of a RemoteAddr ("1.2.3.4:5678" → "1.2.3.4").
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

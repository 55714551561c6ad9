// Package client is a Go client of roomd's client API: JSON-RPC 2.0 over WebSocket at
// /v1/client (docs/client-protocol.md).
//
// Dial connects and authenticates as one user; Call sends a request and waits for its
// response; server pushes arrive on Notifications. The connection answers the server's
// heartbeat pings by itself, as long as it is open: a goroutine started by Dial reads every
// frame. A Conn is safe for concurrent use; several Calls may be in flight at once.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Options say who to connect as.
type Options struct {
	// SDKAppID, UserID and UserSig authenticate the connection (required).
	SDKAppID uint64
	UserID   string
	UserSig  string
	// Platform is the declared platform: Web, Android, iOS, Windows, Mac or iPad; anything
	// else (or nothing) is recorded by the server as Unknown.
	Platform string
	// NotificationBuffer is the capacity of the Notifications channel. Default 256.
	NotificationBuffer int
	// ReadLimit is the largest frame the client accepts from the server. Default 4 MiB.
	ReadLimit int64
	// HTTPClient, if set, is used for the opening handshake.
	HTTPClient *http.Client
}

// Error is an error response of the server, or a refusal of the connection before the
// upgrade. Code is a Tencent error code (e.g. 100006) for errors of a method and of
// authentication, or a JSON-RPC code (-32700 … -32602) for frames the server could not
// take as a request.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// HTTPStatus is the HTTP status of a connection refused before the upgrade, 0 for
	// the error response of a call.
	HTTPStatus int `json:"-"`
}

func (e *Error) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("roomd refused the connection: HTTP %d, code %d: %s", e.HTTPStatus, e.Code, e.Message)
	}
	return fmt.Sprintf("roomd error %d: %s", e.Code, e.Message)
}

// Notification is a push from the server: a JSON-RPC notification's method and params.
type Notification struct {
	Method string
	Params json.RawMessage
}

// ErrNotificationOverflow ends a connection whose Notifications channel was full when a
// notification arrived: the client stops reading rather than drop pushes silently.
var ErrNotificationOverflow = errors.New("client: notification buffer full; notifications were not consumed")

// ErrClosed is returned by Call on a connection that has ended (see Conn.Err for why).
var ErrClosed = errors.New("client: connection closed")

// Conn is a connection to roomd's client API.
type Conn struct {
	ws     *websocket.Conn
	nextID atomic.Uint64
	notes  chan Notification

	mu      sync.Mutex
	pending map[uint64]chan response
	err     error // why the connection ended; set once, before done is closed

	done chan struct{}
}

type response struct {
	result json.RawMessage
	err    *Error
}

// URL returns the connection URL for endpoint (e.g. ws://127.0.0.1:8080/v1/client) with the
// query parameters of opts added.
func URL(endpoint string, opts Options) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("client: parse url: %w", err)
	}
	q := u.Query()
	q.Set("sdkappid", strconv.FormatUint(opts.SDKAppID, 10))
	q.Set("userid", opts.UserID)
	q.Set("usersig", opts.UserSig)
	if opts.Platform != "" {
		q.Set("platform", opts.Platform)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Dial connects to endpoint (ws:// or wss://, the /v1/client URL) and authenticates as
// opts says. A connection the server refuses before the upgrade returns an *Error with
// HTTPStatus set. ctx bounds the dial only.
func Dial(ctx context.Context, endpoint string, opts Options) (*Conn, error) {
	u, err := URL(endpoint, opts)
	if err != nil {
		return nil, err
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:      opts.HTTPClient,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			e := &Error{HTTPStatus: resp.StatusCode}
			if resp.Body != nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				resp.Body.Close()
				if json.Unmarshal(b, e) != nil || e.Message == "" {
					e.Message = http.StatusText(resp.StatusCode)
				}
			}
			return nil, e
		}
		return nil, fmt.Errorf("client: dial: %w", err)
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = 4 << 20
	}
	ws.SetReadLimit(limit)
	n := opts.NotificationBuffer
	if n <= 0 {
		n = 256
	}
	c := &Conn{
		ws:      ws,
		notes:   make(chan Notification, n),
		pending: make(map[uint64]chan response),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

// frame is any frame from the server.
type frame struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`
}

func (c *Conn) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.finish(err)
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			continue // not JSON-RPC: ignore, as JSON-RPC clients do
		}
		if f.Method != "" && f.ID == nil {
			select {
			case c.notes <- Notification{Method: f.Method, Params: f.Params}:
			default:
				c.finish(ErrNotificationOverflow)
				c.ws.Close(websocket.StatusPolicyViolation, "notification buffer full")
				return
			}
			continue
		}
		id, err := strconv.ParseUint(string(f.ID), 10, 64)
		if err != nil {
			continue // an error with id null answers a frame this client never sends
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- response{result: f.Result, err: f.Error}
		}
	}
}

// finish records why the connection ended (the first reason wins), fails the calls in
// flight and closes Notifications and Done.
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
	close(c.notes)
	close(c.done)
}

// Call sends the request method(params) and waits for its response. params is encoded as
// JSON and must encode to an object (nil sends {}); result, if not nil, receives the
// response's result as json.Unmarshal does. An error response is returned as an *Error.
// If ctx ends first, Call returns ctx's error; the connection stays open and the late
// response is discarded.
func (c *Conn) Call(ctx context.Context, method string, params any, result any) error {
	if err := ctx.Err(); err != nil {
		return err // a call whose context is already done is not sent
	}
	var raw json.RawMessage
	switch p := params.(type) {
	case nil:
		raw = json.RawMessage(`{}`)
	case json.RawMessage:
		raw = p
	default:
		b, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("client: encode params of %s: %w", method, err)
		}
		raw = b
	}
	id := c.nextID.Add(1)
	req, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      uint64          `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}{"2.0", id, method, raw})
	if err != nil {
		return fmt.Errorf("client: encode request %s: %w", method, err)
	}
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return fmt.Errorf("%w: %v", ErrClosed, c.Err())
	}
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, id)
		}
		c.mu.Unlock()
	}
	// The write has its own deadline rather than ctx: coder/websocket closes the connection
	// when a write's context ends mid-frame.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = c.ws.Write(wctx, websocket.MessageText, req)
	cancel()
	if err != nil {
		forget()
		return fmt.Errorf("client: send %s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("%w: %v", ErrClosed, c.Err())
		}
		if r.err != nil {
			return r.err
		}
		if result != nil {
			if err := json.Unmarshal(r.result, result); err != nil {
				return fmt.Errorf("client: decode result of %s: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		forget()
		return ctx.Err()
	}
}

// Notifications returns the channel on which the server's pushes arrive, in the order the
// server sent them. It is buffered (Options.NotificationBuffer); when a notification
// arrives while it is full, the connection is closed with ErrNotificationOverflow rather
// than a push being dropped silently or the reader blocking (which would stop answering
// the server's heartbeats). The channel is closed when the connection ends.
func (c *Conn) Notifications() <-chan Notification { return c.notes }

// Done returns a channel that is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open. A close by the server
// is a websocket.CloseError (its Code and Reason tell why, e.g. 1008 for a slow reader).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection with a normal close (1000) and waits for the reader to
// stop. Closing a connection that has already ended returns nil.
func (c *Conn) Close() error {
	ended := c.Err() != nil
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.done
	if ended || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

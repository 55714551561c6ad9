// Package clientws is the transport of roomd's client API: JSON-RPC 2.0 over WebSocket at
// GET /v1/client. It authenticates connections, decodes frames, dispatches requests to an
// injected method table, and pushes notifications to sessions through a Hub. It knows
// nothing of rooms or members: the application gives it an Authenticator and Methods, and
// subscribes sessions to rooms as its methods decide. docs/client-protocol.md is the
// protocol's user documentation.
//
// # Connection states
//
// A connection goes through four states:
//
//	authenticating ──(Authenticate ok, upgrade)──▶ open ──(close starts)──▶ closing ──▶ closed
//	      │
//	      └─(bad query or UserSig)─▶ refused with an HTTP error and a JSON body; no session
//
// In detail:
//
//   - authenticating: a plain HTTP request. The query (sdkappid, userid, usersig, platform)
//     is checked and Authenticate is called before the upgrade, so a bad UserSig never
//     becomes a WebSocket; it gets an HTTP status and {"code":…,"message":…}.
//   - open: the session is registered in the hub under its user, OnOpen has been called, and
//     one goroutine serves it while it is idle: the read loop (started by the HTTP
//     handler, which returns after the upgrade so that net/http lets go of the request)
//     reads frames and handles them one at a time, in arrival order: a request's response
//     is enqueued before the next frame is read, so a client sees responses in the order
//     it sent requests. A writer goroutine exists only while the send queue is
//     not empty, and a heartbeat goroutine only while a ping waits for its pong.
//   - closing: a reason has been recorded (the first one wins, see CloseReason). For a close
//     the server starts (slow reader, heartbeat lost, shutdown, Session.Close) the writer
//     stops writing data, a close goroutine sends a close frame with the reason's code and
//     waits for the close handshake; if it has not completed within CloseGrace, the
//     connection is dropped. For a close the client starts, or a broken connection, the
//     read loop sees it first.
//   - closed: the read loop has returned, the writer, heartbeat and close goroutines have
//     exited, the connection is closed, the session has left the hub (every room and its
//     user), and OnClose has been called, exactly once, with the recorded reason. Notify and
//     Subscribe on a closed session return ErrSessionClosed.
//
// # Send queue
//
// Every frame a session is sent — responses and notifications alike — goes through one
// bounded queue (Config.SendQueue frames, counting the frame being written). Enqueueing
// never blocks: when the queue is full the session is closed as a slow reader (close code
// 1008), so a client that does not read can never slow a room, a publisher or other
// sessions. A write that takes longer than WriteTimeout is a slow reader too. The queue
// holds whole WebSocket frames (header and payload): the writer writes them to the socket
// itself, all that are queued in one system call (writev), and coder/websocket writes only
// control frames (pings, pongs, close), under the same per-session lock, so frames never
// interleave. A publish to a room encodes and frames the notification once and hands the same
// bytes to each subscriber: in a small room it appends them to each queue under the hub's
// read lock, handing each session that was idle to one of the hub's flushers (flush.go: a
// few short-lived goroutines that write each session's queued frames in one non-blocking
// send, and start the session's writer only for what a full socket did not take); in a
// room of directFanout sessions or more it writes them to each idle session's socket itself, without blocking (non-blocking writes, spread
// over up to GOMAXPROCS goroutines), and queues for the writer only what a full socket did
// not take, or what goes behind frames already queued. An idle session holds no writer
// goroutine and at most a small queue buffer.
//
// While the read loop handles a request, the session is corked (cork.go): frames queued
// meanwhile — the pushes of the change the method commits — do not start the writer but
// wait for the response, and the read loop writes them and the response itself, in one
// non-blocking system call, handing to the writer only what the socket did not take. A
// frame waits at most corkHold (5 ms) for the response; a slower method releases what it
// holds to the writer. Messages are read into pooled buffers, so a method must not keep
// its params after it returns.
//
// # Heartbeats
//
// PingInterval after the connection opens, and PingInterval after each pong, the server
// sends a WebSocket ping from a timer's goroutine and waits up to PingTimeout for the pong
// (the peer's WebSocket library answers pings while it reads; browsers do so natively). No
// pong in time means the heartbeat is lost: the session is closed with CloseHeartbeatLost.
// The writer never waits for a pong: frames queued meanwhile are written at once, and the
// ping's control frame goes out between two data frames. Pongs are read by the read loop,
// so a Method must return well within PingTimeout.
//
// # Failures
//
// A frame that is not JSON answers -32700, one that is not a JSON-RPC 2.0 request object
// -32600 (both with id null), an unknown method -32601, params that are not an object
// -32602. A frame larger than MaxFrameBytes closes the connection with 1009. A method's
// error is classified once by errcode.Classify(err, errcode.Live): its Tencent code and text
// are answered; an unexpected error (or a panic) answers errcode.InternalInfo and is logged
// in full with the connection id and request id.
package clientws

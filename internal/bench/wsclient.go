package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// wsConn is the bench's own WebSocket client for the client API, reduced to what the
// fan-out scenario needs so that 10,000 of them stay cheap: a socket, a 512-byte read
// buffer, no goroutine of its own. The handshake is written by hand; frames from the
// server are unmasked, frames to it are masked (RFC 6455 §5.3), pings are answered with
// pongs as they are read. It is not safe for concurrent use.
type wsConn struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte // the payload of the last frame read; reused
	out []byte // the frame being written; reused
}

// wsURL is the client API endpoint of a server whose REST base URL is base.
func wsURL(base string, app uint64, user, sig, platform string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme = "ws"
	u.Path = "/v1/client"
	u.RawQuery = url.Values{"sdkappid": {strconv.FormatUint(app, 10)}, "userid": {user},
		"usersig": {sig}, "platform": {platform}}.Encode()
	return u, nil
}

// dialWS connects to u (a ws:// URL) and performs the upgrade.
func dialWS(ctx context.Context, u *url.URL) (*wsConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	w := &wsConn{c: c, r: bufio.NewReaderSize(c, 512)}
	status, err := w.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	for {
		line, err := w.r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
		if line == "\r\n" {
			break
		}
	}
	if len(status) < 12 || status[9:12] != "101" {
		// A refused upgrade has a JSON body; read a little of it for the message.
		body := make([]byte, 200)
		n, _ := w.r.Read(body)
		c.Close()
		return nil, fmt.Errorf("upgrade refused: %s %s", bytes.TrimSpace([]byte(status)), body[:n])
	}
	c.SetDeadline(timeZero)
	return w, nil
}

// writeFrame writes one masked frame with opcode op.
func (w *wsConn) writeFrame(op byte, p []byte) error {
	b := append(w.out[:0], 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, mask[:]...)
	for i, c := range p {
		b = append(b, c^mask[i&3])
	}
	w.out = b[:0]
	if cap(w.out) > 4096 {
		w.out = nil
	}
	_, err := w.c.Write(b)
	return err
}

// WriteText sends one text message.
func (w *wsConn) WriteText(p []byte) error { return w.writeFrame(0x1, p) }

var timeZero time.Time

var errWSClosed = errors.New("websocket closed by the server")

// ReadText returns the next text or binary message; the slice is valid until the next
// call. Pings are answered on the way; a close frame ends the connection with errWSClosed.
// Fragmented messages are not expected from roomd and are refused.
func (w *wsConn) ReadText() ([]byte, error) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return nil, err
		}
		if h[0]&0x80 == 0 {
			return nil, errors.New("fragmented message")
		}
		op := h[0] & 0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var x [2]byte
			if _, err := io.ReadFull(w.r, x[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(x[:]))
		case 127:
			var x [8]byte
			if _, err := io.ReadFull(w.r, x[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(x[:])
		}
		if n > 1<<20 {
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		if uint64(cap(w.buf)) < n {
			w.buf = make([]byte, n)
		}
		p := w.buf[:n]
		if _, err := io.ReadFull(w.r, p); err != nil {
			return nil, err
		}
		switch op {
		case 0x1, 0x2:
			if cap(w.buf) > 4096 { // keep idle connections small after a large message
				w.buf = nil
			}
			return p, nil
		case 0x9: // ping
			if err := w.writeFrame(0xA, p); err != nil {
				return nil, err
			}
		case 0x8:
			w.writeFrame(0x8, p[:min(len(p), 2)])
			return nil, errWSClosed
		}
	}
}

// Close closes the socket without a close handshake.
func (w *wsConn) Close() error { return w.c.Close() }

// raiseNoFile raises the soft limit of open files to the hard limit, and the hard limit
// to want when the process may; it returns the soft limit in force.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Max < want {
		up := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			return want, nil
		}
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

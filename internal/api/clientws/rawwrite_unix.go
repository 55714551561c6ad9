//go:build unix

package clientws

import (
	"net"
	"syscall"
)

// rawConn returns the file descriptor of a plain socket (a TCP or Unix connection), or nil
// for a connection that is not one (TLS): Session.send then always queues.
func rawConn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeNonblocking writes p to the socket of rc once, without waiting for room in the
// socket's buffer (Go's sockets are non-blocking): it returns how much was written, 0 when
// the buffer is full, and an error when the connection failed (or was closed).
//
// It writes inside rc.Control, which only holds the descriptor open while it runs, rather
// than rc.Write, which also takes the descriptor's write lock and re-arms its poller state
// for a wait that never comes (a publish to 10,000 connections: ~0.7 µs of ~17 µs per
// connection). The write itself is sysWrite: on Linux a raw send(2) that the scheduler does
// not see as a system call. The caller must keep writes to the connection from
// interleaving: the session's wmu, which every writer of the connection takes.
func writeNonblocking(rc syscall.RawConn, p []byte) (int, error) {
	w := rawWriter{rc: rc}
	return w.write(p)
}

// rawWriter makes writeNonblocking's writes to one socket without allocating: the function
// that rc.Control runs is made once (a closure over the write's arguments and results
// escaped to the heap on every write, three allocations per write and recipient of a
// publish), and the arguments and results pass through the struct. Its user serializes the
// writes (the session's wmu).
type rawWriter struct {
	rc   syscall.RawConn
	p    []byte
	n    int
	werr error
	fn   func(fd uintptr) // w.send, made on the first write
}

// write is writeNonblocking(w.rc, p).
func (w *rawWriter) write(p []byte) (int, error) {
	if w.fn == nil {
		w.fn = w.send
	}
	w.p = p
	err := w.rc.Control(w.fn)
	n, werr := w.n, w.werr
	w.p, w.n, w.werr = nil, 0, nil
	switch {
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}

func (w *rawWriter) send(fd uintptr) {
	for {
		w.n, w.werr = sysWrite(int(fd), w.p)
		if w.werr != syscall.EINTR {
			return // done, also when the buffer is full (EAGAIN): never wait
		}
	}
}

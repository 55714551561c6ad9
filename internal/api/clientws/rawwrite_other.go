//go:build !unix

package clientws

import (
	"errors"
	"net"
	"syscall"
)

// rawConn returns nil: without non-blocking writes of its own, Session.send always queues.
func rawConn(net.Conn) syscall.RawConn { return nil }

func writeNonblocking(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("clientws: no non-blocking writes on this platform")
}

type rawWriter struct{ rc syscall.RawConn }

func (w *rawWriter) write(p []byte) (int, error) { return writeNonblocking(w.rc, p) }

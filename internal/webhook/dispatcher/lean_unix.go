//go:build unix

package dispatcher

import (
	"net"
	"syscall"
)

// peerOpen reports whether an idle connection is still open at the App backend's end: a
// non-blocking peek finds nothing to read (EAGAIN). End of stream, an error, or bytes the
// backend sent unasked all make the connection unfit for another request.
func peerOpen(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return err == nil && open
}

package clientws

import (
	"bytes"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestSysWriteNeverBlocks: the raw write, which the scheduler does not see as a system
// call, returns EAGAIN instead of waiting when the socket is full, even on a descriptor in
// blocking mode (MSG_DONTWAIT), and EPIPE without a signal on a connection the peer closed
// (MSG_NOSIGNAL).
func TestSysWriteNeverBlocks(t *testing.T) {
	server, client := loopbackPair(t)
	server.(*net.TCPConn).SetWriteBuffer(4096)
	client.(*net.TCPConn).SetReadBuffer(4096)
	f, err := server.(*net.TCPConn).File() // a descriptor of its own, put in blocking mode
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		chunk := bytes.Repeat([]byte("x"), 16<<10)
		for {
			n, err := sysWrite(fd, chunk)
			if err == syscall.EAGAIN {
				done <- nil
				return
			}
			if err != nil || n == 0 {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("filling the socket: %v, want EAGAIN at the end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sysWrite blocked on a full socket")
	}

	client.Close()
	var werr error
	eventually(t, "a write to a connection the peer closed fails", func() bool {
		_, werr = sysWrite(fd, []byte("x"))
		return werr != nil && werr != syscall.EAGAIN
	})
	if werr != syscall.EPIPE && werr != syscall.ECONNRESET {
		t.Errorf("write after the peer closed: %v, want EPIPE or ECONNRESET", werr)
	}
}

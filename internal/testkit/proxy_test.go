package testkit

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every line with itself, on a free loopback port.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads it back within d; it reports whether it came.
func roundTrip(c net.Conn, r *bufio.Reader, d time.Duration) bool {
	c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return false
	}
	line, err := r.ReadString('\n')
	return err == nil && line == "ping\n"
}

// The proxy forwards, a reset cut closes and refuses, a blackhole cut holds connections
// without forwarding, and Restore makes new connections work again.
func TestProxy(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	c, r := dial()
	if !roundTrip(c, r, 2*time.Second) {
		t.Fatal("no echo through the proxy")
	}

	p.CutReset()
	if roundTrip(c, r, time.Second) {
		t.Fatal("an open connection still works after CutReset")
	}
	// A new connection is accepted and reset at once: the dial itself may already fail.
	if c2, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second); err == nil {
		defer c2.Close()
		if roundTrip(c2, bufio.NewReader(c2), time.Second) {
			t.Fatal("a new connection works during CutReset")
		}
	}

	p.Restore()
	c3, r3 := dial()
	if !roundTrip(c3, r3, 2*time.Second) {
		t.Fatal("no echo after Restore")
	}

	p.CutBlackhole()
	if roundTrip(c3, r3, 300*time.Millisecond) {
		t.Fatal("an open connection still echoes during CutBlackhole")
	}
	c4, r4 := dial() // accepted, forwarding nothing
	if roundTrip(c4, r4, 300*time.Millisecond) {
		t.Fatal("a new connection echoes during CutBlackhole")
	}
	p.Restore()
	c5, r5 := dial()
	if !roundTrip(c5, r5, 2*time.Second) {
		t.Fatal("no echo after Restore from a blackhole")
	}
	if n := p.Connections(); n != 5 {
		t.Errorf("Connections() = %d, want 5", n)
	}
}

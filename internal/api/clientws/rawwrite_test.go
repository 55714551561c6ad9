//go:build unix

package clientws

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// loopbackPair returns both ends of a TCP connection on 127.0.0.1.
func loopbackPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestWriteNonblocking: the publisher's raw write delivers bytes in order, returns 0 (not
// an error, and without waiting) once the socket's buffers are full, takes more once the
// peer reads, and fails on a closed connection.
func TestWriteNonblocking(t *testing.T) {
	server, client := loopbackPair(t)
	server.(*net.TCPConn).SetWriteBuffer(4096)
	client.(*net.TCPConn).SetReadBuffer(4096)
	rc := rawConn(server)
	if rc == nil {
		t.Fatal("no raw connection for a TCP socket")
	}

	// Fill the socket: the peer reads nothing.
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	var sent bytes.Buffer
	start := time.Now()
	for full := false; !full; {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the socket never filled")
		}
		n, err := writeNonblocking(rc, chunk)
		if err != nil {
			t.Fatalf("write to a live socket: %v", err)
		}
		sent.Write(chunk[:n])
		full = n == 0
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("filling the socket took %s: a write waited", d)
	}

	// The peer reads everything written so far; the socket then takes more.
	got := make([]byte, sent.Len())
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("read %d bytes: %v", len(got), err)
	}
	if !bytes.Equal(got, sent.Bytes()) {
		t.Fatal("the bytes read differ from the bytes written")
	}
	tail := []byte("tail")
	var n int
	var err error
	eventually(t, "the socket takes more after the peer read", func() bool {
		n, err = writeNonblocking(rc, tail)
		return err != nil || n > 0
	})
	if err != nil || n != len(tail) {
		t.Fatalf("write after draining = %d, %v; want %d, nil", n, err, len(tail))
	}
	buf := make([]byte, len(tail))
	if _, err := io.ReadFull(client, buf); err != nil || !bytes.Equal(buf, tail) {
		t.Fatalf("read %q, %v; want %q", buf, err, tail)
	}

	server.Close()
	if _, err := writeNonblocking(rc, tail); err == nil {
		t.Error("write to a closed connection: no error")
	}
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

package clientws_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
)

// rawConn is a WebSocket client reduced to a socket: the handshake is written by hand and
// no goroutine or buffer is kept, so that memory measured in this process is the server's.
func rawConn(tb testing.TB, e *env, user string) net.Conn {
	tb.Helper()
	u, _ := url.Parse(e.http.URL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s?sdkappid=%d&userid=%s&usersig=sig-%s&platform=Web HTTP/1.1\r\nHost: %s\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", clientws.Path, testApp, user, user, u.Host)
	// Read the 101 response byte by byte, so that nothing after it is consumed.
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") {
		if _, err := c.Read(b); err != nil {
			tb.Fatal(err)
		}
		head = append(head, b[0])
	}
	if !strings.HasPrefix(string(head), "HTTP/1.1 101") {
		tb.Fatalf("handshake: %s", head)
	}
	return c
}

// readFrame reads one unmasked server frame and returns its payload.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var x [2]byte
		if _, err := io.ReadFull(r, x[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(x[:]))
	case 127:
		var x [8]byte
		if _, err := io.ReadFull(r, x[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(x[:])
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return p, err
}

func heapAndStacks() (heap, stacks uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// BenchmarkIdleConnectionMemory opens 2,000 idle connections and reports the memory (heap
// and goroutine stacks) each one costs: the server's session, its read goroutine, the
// WebSocket connection with its 1 KiB buffers, and the test's bare client socket (a few
// hundred bytes). Run it with: go test -run XXX -bench IdleConnectionMemory -benchtime 1x
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const n = 2000
	for range b.N {
		e := newEnv(b, clientws.Config{PingInterval: time.Hour, PingTimeout: time.Minute})
		heap0, stack0 := heapAndStacks()
		conns := make([]net.Conn, 0, n)
		for i := range n {
			conns = append(conns, rawConn(b, e, fmt.Sprintf("u%d", i)))
		}
		for range n {
			<-e.opened
		}
		heap1, stack1 := heapAndStacks()
		b.ReportMetric(float64(heap1+stack1-heap0-stack0)/n, "bytes/conn")
		b.ReportMetric(float64(heap1-heap0)/n, "heap-bytes/conn")
		b.ReportMetric(float64(stack1-stack0)/n, "stack-bytes/conn")
		for _, c := range conns {
			c.Close()
		}
		for range n {
			<-e.closed
		}
	}
}

// BenchmarkPublishRoom measures one notification reaching every one of 2,000 connections
// subscribed to a room: from PublishRoom until the last client has read it.
func BenchmarkPublishRoom(b *testing.B) {
	const n = 2000
	e := newEnv(b, clientws.Config{PingInterval: time.Hour, PingTimeout: time.Minute})
	var got sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		c := rawConn(b, e, fmt.Sprintf("u%d", i))
		s := <-e.opened
		if err := e.srv.Hub().Subscribe(s, "big"); err != nil {
			b.Fatal(err)
		}
		go func() {
			r := bufio.NewReaderSize(c, 512)
			<-start
			for {
				if _, err := readFrame(r); err != nil {
					return
				}
				got.Done()
			}
		}()
		b.Cleanup(func() { c.Close() })
	}
	close(start)
	params := map[string]string{"roomId": "big", "userId": "alice", "role": "roomOwner"}
	b.ResetTimer()
	for range b.N {
		got.Add(n)
		if sent, err := e.srv.Hub().PublishRoom(testApp, "big", "onUserRoleChanged", params); err != nil || sent != n {
			b.Fatalf("PublishRoom = %d, %v", sent, err)
		}
		got.Wait()
	}
	b.StopTimer()
}

// TestFrameSentWithHandshake: a client that sends its first frame right behind the
// upgrade request (in the same TCP write) is served: the bytes net/http buffered before the
// hijack reach the connection's own, smaller reader.
func TestFrameSentWithHandshake(t *testing.T) {
	e := newEnv(t, clientws.Config{})
	u, _ := url.Parse(e.http.URL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payload := []byte(`{"jsonrpc":"2.0","id":7,"method":"whoami"}`)
	mask := [4]byte{1, 2, 3, 4}
	frame := append([]byte{0x81, 0x80 | byte(len(payload))}, mask[:]...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	req := fmt.Sprintf("GET %s?sdkappid=%d&userid=bob&usersig=sig-bob&platform=Web HTTP/1.1\r\nHost: %s\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", clientws.Path, testApp, u.Host)
	if _, err := c.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	got, err := readFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `"id":7`) || !strings.Contains(string(got), `"userId":"bob"`) {
		t.Fatalf("response: %s", got)
	}
}

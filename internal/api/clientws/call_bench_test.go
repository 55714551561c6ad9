package clientws_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
)

// BenchmarkCallWithPushes is the client API's owner change reduced to the transport: a
// caller and another member are in a room; the caller's request makes three pushes to the
// room (two onUserRoleChanged and an onSeatListChanged of about a kilobyte, as a change of
// owner does) and is answered. An operation ends when the caller has read its three pushes
// and the response and the other member its three pushes. It reports the process's CPU
// time per operation (the clients' ends are in this process too).
func BenchmarkCallWithPushes(b *testing.B) {
	seats := make([]map[string]any, 16)
	for i := range seats {
		seats[i] = map[string]any{"index": i, "userId": "", "isLocked": false, "isVideoLocked": false, "isAudioLocked": false}
	}
	seatPush := map[string]any{"roomId": "r", "seatList": seats, "seatedList": seats[:1], "leftList": seats[:1]}
	e := newMethodsEnv(b, clientws.Config{PingInterval: time.Hour, PingTimeout: time.Minute}, func(srv func() *clientws.Server) map[string]clientws.Method {
		return map[string]clientws.Method{
			"change": func(_ context.Context, s *clientws.Session, p json.RawMessage) (any, error) {
				var rp struct {
					RoomID, UserID, Role string
				}
				if err := json.Unmarshal(p, &rp); err != nil {
					return nil, err
				}
				h := srv().Hub()
				h.PublishRoom(testApp, "r", "onUserRoleChanged", map[string]any{"roomId": "r", "userId": "b", "userRole": "roomOwner"})
				h.PublishRoom(testApp, "r", "onUserRoleChanged", map[string]any{"roomId": "r", "userId": "a", "userRole": "generalUser"})
				h.PublishRoom(testApp, "r", "onSeatListChanged", seatPush)
				return nil, nil
			},
		}
	})
	caller, other := rawConn(b, e, "a"), rawConn(b, e, "b")
	b.Cleanup(func() { caller.Close(); other.Close() })
	<-e.opened
	<-e.opened
	cr, or := bufio.NewReader(caller), bufio.NewReader(other)
	var wg sync.WaitGroup
	ops := make(chan struct{})
	go func() {
		for range ops {
			for range 3 {
				if _, err := readFrame(or); err != nil {
					panic(err)
				}
			}
			wg.Done()
		}
	}()
	defer close(ops)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		wg.Add(1)
		ops <- struct{}{}
		writeMasked(b, caller, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"change","params":{"roomId":"r","userId":"b","role":"roomOwner"}}`, i))
		for range 4 {
			if _, err := readFrame(cr); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
}

// writeMasked writes payload as one masked text frame, as a client must.
func writeMasked(tb testing.TB, c net.Conn, payload string) {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x81}
	if n := len(payload); n < 126 {
		f = append(f, 0x80|byte(n))
	} else {
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	}
	f = append(f, mask[:]...)
	for i := range len(payload) {
		f = append(f, payload[i]^mask[i%4])
	}
	if _, err := c.Write(f); err != nil {
		tb.Fatal(err)
	}
}

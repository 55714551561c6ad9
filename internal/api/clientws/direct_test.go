package clientws_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
)

// TestLargeRoomDirectWrites: in a room large enough for the publisher to write to idle
// connections itself (Session.send; the test lowers the threshold), frames large enough to fill sockets reach every reading
// client whole and in order (a frame the socket took in part is finished by the writer
// goroutine before the next), and a client that never reads is closed as a slow reader
// without holding the others up.
func TestLargeRoomDirectWrites(t *testing.T) {
	const n = 24
	clientws.SetDirectFanout(t, 2)
	e := newEnv(t, clientws.Config{SendQueue: 8, WriteTimeout: time.Minute, CloseGrace: 200 * time.Millisecond,
		PingInterval: time.Hour, PingTimeout: time.Minute})
	var (
		mu   sync.Mutex
		got  = make([]int, n) // frames received in order, per reading client
		fail error
	)
	for i := range n {
		c := rawConn(t, e, fmt.Sprintf("u%d", i))
		t.Cleanup(func() { c.Close() })
		s := <-e.opened
		if err := e.srv.Hub().Subscribe(s, "big"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			c.(*net.TCPConn).SetReadBuffer(4096) // fills sooner
			continue                             // the slow reader: reads nothing
		}
		go func() {
			r := bufio.NewReaderSize(c, 4096)
			for {
				p, err := readFrame(r)
				if err != nil {
					return
				}
				var note struct {
					Params struct{ Seq int } `json:"params"`
				}
				mu.Lock()
				if json.Unmarshal(p, &note) != nil || note.Params.Seq != got[i] {
					if fail == nil {
						fail = fmt.Errorf("client %d: frame %d is %.60s…", i, got[i], p)
					}
				} else {
					got[i]++
				}
				mu.Unlock()
			}
		}()
	}
	payload := strings.Repeat("x", 60<<10)
	deadline := time.Now().Add(60 * time.Second)
	published := 0
	for slowClosed := false; !slowClosed; published++ {
		if time.Now().After(deadline) {
			t.Fatal("the slow reader was never disconnected")
		}
		if _, err := e.srv.Hub().PublishRoom(testApp, "big", "onReceiveTextMessage", map[string]any{"seq": published, "text": payload}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the reading clients have the frame", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for i := 1; i < n; i++ {
				if got[i] <= published && fail == nil {
					return false
				}
			}
			return true
		})
		select {
		case c := <-e.closed:
			if c.reason != clientws.CloseSlowReader || c.s.UserID() != "u0" {
				t.Fatalf("OnClose(%s, %v), want u0, slow_reader", c.s.UserID(), c.reason)
			}
			slowClosed = true
		default:
		}
	}
	t.Logf("%d frames published before the slow reader was closed", published)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			lo, hi := published, 0
			for i := 1; i < n; i++ {
				lo, hi = min(lo, got[i]), max(hi, got[i])
			}
			t.Logf("frames received: %d to %d of %d", lo, hi, published)
		}
	}()
	eventually(t, "every reading client has every frame", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if fail != nil {
			t.Fatal(fail)
		}
		for i := 1; i < n; i++ {
			if got[i] != published {
				return false
			}
		}
		return true
	})
	if got := e.srv.Hub().RoomSize(testApp, "big"); got != n-1 {
		t.Errorf("after the slow reader left, the room has %d sessions, want %d", got, n-1)
	}
}

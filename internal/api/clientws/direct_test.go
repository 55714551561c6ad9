package clientws_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
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

// TestLargeRoomWritersShareRecipients: the writers of a large publish (several here: the
// test lowers the recipients per writer and per claim, and raises GOMAXPROCS) take the
// recipients from one cursor; every connection of the room gets every frame exactly once
// and in publish order, and the connection of the excepted user gets none.
func TestLargeRoomWritersShareRecipients(t *testing.T) {
	const n, frames = 41, 30
	clientws.SetDirectFanout(t, 2)
	clientws.SetDirectWriters(t, 4, 3)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	e := newEnv(t, clientws.Config{PingInterval: time.Hour, PingTimeout: time.Minute})
	var (
		mu   sync.Mutex
		got  = make([][]int, n) // the seq of every frame each client read, in order
		done sync.WaitGroup
	)
	for i := range n {
		c := rawConn(t, e, fmt.Sprintf("u%d", i))
		t.Cleanup(func() { c.Close() })
		s := <-e.opened
		if err := e.srv.Hub().Subscribe(s, "big"); err != nil {
			t.Fatal(err)
		}
		done.Add(1)
		go func() {
			defer done.Done()
			r := bufio.NewReader(c)
			for {
				p, err := readFrame(r)
				if err != nil {
					return
				}
				var note struct {
					Params struct{ Seq int } `json:"params"`
				}
				if err := json.Unmarshal(p, &note); err != nil {
					t.Errorf("client %d: %v in %.60s", i, err, p)
					return
				}
				mu.Lock()
				got[i] = append(got[i], note.Params.Seq)
				mu.Unlock()
			}
		}()
	}
	for k := range frames {
		sent, err := e.srv.Hub().PublishRoomExcept(testApp, "big", "u0", "onSeq", map[string]int{"seq": k})
		if err != nil || sent != n-1 {
			t.Fatalf("publish %d: sent to %d, %v; want %d", k, sent, err, n-1)
		}
	}
	eventually(t, "every client but u0 has every frame", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < n; i++ {
			if len(got[i]) < frames {
				return false
			}
		}
		return true
	})
	time.Sleep(50 * time.Millisecond) // a duplicate or a frame for u0 would have arrived by now
	mu.Lock()
	defer mu.Unlock()
	if len(got[0]) != 0 {
		t.Errorf("the excepted user got %d frames", len(got[0]))
	}
	for i := 1; i < n; i++ {
		if len(got[i]) != frames {
			t.Errorf("client %d got %d frames, want %d", i, len(got[i]), frames)
			continue
		}
		for k, seq := range got[i] {
			if seq != k {
				t.Fatalf("client %d: frame %d is seq %d (got %v)", i, k, seq, got[i])
			}
		}
	}
}

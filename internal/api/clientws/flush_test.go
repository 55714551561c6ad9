package clientws_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/api/clientws"
)

// TestFlushersKeepOrder: publishes to many small rooms in a row, written by several
// flushers (two sessions a claim), reach every connection complete and in order, with the
// notifications to one user in between.
func TestFlushersKeepOrder(t *testing.T) {
	clientws.SetFlushClaim(t, 2)
	e := newEnv(t, clientws.Config{})
	const conns, rooms, n = 40, 10, 200 // n + n/10 < the queues (256)
	cs := make([]*client.Conn, conns)
	for i := range cs {
		cs[i] = e.dial(t, fmt.Sprintf("u%d", i), "Web")
		if err := cs[i].Call(ctx(t), "enterRoom", map[string]string{"roomId": fmt.Sprintf("r%d", i%rooms)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	hub := e.srv.Hub()
	for seq := range n {
		for r := range rooms {
			if _, err := hub.PublishRoom(testApp, fmt.Sprintf("r%d", r), "onSeq", map[string]int{"seq": seq}); err != nil {
				t.Fatal(err)
			}
		}
		if seq%10 == 0 {
			hub.PublishUser(testApp, "u0", "onSeq", map[string]int{"seq": seq})
		}
	}
	for i, c := range cs {
		for seq := 0; seq < n; seq++ {
			want := []int{seq}
			if i == 0 && seq%10 == 0 {
				want = append(want, seq)
			}
			for _, w := range want {
				select {
				case note := <-c.Notifications():
					var p struct{ Seq int }
					if err := json.Unmarshal(note.Params, &p); err != nil || p.Seq != w {
						t.Fatalf("conn %d: got %s %s, want seq %d", i, note.Method, note.Params, w)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("conn %d: no notification %d (%v)", i, w, c.Err())
				}
			}
		}
	}
}

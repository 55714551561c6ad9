package dispatcher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/testkit"
	"github.com/roomd/roomd/internal/webhook"
)

func ioNopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// fixture is a real store, a real receiver (testkit.Receiver) and a dispatcher between
// them.
type fixture struct {
	st      *sqlite.Store
	configs *webhook.Configs
	rc      *testkit.Receiver
}

// newFixture opens a store and starts a receiver that answers OK, or, when handler is
// given, lets handler answer and answers OK itself when handler returns true.
func newFixture(t *testing.T, handler func(w http.ResponseWriter, r *http.Request) bool) (*fixture, *testkit.Receiver) {
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, configs: webhook.NewConfigs(), rc: testkit.NewReceiver(t)}
	if handler != nil {
		f.rc.Respond(func(w http.ResponseWriter, r *http.Request, _ testkit.Callback) {
			if handler(w, r) {
				io.WriteString(w, testkit.OKReply)
			}
		})
	}
	f.configs.Update(1, func(c *webhook.Config) {
		c.URL = f.rc.URL()
		c.Commands = []string{string(webhook.AfterChangeOwner)}
		c.Retry = webhook.RetryPolicy{Enabled: true, MaxAttempts: 50, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	})
	return f, f.rc
}

// enqueue stores n events per room through the outbox, notifying d when it is given.
func (f *fixture) enqueue(t *testing.T, d *Dispatcher, rooms, n int) {
	var notify func(store.Event)
	if d != nil {
		notify = d.Notify
	}
	f.enqueueVia(t, notify, rooms, n)
}

// enqueueVia is enqueue with notify (nil: none) as the outbox's after-commit hook.
func (f *fixture) enqueueVia(t *testing.T, notify func(store.Event), rooms, n int) {
	ob := webhook.NewOutbox(f.configs, time.Now, notify)
	for i := 1; i <= n; i++ {
		for r := range rooms {
			err := f.st.Tx(context.Background(), func(tx store.Tx) error {
				_, err := ob.Enqueue(context.Background(), tx, webhook.Emit{App: 1, RoomID: fmt.Sprintf("r%d", r), Command: webhook.AfterChangeOwner,
					Body: map[string]any{"CallbackCommand": webhook.AfterChangeOwner, "RoomId": fmt.Sprintf("r%d", r), "Seq": i}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitTotal waits until n distinct events were delivered. At least once: an attempt whose
// reply came too late on a loaded machine is sent again with the same webhook-id; like a
// real receiver, the fixture counts it once.
func (f *fixture) waitTotal(t *testing.T, n int) {
	t.Helper()
	f.rc.WaitUnique(t, n, 20*time.Second)
}

// checkOrder checks that each of rooms got its n events once each, in order.
func (f *fixture) checkOrder(t *testing.T, rooms, n int) {
	t.Helper()
	got := map[string][]int{} // room -> sequence numbers in arrival order
	for _, c := range f.rc.Unique() {
		var b struct {
			RoomId string
			Seq    int
		}
		json.Unmarshal(c.Body, &b)
		got[b.RoomId] = append(got[b.RoomId], b.Seq)
	}
	for r := range rooms {
		seq := got[fmt.Sprintf("r%d", r)]
		if len(seq) != n {
			t.Errorf("room r%d got %d callbacks, want %d", r, len(seq), n)
			continue
		}
		for i, s := range seq {
			if s != i+1 {
				t.Errorf("room r%d out of order: %v", r, seq)
				break
			}
		}
	}
}

package dispatcher_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/webhook"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

// The per-app in-flight limit bounds the requests the App backend sees at once, even
// though a slot is given back as soon as the backend answers (before the attempt is
// recorded); every room's callbacks still arrive once each, in order.
func TestInFlightLimitBoundsRequestsToTheBackend(t *testing.T) {
	const (
		limit   = 3
		rooms   = 20
		perRoom = 5
	)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	var (
		now, peak atomic.Int64
		mu        sync.Mutex
		got       = map[string][]int{}
		seen      = map[string]bool{} // webhook-ids received
		total     int
		all       = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond) // long enough for requests to overlap
		body, _ := io.ReadAll(r.Body)
		var b struct {
			RoomId string
			Seq    int
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Errorf("callback body %q: %v", body, err)
		}
		mu.Lock()
		// At least once: an attempt whose reply came too late is sent again with the same
		// webhook-id; like a real receiver, count it once.
		if id := r.Header.Get("webhook-id"); !seen[id] {
			seen[id] = true
			got[b.RoomId] = append(got[b.RoomId], b.Seq)
			if total++; total == rooms*perRoom {
				close(all)
			}
		}
		mu.Unlock()
		w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`))
	}))
	t.Cleanup(srv.Close)

	configs := webhook.NewConfigs()
	configs.Update(1, func(c *webhook.Config) {
		c.URL = srv.URL
		c.Commands = []string{string(webhook.AfterChangeOwner)}
	})
	ob := webhook.NewOutbox(configs, time.Now, nil)
	err = st.Tx(ctx, func(tx store.Tx) error {
		for i := 1; i <= perRoom; i++ {
			for r := range rooms {
				room := fmt.Sprintf("r%d", r)
				if _, err := ob.Enqueue(ctx, tx, webhook.Emit{App: 1, RoomID: room, Command: webhook.AfterChangeOwner,
					Body: map[string]any{"RoomId": room, "Seq": i}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	d := dispatcher.New(dispatcher.Options{Store: st, Configs: configs, Workers: 16, MaxInFlightPerApp: limit})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})

	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("delivered %d of %d", total, rooms*perRoom)
	}
	if p := peak.Load(); p > limit {
		t.Errorf("%d requests in flight at once, limit %d", p, limit)
	}
	mu.Lock()
	defer mu.Unlock()
	// Every room got exactly its callbacks, in order; a room that got none fails too (the
	// length is checked outside the loop over what arrived), and so do callbacks for a room
	// that does not exist.
	for r := range rooms {
		room := fmt.Sprintf("r%d", r)
		seq := got[room]
		if len(seq) != perRoom {
			t.Errorf("room %s got %d callbacks, want %d: %v", room, len(seq), perRoom, seq)
			continue
		}
		for i, s := range seq {
			if s != i+1 {
				t.Errorf("room %s out of order: %v", room, seq)
				break
			}
		}
	}
	if len(got) != rooms {
		t.Errorf("callbacks for %d rooms, want %d", len(got), rooms)
	}
}

package dispatcher_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/webhook"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

// BenchmarkDelivery measures delivery: b.N After-callbacks stored over 1,000 rooms before
// the dispatcher starts (the drain of a backlog), delivered to a real HTTP receiver on
// 127.0.0.1, each attempt recorded in the SQLite file. It reports events/s and the
// process's CPU time per event (the receiver's share included).
func BenchmarkDelivery(b *testing.B) {
	const rooms = 1000
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "roomd.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	reply := []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	}))
	defer srv.Close()
	configs := webhook.NewConfigs()
	configs.Update(1, func(c *webhook.Config) {
		c.URL = srv.URL + "/callback"
		c.Commands = []string{string(webhook.AfterChangeOwner)}
	})

	// The backlog, stored 500 events per transaction.
	ob := webhook.NewOutbox(configs, time.Now, nil)
	for i := 0; i < b.N; {
		err := st.Tx(ctx, func(tx store.Tx) error {
			for n := 0; n < 500 && i < b.N; n, i = n+1, i+1 {
				room := fmt.Sprintf("room-%d", i%rooms)
				_, err := ob.Enqueue(ctx, tx, webhook.Emit{App: 1, RoomID: room, Command: webhook.AfterChangeOwner,
					ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI,
					Body: webhook.ChangeOwner{CallbackCommand: webhook.AfterChangeOwner, RoomId: room, EventTime: time.Now().UnixMilli(),
						Operator_Account: "administrator", CurrentOwner_Account: "owner-1", OriginalOwner_Account: "owner-0"}})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}

	var delivered atomic.Int64
	done := make(chan struct{})
	d := dispatcher.New(dispatcher.Options{Store: st, Configs: configs, Observer: func(r dispatcher.Result) {
		if r.State != store.EventDelivered {
			b.Errorf("event %d: %s after attempt %d: %s", r.Event.ID, r.State, r.Attempt.N, r.Attempt.Error)
		}
		if delivered.Add(1) == int64(b.N) {
			close(done)
		}
	}})
	defer d.Stop(ctx)
	cpu0 := cpuNow()
	batches0, calls0 := st.GroupStats()
	b.ResetTimer()
	start := time.Now()
	if err := d.Start(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		b.Fatalf("delivered %d of %d", delivered.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(cpuNow()-cpu0)/float64(b.N), "cpu-ns/op")
	if batches, calls := st.GroupStats(); batches > batches0 {
		b.ReportMetric(float64(b.N)/float64(batches-batches0), "events/commit")
		b.ReportMetric(float64(calls-calls0)/float64(batches-batches0), "tx/commit")
	}
}

// cpuNow is the CPU time of the process so far. On a shared machine the CPU time per
// operation varies much less than the wall time per operation.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

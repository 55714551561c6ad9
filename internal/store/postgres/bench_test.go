package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// BenchmarkTxParallel commits an event insert from many goroutines at once, as in package
// sqlite, in three set-ups of one run: one store without the write lock (the driver before
// several nodes, the baseline), one store with it, and two stores on one database with it
// (two nodes, the goroutines split between them). It reports Tx calls per second and per
// database transaction (group commit).
func BenchmarkTxParallel(b *testing.B) {
	for _, c := range []struct {
		name   string
		nodes  int
		noLock bool
	}{{"one-node-nolock", 1, true}, {"one-node", 1, false}, {"two-nodes", 2, false}} {
		b.Run(c.name, func(b *testing.B) {
			dsn := testkit.PostgresDatabase(b)
			stores := make([]*Store, c.nodes)
			for i := range stores {
				s, err := Open(context.Background(), Options{DSN: dsn})
				if err != nil {
					b.Fatal(err)
				}
				s.noLock = c.noLock
				b.Cleanup(func() { s.Close() })
				stores[i] = s
			}
			ctx := context.Background()
			var ops, next atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				s := stores[int(next.Add(1))%len(stores)]
				for pb.Next() {
					n := ops.Add(1)
					err := s.Tx(ctx, func(tx store.Tx) error {
						ev := store.Event{App: 1, RoomID: fmt.Sprintf("r%d", n%64), Command: "Live.CallbackAfterChangeOwner",
							Body: []byte(`{}`), CreatedAt: time.UnixMilli(1), State: store.EventPending, NextAttemptAt: time.UnixMilli(1)}
						return tx.EventInsert(ctx, &ev)
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(ops.Load())/b.Elapsed().Seconds(), "ops/s")
			var batches, calls uint64
			for _, s := range stores {
				bt, cl := s.GroupStats()
				batches, calls = batches+bt, calls+cl
			}
			b.ReportMetric(float64(calls)/float64(max(batches, 1)), "calls/group")
		})
	}
}

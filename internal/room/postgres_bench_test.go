package room_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/testkit"
	"github.com/roomd/roomd/internal/webhook"
)

// pgBenchService is benchService on PostgreSQL: a fresh schema of the test server
// (ROOMD_TEST_POSTGRES_DSN), the same accounts and rooms.
func pgBenchService(b *testing.B, command webhook.Command, rooms int) *room.Service {
	b.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgres.Options{DSN: testkit.PostgresSchema(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	configs := webhook.NewConfigs()
	configs.Update(benchApp, func(c *webhook.Config) {
		c.URL = "http://127.0.0.1:9/callback"
		c.Commands = []string{string(command)}
	})
	now := time.Now
	svc := room.NewService(st, webhook.NewOutbox(configs, now, func(store.Event) {}), now)
	err = st.Tx(ctx, func(tx store.Tx) error {
		for _, u := range []string{"admin", "owner-0", "owner-1"} {
			if _, err := tx.AccountUpsert(ctx, store.Account{App: benchApp, UserID: u, CreatedAt: now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	actor := room.Actor{App: benchApp, Operator: "admin", ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	for i := range rooms {
		if _, err := svc.Create(ctx, actor, room.CreateParams{ID: fmt.Sprintf("r%d", i), Owner: "owner-0", Info: restRoomInfo}); err != nil {
			b.Fatal(err)
		}
	}
	return svc
}

// BenchmarkPostgres measures BenchmarkChangeOwner's parallel case and BenchmarkCreateRoom
// on PostgreSQL: the CPU of this process per operation (the server's is not counted, as
// roomd bench counts roomd's own).
func BenchmarkPostgres(b *testing.B) {
	actor := room.Actor{App: benchApp, Operator: "admin", ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	ctx := context.Background()
	b.Run("ChangeOwner", func(b *testing.B) {
		const callers, perCaller = 64, 16
		svc := pgBenchService(b, webhook.AfterChangeOwner, callers*perCaller)
		owners := []string{"owner-1", "owner-0"}
		var next atomic.Int64
		b.SetParallelism((callers + 1) / 2)
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuNow())
		b.RunParallel(func(pb *testing.PB) {
			base := int(next.Add(1)-1) % callers * perCaller
			i := 0
			for pb.Next() {
				id := fmt.Sprintf("r%d", base+i%perCaller)
				if err := svc.ChangeOwner(ctx, actor, id, owners[(i/perCaller)%2]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	b.Run("CreateRoom", func(b *testing.B) {
		svc := pgBenchService(b, webhook.AfterCreateRoom, 0)
		svc.SetLiveOptions(room.LiveOptions{Grace: 10 * time.Second, Lifetimes: func(uint64) room.Lifetimes { return room.Lifetimes{} }})
		var next atomic.Int64
		b.SetParallelism(32)
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuNow())
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprintf("cr-%08d", next.Add(1))
				if _, err := svc.Create(ctx, actor, room.CreateParams{ID: id, Owner: "owner-0", Info: restRoomInfo}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

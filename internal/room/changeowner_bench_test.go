package room_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/webhook"
)

const benchApp = 1400000000

// restRoomInfo is the Info of a Live room that create_room makes when the request names
// nothing else (rest.createRoomParams): seats on, seat 0 kept for the owner, as in roomd
// bench's rooms.
var restRoomInfo = room.Info{RoomType: "Live", IsSeatEnabled: true, KeepOwnerOnSeat: true}

// benchService returns a room service on a real SQLite file whose app has the callback
// command switched on, with rooms "r0".."r<n-1>" owned by "owner-0"
// and the accounts "owner-0" and "owner-1"; the rooms are made as create_room makes them
// (restRoomInfo).
func benchService(b *testing.B, durability string, command webhook.Command, rooms int) (*room.Service, *sqlite.Store) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(b.TempDir(), "roomd.db"), Durability: durability})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return benchServiceOn(b, st, command, rooms), st
}

// benchServiceOn is benchService on the store st (SQLite or PostgreSQL).
func benchServiceOn(b *testing.B, st store.Store, command webhook.Command, rooms int) *room.Service {
	b.Helper()
	ctx := context.Background()
	configs := webhook.NewConfigs()
	configs.Update(benchApp, func(c *webhook.Config) {
		c.URL = "http://127.0.0.1:9/callback"
		c.Commands = []string{string(command)}
	})
	now := time.Now
	// Notify is a no-op: this measures the outbox commit, not the delivery.
	svc := room.NewService(st, webhook.NewOutbox(configs, now, func(store.Event) {}), now)
	err := st.Tx(ctx, func(tx store.Tx) error {
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

// BenchmarkChangeOwner measures one owner change and its outbox event, committed to a
// real SQLite file: alone (each commit its own transaction) and from parallel callers
// (grouped by the store's group commit).
func BenchmarkChangeOwner(b *testing.B) {
	actor := room.Actor{App: benchApp, Operator: "admin", ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	owners := []string{"owner-1", "owner-0"}
	for _, durability := range []string{sqlite.DurabilityProcess, sqlite.DurabilityPower} {
		b.Run("durability="+durability+"/sequential", func(b *testing.B) {
			const rooms = 100
			svc, st := benchService(b, durability, webhook.AfterChangeOwner, rooms)
			defer reportGroups(b, st)()
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			defer reportCPU(b, cpuNow())
			for b.Loop() {
				id := fmt.Sprintf("r%d", i%rooms)
				if err := svc.ChangeOwner(ctx, actor, id, owners[(i/rooms)%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("durability="+durability+"/parallel", func(b *testing.B) {
			svc, st := benchService(b, durability, webhook.AfterChangeOwner, parallelCallers*roomsPerCaller)
			defer reportGroups(b, st)()
			runParallelOwnerChanges(b, svc)
		})
	}
}

// parallelCallers and roomsPerCaller shape the parallel owner-change benchmarks: 64
// callers, as roomd bench's default concurrency, each owning its rooms.
const parallelCallers, roomsPerCaller = 64, 16

// runParallelOwnerChanges runs b.N owner changes from parallelCallers callers over the
// rooms of svc (made by benchServiceOn with parallelCallers*roomsPerCaller rooms) and
// reports the process's CPU time per change.
func runParallelOwnerChanges(b *testing.B, svc *room.Service) {
	actor := room.Actor{App: benchApp, Operator: "admin", ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	owners := []string{"owner-1", "owner-0"}
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism((parallelCallers + 1) / 2) // GOMAXPROCS 2 on the target machine
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, cpuNow())
	b.RunParallel(func(pb *testing.PB) {
		base := int(next.Add(1)-1) % parallelCallers * roomsPerCaller
		i := 0
		for pb.Next() {
			id := fmt.Sprintf("r%d", base+i%roomsPerCaller)
			if err := svc.ChangeOwner(ctx, actor, id, owners[(i/roomsPerCaller)%2]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// cpuNow is the CPU time of the process so far. On a shared machine the CPU time per
// operation varies much less than the wall time per operation.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start, every goroutine
// included (the store's writer among them).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

// reportGroups returns a function that reports the mean number of Tx calls per database
// transaction (group commit) since reportGroups was called.
func reportGroups(b *testing.B, st *sqlite.Store) func() {
	b0, c0 := st.GroupStats()
	return func() {
		b1, c1 := st.GroupStats()
		if b1 > b0 {
			b.ReportMetric(float64(c1-c0)/float64(b1-b0), "tx/commit")
		}
	}
}

// BenchmarkOwnerChangeRead compares, in one write transaction on SQLite (so the commit is
// not measured), what an owner change reads before it writes: the four statements it used
// (RoomOwnerInfo, AccountGet, MemberGet, SeatList) and the one that replaced them
// (RoomOwnerChange), on a room made as create_room makes it whose new owner is a member.
func BenchmarkOwnerChangeRead(b *testing.B) {
	svc, st := benchService(b, sqlite.DurabilityProcess, webhook.AfterChangeOwner, 1)
	_ = svc
	ctx := context.Background()
	if err := st.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.MemberAdd(ctx, store.Member{App: benchApp, RoomID: "r0", UserID: "owner-1", JoinedAt: time.Now()})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, read func(tx store.Tx) error) {
		b.ReportAllocs()
		defer reportCPU(b, cpuNow())
		err := st.Tx(ctx, func(tx store.Tx) error {
			for b.Loop() {
				if err := read(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("four", func(b *testing.B) {
		run(b, func(tx store.Tx) error {
			if _, err := tx.RoomOwnerInfo(ctx, benchApp, "r0"); err != nil {
				return err
			}
			if _, err := tx.AccountGet(ctx, benchApp, "owner-1"); err != nil {
				return err
			}
			if _, err := tx.MemberGet(ctx, benchApp, "r0", "owner-1"); err != nil {
				return err
			}
			_, err := tx.SeatList(ctx, benchApp, "r0")
			return err
		})
	})
	b.Run("one", func(b *testing.B) {
		run(b, func(tx store.Tx) error {
			_, err := tx.RoomOwnerChange(ctx, benchApp, "r0", "owner-1")
			return err
		})
	})
}

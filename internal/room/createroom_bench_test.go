package room_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/webhook"
)

// BenchmarkCreateRoom measures one create_room and its Live.CallbackAfterCreateRoom outbox
// event, committed to a real SQLite file by 64 parallel callers (roomd bench's create-room
// scenario without HTTP), with the live options roomd serve sets (dissolution timers off,
// its default).
func BenchmarkCreateRoom(b *testing.B) {
	svc, st := benchService(b, sqlite.DurabilityProcess, webhook.AfterCreateRoom, 0)
	defer reportGroups(b, st)()
	runParallelCreates(b, svc)
}

// runParallelCreates runs b.N create_room calls from 64 parallel callers with the live
// options roomd serve sets and reports the process's CPU time per room.
func runParallelCreates(b *testing.B, svc *room.Service) {
	ctx := context.Background()
	svc.SetLiveOptions(room.LiveOptions{Grace: 10 * time.Second, Lifetimes: func(uint64) room.Lifetimes { return room.Lifetimes{} }})
	actor := room.Actor{App: benchApp, Operator: "admin", ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	var next atomic.Int64
	b.SetParallelism(32) // 64 callers on GOMAXPROCS 2
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
}

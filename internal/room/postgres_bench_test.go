package room_test

import (
	"context"
	"testing"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/testkit"
	"github.com/roomd/roomd/internal/webhook"
)

// pgBenchService is benchService on PostgreSQL: a fresh schema of the test server
// (ROOMD_TEST_POSTGRES_DSN), the same accounts and rooms.
func pgBenchService(b *testing.B, command webhook.Command, rooms int) *room.Service {
	b.Helper()
	st, err := postgres.Open(context.Background(), postgres.Options{DSN: testkit.PostgresSchema(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return benchServiceOn(b, st, command, rooms)
}

// BenchmarkPostgres measures BenchmarkChangeOwner's parallel case and BenchmarkCreateRoom
// on PostgreSQL: the CPU of this process per operation (the server's is not counted, as
// roomd bench counts roomd's own).
func BenchmarkPostgres(b *testing.B) {
	b.Run("ChangeOwner", func(b *testing.B) {
		runParallelOwnerChanges(b, pgBenchService(b, webhook.AfterChangeOwner, parallelCallers*roomsPerCaller))
	})
	b.Run("CreateRoom", func(b *testing.B) {
		runParallelCreates(b, pgBenchService(b, webhook.AfterCreateRoom, 0))
	})
}

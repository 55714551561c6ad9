package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/storetest"
	"github.com/roomd/roomd/internal/testkit"
)

// The tests run against the PostgreSQL server of ROOMD_TEST_POSTGRES_DSN (.ci/run starts
// one); each store gets a schema of its own, created with a random name and dropped when
// the test ends. Without the variable the tests skip, unless CI is set: then they fail.

// dbs maps a directory of the conformance suite to its database, so that reopening the same
// directory reopens the same database.
var dbs sync.Map

func TestConformance(t *testing.T) {
	testkit.PostgresServer(t)
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		v, ok := dbs.Load(dir)
		if !ok {
			v, _ = dbs.LoadOrStore(dir, testkit.PostgresSchema(t))
		}
		s, err := Open(context.Background(), Options{DSN: v.(string)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMigrateIdempotent(t *testing.T) {
	dsn := testkit.PostgresSchema(t)
	for range 2 {
		v, err := Migrate(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if v != LatestSchema() || v != 11 {
			t.Fatalf("version %d, want %d", v, LatestSchema())
		}
	}
}

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT ? , ?", "SELECT $1 , $2"},
		{"WHERE a = ?1 AND b = ?2 OR c = ?1", "WHERE a = $1 AND b = $2 OR c = $1"},
		{"WHERE a = '?' AND b = ?", "WHERE a = '?' AND b = $1"},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A caller's context that ends while its fn runs does not interrupt the writer's statements
// (that could cost the connection and the other calls of the group), and a writer whose
// connection the server ended reconnects: the next Tx works.
func TestWriterSurvivesCancelAndLostConnection(t *testing.T) {
	s, err := Open(t.Context(), Options{DSN: testkit.PostgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	upsert := func(ctx context.Context, user string) error {
		return s.Tx(ctx, func(tx store.Tx) error {
			_, err := tx.AccountUpsert(ctx, store.Account{App: 1, UserID: user, CreatedAt: time.UnixMilli(1)})
			return err
		})
	}
	cctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if err := s.Tx(cctx, func(stx store.Tx) error {
		if _, err := stx.(*pgTx).Querier().Exec(cctx, "SELECT pg_sleep(0.3)"); err != nil {
			return err
		}
		_, err := stx.AccountUpsert(cctx, store.Account{App: 1, UserID: "canceled", CreatedAt: time.UnixMilli(1)})
		return err
	}); err != nil {
		t.Fatalf("Tx whose context ended while it ran: %v", err)
	}
	if _, err := s.AccountGet(t.Context(), 1, "canceled"); err != nil {
		t.Fatalf("its write: %v", err)
	}

	// The server ends the writer's connection.
	var pid int
	if err := s.Tx(t.Context(), func(stx store.Tx) error {
		return stx.(*pgTx).Querier().QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&pid)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := upsert(t.Context(), fmt.Sprintf("u%d", i)); err != nil {
			t.Fatalf("Tx %d after the writer's connection ended: %v", i, err)
		}
	}
}

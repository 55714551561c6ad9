package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/testkit"
)

// postgresDSN returns a DSN of a fresh schema on the PostgreSQL server of
// ROOMD_TEST_POSTGRES_DSN, dropped when t ends. Without the variable the test skips, unless
// CI is set: then it fails.
func postgresDSN(t *testing.T) string {
	t.Helper()
	server := testkit.PostgresServer(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "roomd_app_" + hex.EncodeToString(b)
	c, err := pgx.Connect(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
	})
	sep := " "
	if strings.HasPrefix(server, "postgres://") || strings.HasPrefix(server, "postgresql://") {
		sep = "?"
		if strings.Contains(server, "?") {
			sep = "&"
		}
	}
	return server + sep + "search_path=" + name
}

// roomd migrate and roomd serve work on PostgreSQL: store.driver postgres with the DSN from
// ROOMD_STORE_DSN.
func TestPostgresStore(t *testing.T) {
	dsn := postgresDSN(t)
	var stdout, stderr bytes.Buffer
	env := map[string]string{"ROOMD_STORE_DRIVER": "postgres", "ROOMD_STORE_DSN": dsn}
	err := app.Main(context.Background(), []string{"migrate", "--data", t.TempDir()}, app.Env{Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatalf("roomd migrate: %v\n%s", err, stderr.String())
	}
	if got, want := stdout.String(), fmt.Sprintf("postgres: schema version %d\n", postgres.LatestSchema()); got != want {
		t.Errorf("roomd migrate printed %q", got)
	}

	recv := newReceiver(t)
	ts := startServer(t, app.Options{}, withCallback(recv.URL(), "Live.CallbackAfterCreateRoom"), func(c *config.Config) {
		c.Store.Driver, c.Store.DSN = config.DriverPostgres, dsn
	})
	if code, body := get(t, ts.Base+"/readyz"); code != 200 {
		t.Fatalf("readyz = %d %q", code, body)
	}
	ts.createRoom("pg-room", testAdmin)
	if _, err := ts.Srv.Store().RoomGet(context.Background(), testApp, "pg-room"); err != nil {
		t.Fatalf("room not in PostgreSQL: %v", err)
	}
	recv.WaitFor(t, "AfterCreateRoom of pg-room", 10*time.Second, func(cs []testkit.Callback) bool { return len(cs) >= 1 })
}

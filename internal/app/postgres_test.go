package app_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/testkit"
)

// roomd migrate and roomd serve work on PostgreSQL: store.driver postgres with the DSN from
// ROOMD_STORE_DSN.
func TestPostgresStore(t *testing.T) {
	dsn := testkit.PostgresSchema(t)
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

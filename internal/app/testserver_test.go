package app_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/testkit"
)

// Shared helpers for the end-to-end tests of this package: a real roomd server on
// 127.0.0.1:0 with a real SQLite file, a REST client and a real HTTP callback receiver (both
// from package testkit).

const (
	testApp   = 1400000001
	testKey   = "e2e-secret-key-0123456789abcdef"
	testAdmin = "admin"
)

// testServer is a running roomd for one test, with a REST client of its admin.
type testServer struct {
	t    *testing.T
	Srv  *app.Server
	Dir  string
	Base string
	sig  string
	c    *testkit.Client
}

// serverOption adjusts the configuration before the server starts.
type serverOption func(*config.Config)

// withCallback points the test app's callbacks at url with the given commands switched on.
func withCallback(url string, cmds ...string) serverOption {
	return func(c *config.Config) {
		c.Apps[0].Callback = &config.Callback{URL: url, Commands: cmds}
		c.Apps[0].Callback.Retry.InitialBackoff = 20 * time.Millisecond
		c.Apps[0].Callback.Retry.MaxBackoff = 200 * time.Millisecond
		c.Apps[0].ApplyDefaults()
	}
}

// startServer starts roomd with one app (testApp, admin testAdmin) on a fresh data dir.
func startServer(t *testing.T, o app.Options, opts ...serverOption) *testServer {
	t.Helper()
	dir := t.TempDir()
	return startServerIn(t, dir, o, opts...)
}

// startServerIn starts roomd on an existing data dir (to restart on the same database).
func startServerIn(t *testing.T, dir string, o app.Options, opts ...serverOption) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	off := false
	cfg.Apps = []config.App{{SDKAppID: testApp, SecretKey: testKey, Admins: []string{testAdmin, "admin2"},
		RateLimit: config.RateLimit{Enabled: &off}}}
	cfg.Apps[0].ApplyDefaults()
	for _, opt := range opts {
		opt(cfg)
	}
	testStore(t, dir, cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := app.NewServer(context.Background(), cfg, o)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	ts := &testServer{t: t, Srv: srv, Dir: dir, Base: srv.URL(), c: testkit.NewClient(t, srv.URL(), testApp, testKey, testAdmin)}
	ts.sig = ts.c.Sig
	t.Cleanup(func() { ts.Close() })
	return ts
}

var closedServers sync.Map

// pgSchemas maps the data directory of a test server to its PostgreSQL DSN under
// ROOMD_TEST_STORE=postgres, so that a server restarted on the same directory finds its
// database again.
var pgSchemas sync.Map

// testStore applies ROOMD_TEST_STORE: "postgres" runs every test server that would use
// SQLite on a fresh, migrated PostgreSQL schema instead (testkit.PostgresSchema), so that the
// end-to-end tests check the postgres driver too (.ci/run runs them both ways).
func testStore(t *testing.T, dir string, cfg *config.Config) {
	t.Helper()
	if os.Getenv("ROOMD_TEST_STORE") != config.DriverPostgres || cfg.Store.Driver != config.DriverSQLite {
		return
	}
	dsn, ok := pgSchemas.Load(dir)
	if !ok {
		dsn = testkit.PostgresSchema(t)
		if _, err := postgres.Migrate(context.Background(), dsn.(string)); err != nil {
			t.Fatalf("migrate the test schema: %v", err)
		}
		pgSchemas.Store(dir, dsn)
		t.Cleanup(func() { pgSchemas.Delete(dir) })
	}
	cfg.Store.Driver, cfg.Store.DSN = config.DriverPostgres, dsn.(string)
}

// Close stops the server (idempotent).
func (ts *testServer) Close() {
	if _, done := closedServers.LoadOrStore(ts, true); done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Srv.Close(ctx)
}

// userSig signs a UserSig of user for the test app.
func (ts *testServer) userSig(user string) string { return ts.c.UserSig(ts.t, testKey, user) }

// envelope is a decoded REST reply.
type envelope = testkit.Envelope

// call POSTs body (a JSON string or a value to marshal) to /v4/api as the admin.
func (ts *testServer) call(api string, body any) envelope {
	ts.t.Helper()
	return ts.c.Do(ts.t, api, body)
}

// callAs POSTs as identifier with sig.
func (ts *testServer) callAs(identifier, sig, api string, body any) envelope {
	ts.t.Helper()
	return ts.post(ts.c.URLAs(identifier, sig, api), body)
}

// post POSTs body to url and fails the test unless the reply is a Tencent envelope.
func (ts *testServer) post(url string, body any) envelope {
	ts.t.Helper()
	env, err := ts.c.Post(context.Background(), url, body)
	if err != nil {
		ts.t.Fatalf("POST %s: %v", url, err)
	}
	return env
}

// mustOK fails the test unless env is a success.
func mustOK(t *testing.T, env envelope) envelope {
	t.Helper()
	return testkit.MustOK(t, env)
}

// mustFail fails the test unless env failed with code.
func mustFail(t *testing.T, env envelope, code int) {
	t.Helper()
	testkit.MustFail(t, env, code)
}

// importAccounts imports users into the test app.
func (ts *testServer) importAccounts(users ...string) {
	ts.t.Helper()
	var list []map[string]string
	for _, u := range users {
		list = append(list, map[string]string{"UserID": u})
	}
	mustOK(ts.t, ts.call("im_open_login_svc/multiaccount_import", map[string]any{"AccountList": list}))
}

// createRoom creates a Live room owned by owner.
func (ts *testServer) createRoom(id, owner string) {
	ts.t.Helper()
	mustOK(ts.t, ts.call("live_engine_http_srv/create_room", map[string]any{"RoomInfo": map[string]any{"RoomId": id, "RoomType": "Live", "Owner_Account": owner}}))
}

// callbackRequest is one request the receiver got.
type callbackRequest = testkit.Callback

// newReceiver starts an App backend that records the callbacks it gets.
func newReceiver(t *testing.T) *testkit.Receiver { return testkit.NewReceiver(t) }

func signOf(token string, sec int64) string { return webhookSign(token, sec) }

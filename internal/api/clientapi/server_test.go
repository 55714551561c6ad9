package clientapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/config"
)

// The tests of this package run the client API in a real roomd: a real server on
// 127.0.0.1:0 with a real SQLite file in t.TempDir(), spoken to over real WebSocket
// connections, with a clock that stands still so that every frame is reproducible.

const (
	testApp   = 1400000001
	testKey   = "clientapi-secret-key-0123456789ab"
	testAdmin = "admin"
)

// fixedTime is the time of every test server of this package: createTime and message
// timestamps in the golden frames are its Unix seconds, 1748779200.
var fixedTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testServer is a running roomd whose clock stands at fixedTime.
type testServer struct {
	srv *app.Server
	url string // the ws:// URL of /v1/client
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	off := false
	cfg.Apps = []config.App{{SDKAppID: testApp, SecretKey: testKey, Admins: []string{testAdmin},
		RateLimit: config.RateLimit{Enabled: &off}}}
	cfg.Apps[0].ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := app.NewServer(context.Background(), cfg, app.Options{Clock: clock.NewManual(fixedTime)})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	srv.Rooms.SetBattleIDs(battleIDs())
	if err := srv.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return &testServer{srv: srv, url: "ws" + strings.TrimPrefix(srv.URL(), "http") + clientws.Path}
}

// dial opens a raw WebSocket as user (a UserSig signed at fixedTime), declaring platform.
func (ts *testServer) dial(t testing.TB, user, platform string) *websocket.Conn {
	t.Helper()
	sig, err := usersig.Sign(testApp, testKey, user, 86400, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	u, err := client.URL(ts.url, client.Options{SDKAppID: testApp, UserID: user, UserSig: sig, Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	c.SetReadLimit(4 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// battleIDs returns a generator of reproducible BattleIds: the standard base64 of the
// SHA-256 of "battle-1", "battle-2", …, the shape of Tencent's.
func battleIDs() func() string {
	n := 0
	return func() string {
		n++
		sum := sha256.Sum256([]byte(fmt.Sprintf("battle-%d", n)))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
}

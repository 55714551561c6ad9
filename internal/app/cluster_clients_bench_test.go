package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
)

// BenchmarkClusterPush measures how long an owner change made through REST on node b takes
// to reach a client in the room: on b itself (local, the baseline: the push is queued at
// commit) and on node a (remote: broadcast row, NOTIFY, a's listener, relay). Both nodes run
// in this process over one PostgreSQL database; compare the two as a ratio.
//
//	ROOMD_TEST_POSTGRES_DSN=… go test -run XXX -bench ClusterPush ./internal/app/
func BenchmarkClusterPush(b *testing.B) {
	dsn := testkit.PostgresDatabase(b)
	start := func(node string) *app.Server {
		cfg := config.Default()
		cfg.Listen = "127.0.0.1:0"
		cfg.DataDir = b.TempDir()
		cfg.Store.Driver, cfg.Store.DSN = config.DriverPostgres, dsn
		cfg.Cluster.Node = node
		off := false
		cfg.Apps = []config.App{{SDKAppID: testApp, SecretKey: testKey, Admins: []string{testAdmin}, RateLimit: config.RateLimit{Enabled: &off}}}
		cfg.Apps[0].ApplyDefaults()
		if err := cfg.Validate(); err != nil {
			b.Fatal(err)
		}
		srv, err := app.NewServer(context.Background(), cfg, app.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Close(ctx)
		})
		return srv
	}
	na, nb := start("a"), start("b")
	rest := testkit.NewClient(b, nb.URL(), testApp, testKey, testAdmin)
	rest.MustCall(b, "im_open_login_svc/multiaccount_import", map[string]any{"AccountList": []map[string]string{{"UserID": "u0"}, {"UserID": "u1"}, {"UserID": "watcher"}}})
	rest.MustCall(b, "live_engine_http_srv/create_room", map[string]any{"RoomInfo": map[string]any{"RoomId": "r1", "RoomType": "Live", "Owner_Account": "u0"}})

	owner := 0 // the room's owner is u<owner>; each change moves it to the other user
	for _, tc := range []struct {
		name string
		node *app.Server
	}{{"local", nb}, {"remote", na}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			ws := "ws" + tc.node.URL()[len("http"):] + "/v1/client"
			c, err := client.Dial(ctx, ws, client.Options{SDKAppID: testApp, UserID: "watcher", UserSig: rest.UserSig(b, testKey, "watcher"), NotificationBuffer: 4096})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if err := c.Call(ctx, "enterRoom", map[string]string{"roomId": "r1"}, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				owner = 1 - owner
				want := fmt.Sprintf(`"userId":"u%d","userRole":"roomOwner"`, owner)
				rest.MustCall(b, "live_engine_http_srv/change_room_owner", fmt.Sprintf(`{"RoomId":"r1","NewOwner_Account":"u%d"}`, owner))
				for {
					select {
					case n := <-c.Notifications():
						if n.Method == "onUserRoleChanged" && containsAll(string(n.Params), []string{want}) {
							goto next
						}
					case <-time.After(10 * time.Second):
						b.Fatal("no push within 10 s")
					}
				}
			next:
			}
		})
	}
}

package app_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
)

// Stopping a server with many connections in a room takes their members out in one batch
// (Offline/HeartbeatInterrupt, room by room) instead of one transaction per connection, and
// logs one line for all of them, not one per connection. Every member is reported exactly
// once, by the stopping process (the next start finds nobody left to recover).
func TestClientShutdownBatchesDepartures(t *testing.T) {
	const n = 120
	dir := t.TempDir()
	rc := newReceiver(t)
	var logs syncBuffer
	ts := startServerIn(t, dir, app.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		withCallback(rc.URL()+"/cb", allClientCommands...))
	e := &clientEnv{testServer: ts, rc: rc, WS: "ws" + strings.TrimPrefix(ts.Base, "http") + "/v1/client"}
	e.importAccounts("owner")
	e.createRoom("big", "owner")
	var want []string
	var peers []*peer
	for i := range n {
		user := fmt.Sprintf("m%03d", i)
		p := e.dial(t, user, "Web")
		p.call(t, "enterRoom", map[string]string{"roomId": "big"})
		want = append(want, user)
		peers = append(peers, p)
	}
	// A user who says goodbye while the server stops still leaves cleanly.
	leaver := e.dial(t, "leaver", "Web")
	leaver.call(t, "enterRoom", map[string]string{"roomId": "big"})
	leaver.Close()
	e.waitMemberState(t, "big", "Offline/Leave:leaver")

	// Clients going away together just before the stop: their departures are in flight
	// when it begins (or done, or not yet noticed); each of them is reported once all the same.
	const gone = n / 2
	for _, p := range peers[:gone] {
		p.Close()
	}
	e.Close()
	out := logs.String()
	if c := strings.Count(out, "client_api_stopped"); c != 1 {
		t.Fatalf("%d client_api_stopped lines, want 1:\n%s", c, out)
	}
	if strings.Contains(out, "client_disconnect") {
		t.Errorf("a line per connection:\n%s", out)
	}
	line := out[strings.Index(out, "client_api_stopped"):]
	line = line[:strings.IndexByte(line, '\n')]
	t.Log(line)
	if !strings.Contains(out, "level=INFO msg=client_api_stopped") {
		t.Errorf("the stop failed: %s", line)
	}

	// The callbacks the stop queued are delivered by the next start.
	e2 := startClientEnvIn(t, dir, rc)
	offline := func(g []callbackRequest) (users []string, stopped int) {
		for _, s := range memberStates(g, "big") {
			if u, ok := strings.CutPrefix(s, "Offline/HeartbeatInterrupt:"); ok {
				users = append(users, strings.Split(u, ",")...)
				stopped += len(strings.Split(u, ","))
			} else if u, ok := strings.CutPrefix(s, "Offline/Leave:"); ok && u != "leaver" {
				users = append(users, u)
			}
		}
		return users, stopped
	}
	rc.WaitFor(t, "every member reported offline", 20*time.Second, func(g []callbackRequest) bool {
		got, _ := offline(g)
		return len(got) >= n
	})
	time.Sleep(200 * time.Millisecond) // a duplicate would follow closely
	got, stopped := offline(rc.Delivered())
	if stopped < n-gone {
		t.Errorf("%d members reported lost by the stop, want at least the %d still connected", stopped, n-gone)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("offline members %v, want %v", got, want)
	}
	e2.Close()
}

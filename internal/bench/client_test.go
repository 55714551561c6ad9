package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
)

// A change made through the client: the operator is the handing owner and OptPlatform the
// declared platform; the admin as operator, or the REST query, is a problem.
func TestReceiverExpectClient(t *testing.T) {
	o0, o1 := benchOwners[0], benchOwners[1]
	rc, err := newReceiver(benchAppID, benchAdmin, benchOwners, []string{"r1", "r2", "r3"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	restQuery := rc.query
	rc.expectClient("Web")
	const u = "http://roomd.test/callback"
	q := clientQuery(benchAppID, "Web")
	if !strings.HasSuffix(q, "&ClientIP=127.0.0.1&OptPlatform=Web") || q == restQuery {
		t.Fatalf("client query %q", q)
	}
	postAs(t, rc, u, q, o0, "msg_i_1", "r1", o0, o1)
	postAs(t, rc, u, q, o1, "msg_i_2", "r1", o1, o0)
	if v := rc.verify(map[string][]uint8{"r1": {1, 0}}); !v.OK() || v.Verified != 2 {
		t.Fatalf("client callbacks: %+v", v)
	}
	postAs(t, rc, u, q, benchAdmin, "msg_i_3", "r2", o0, o1) // the admin did not make it
	postAs(t, rc, u, restQuery, o0, "msg_i_4", "r3", o0, o1) // OptPlatform=RESTAPI
	if v := rc.verify(map[string][]uint8{"r1": {1, 0}, "r2": {1}, "r3": {1}}); v.OK() || v.Problems < 2 {
		t.Fatalf("wrong operator and platform not caught: %+v", v)
	}
}

// The fleet, run in-process against a bare clientws server: every connection logs in,
// enters the room, keeps answering pings, and each round reports when the last one got it.
func TestFleet(t *testing.T) {
	const n = 50
	var srv *clientws.Server
	srv = clientws.New(clientws.Config{
		PingInterval: 20 * time.Millisecond, PingTimeout: 300 * time.Millisecond,
		Authenticate: func(_ context.Context, app, user, sig string) (clientws.Identity, error) {
			return clientws.Identity{App: benchAppID, UserID: user}, nil
		},
		Methods: map[string]clientws.Method{
			"enterRoom": func(_ context.Context, s *clientws.Session, p json.RawMessage) (any, error) {
				var rp struct{ RoomID string }
				json.Unmarshal(p, &rp)
				return map[string]any{"roomInfo": map[string]string{"roomId": rp.RoomID}}, srv.Hub().Subscribe(s, rp.RoomID)
			},
		},
		OnClose: func(s *clientws.Session, r clientws.CloseReason) {
			if r != clientws.CloseClient && r != clientws.CloseConnectionLost && r != clientws.CloseServerShutdown {
				t.Errorf("%s closed: %v", s.UserID(), r)
			}
		},
	})
	mux := http.NewServeMux()
	mux.Handle(clientws.Path, srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := startFleetInProcess(ctx, fleetConfig{Bases: []string{hs.URL}, App: benchAppID, Key: "k", Prefix: "fan-", N: n, Room: "big", Conc: 8, Platform: "Web"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.ready(); err != nil || got != n {
		t.Fatalf("ready %d, %v", got, err)
	}
	if got := len(srv.Hub().RoomSessions(benchAppID, "big")); got != n {
		t.Fatalf("%d sessions in the room", got)
	}
	time.Sleep(500 * time.Millisecond) // heartbeats: a fleet that did not answer pings would be closed now
	for _, marker := range []string{"fanout-x-0", "fanout-x-1"} {
		if err := f.arm(marker); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if sent, err := srv.Hub().PublishRoom(benchAppID, "big", "onRoomInfoChanged",
			map[string]any{"roomId": "big", "roomInfo": map[string]string{"roomName": marker}}); err != nil || sent != n {
			t.Fatalf("PublishRoom = %d, %v", sent, err)
		}
		last, _, err := f.done(marker)
		if err != nil {
			t.Fatal(err)
		}
		if last.Before(start.Add(-time.Second)) || time.Since(last) < 0 {
			t.Errorf("last arrival %v, published %v", last, start)
		}
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateRoomInfoBody(t *testing.T) {
	var v struct {
		RoomInfo struct{ RoomId, RoomName string }
	}
	b := updateRoomInfoBody("r\"1", "fanout-a-0")
	if err := json.Unmarshal(b, &v); err != nil || v.RoomInfo.RoomId != "r\"1" || v.RoomInfo.RoomName != "fanout-a-0" {
		t.Fatalf("%s: %+v %v", b, v, err)
	}
}

// The client rows: per-connection memory and fan-out judged together; the client owner
// change shown next to the REST figure.
func TestClientRows(t *testing.T) {
	// In-process (the Go heap per connection measured after a full GC): both judged.
	fan := &Result{Scenario: "client-fanout", Ops: 5, Clients: 10000, BytesPerConn: 20 << 10, GoBytesPerConn: 10 << 10, LatencyOf: "x", P50Ms: 80, MaxMs: 150}
	judgeClientFanout(nil, fan)
	if fan.TargetMet == nil || !*fan.TargetMet || !strings.Contains(fan.Target, "is 20.0") || !strings.Contains(fan.Target, "is 150ms") {
		t.Errorf("fan-out within targets: %q %v", fan.Target, fan.TargetMet)
	}
	slow := &Result{BytesPerConn: 20 << 10, GoBytesPerConn: 1, MaxMs: 250}
	judgeClientFanout(nil, slow)
	fat := &Result{BytesPerConn: 33 << 10, GoBytesPerConn: 1, MaxMs: 50}
	judgeClientFanout(nil, fat)
	if *slow.TargetMet || *fat.TargetMet {
		t.Error("a missed target judged met")
	}
	// A separate process: the fan-out alone is judged.
	sep := &Result{BytesPerConn: 40 << 10, MaxMs: 150}
	judgeClientFanout(nil, sep)
	if !*sep.TargetMet || !strings.Contains(sep.Target, "not judged") {
		t.Errorf("separate process: %q %v", sep.Target, *sep.TargetMet)
	}

	r := &Runner{results: map[string]*Result{"owner-change": {RatioToL: 0.40}}}
	oc := &Result{Scenario: "client-owner-change", OpsPerSec: 5000, RatioToL: 0.20, RoomdCPUPerOpL: 2.4, Callbacks: &verification{Expected: 7, Verified: 7}}
	judgeClientOwnerChange(r, oc)
	if oc.TargetMet == nil || !*oc.TargetMet || !strings.Contains(oc.Target, "<= 2.5 L (is 2.40 L)") {
		t.Errorf("client owner change: %q %v", oc.Target, oc.TargetMet)
	}
	if len(oc.Notes) != 1 || !strings.Contains(oc.Notes[0], "0.20 x L through the client, 0.40 x L through REST") || !strings.Contains(oc.Notes[0], "client/REST 0.50") {
		t.Errorf("client owner change: %q", oc.Notes)
	}
	alone := &Result{RatioToL: 0.2, RoomdCPUPerOpL: 2.6}
	judgeClientOwnerChange(&Runner{results: map[string]*Result{}}, alone)
	if *alone.TargetMet || !strings.Contains(alone.Notes[0], "run with owner-change") {
		t.Errorf("without the REST row: %q %v", alone.Notes, *alone.TargetMet)
	}

	var b bytes.Buffer
	WriteTable(&b, &Report{L: 20000, Results: []*Result{fan, oc}})
	for _, want := range []string{"client-fanout", "80.0ms", "150ms", "<= 32 KiB per connection (is 20.0), fan-out max <= 200ms (is 150ms): met",
		"client-owner-change", "7/7 ok"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

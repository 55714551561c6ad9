package app_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store"
)

// Helpers of the conformance tests of issue 4 part A (rooms, metadata, robots, room quota,
// rate limits, HTTPS): a server on a manual clock with every part-A callback switched on, a
// state snapshot to prove that rejected requests change nothing, and golden files in
// testdata/parta.

const (
	svc          = "live_engine_http_srv/"
	cmdUpdate    = "Live.CallbackAfterUpdateRoomInfo"
	cmdSetMeta   = "Live.CallbackAfterSetMetadata"
	cmdDelMeta   = "Live.CallbackAfterDelMetadata"
	cmdThreshold = "Live.CallbackAfterCreateRoomReachingThreshold"
)

// paStart is the manual clock's start: 2026-01-01T00:00:00Z. UserSigs are signed with the
// real clock; a signature from the "future" verifies, as only expiry is checked.
var paStart = time.Unix(1767225600, 0)

// paClock is a manual clock: it stands still until Advance. A standing clock makes
// CreateTime and EventTime reproducible and puts every call in one rate-limit window.
type paClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *paClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *paClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// paEnv is a running server for one part-A test.
type paEnv struct {
	*testServer
	rc  *receiver
	clk *paClock
}

// startPA starts roomd on a manual clock with a receiver for every part-A callback and the
// create/destroy callbacks.
func startPA(t *testing.T, opts ...serverOption) *paEnv {
	t.Helper()
	rc := newReceiver(t)
	clk := &paClock{t: paStart}
	opts = append([]serverOption{withCallback(rc.URL+"/cb", cmdCreate, cmdDestroy, cmdUpdate, cmdSetMeta, cmdDelMeta, cmdThreshold)}, opts...)
	ts := startServer(t, app.Options{Now: clk.Now}, opts...)
	return &paEnv{testServer: ts, rc: rc, clk: clk}
}

func withRoomQuota(n int) serverOption {
	return func(c *config.Config) { c.Apps[0].RoomQuota = n }
}

// withRateLimits switches the app's rate limits on, with optional per-API overrides.
func withRateLimits(perAPI map[string]int) serverOption {
	return func(c *config.Config) {
		on := true
		c.Apps[0].RateLimit = config.RateLimit{Enabled: &on, PerAPI: perAPI}
	}
}

// tx runs fn in a write transaction of the server's store (to set counters that only
// later features change, such as view counts and message counts).
func (e *paEnv) tx(fn func(ctx context.Context, tx store.Tx) error) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.Srv.Store().Tx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		e.t.Fatal(err)
	}
}

// create creates a room from a RoomInfo object.
func (e *paEnv) create(info map[string]any) {
	e.t.Helper()
	if _, ok := info["RoomType"]; !ok {
		info["RoomType"] = "Live"
	}
	mustOK(e.t, e.call(svc+"create_room", map[string]any{"RoomInfo": info}))
}

// events returns the stored outbox events of one command, oldest first.
func (e *paEnv) events(cmd string) []store.Event {
	e.t.Helper()
	evs, err := e.Srv.Store().EventList(context.Background(), store.EventQuery{App: testApp, Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.Event
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Command == cmd {
			out = append(out, evs[i])
		}
	}
	return out
}

// snapshot renders the observable state: room count, outbox size, and for each named room
// its info, metadata, robots and statistics as the REST API answers them.
func (e *paEnv) snapshot(rooms ...string) string {
	e.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	n, err := e.Srv.Store().RoomCount(ctx, testApp)
	if err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.Srv.Store().EventList(ctx, store.EventQuery{App: testApp, Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(&b, "rooms=%d events=%d\n", n, len(evs))
	for _, id := range rooms {
		for _, api := range []string{"get_room_info", "get_room_metadata", "get_robot", "get_room_stats"} {
			env := e.call(svc+api, map[string]string{"RoomId": id})
			fmt.Fprintf(&b, "%s %s: %d %s\n", id, api, env.ErrorCode, env.Response)
		}
		ms, err := e.Srv.Store().MemberList(ctx, store.MemberListParams{App: testApp, RoomID: id})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, m := range ms {
			fmt.Fprintf(&b, "%s member %s robot=%v\n", id, m.UserID, m.IsRobot)
		}
	}
	return b.String()
}

// paCase is one row of a conformance table: a request body and the ErrorCode it must get.
// A failing row must leave the snapshot of the table's rooms unchanged.
type paCase struct {
	name   string
	body   any
	code   int
	golden string // when set, the reply (RequestId normalised) is compared with this golden file
	check  func(t *testing.T, env envelope)
}

// runCases runs the rows in order (state carries over from row to row) against api.
func (e *paEnv) runCases(t *testing.T, api string, watch []string, cases []paCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before string
			if c.code != 0 {
				before = e.snapshot(watch...)
			}
			env := e.call(svc+api, c.body)
			if c.code == 0 {
				mustOK(t, env)
			} else {
				mustFail(t, env, c.code)
				if after := e.snapshot(watch...); after != before {
					t.Errorf("rejected request changed state:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			}
			if c.golden != "" {
				paGolden(t, c.golden, normalizeReply(env.Raw))
			}
			if c.check != nil {
				c.check(t, env)
			}
		})
	}
}

var requestIDRe = regexp.MustCompile(`"RequestId":"Id-[0-9a-f]{32}-O-Seq-[0-9]+"`)

// normalizeReply replaces the random RequestId of a reply by a fixed one.
func normalizeReply(raw []byte) []byte {
	return append(requestIDRe.ReplaceAll(bytes.TrimSpace(raw), []byte(`"RequestId":"Id-00000000000000000000000000000000-O-Seq-0"`)), '\n')
}

// paUpdate reports whether golden files are to be rewritten: with -update when the
// package defines that flag, or with ROOMD_UPDATE_GOLDEN=1.
func paUpdate() bool {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		return true
	}
	return os.Getenv("ROOMD_UPDATE_GOLDEN") != ""
}

// paGolden compares got with testdata/parta/name.golden.
func paGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "parta", name+".golden")
	if paUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with ROOMD_UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", path, got, want)
	}
}

// renderCallbacks renders callback requests as the App backend saw them: path, sorted
// query, body.
func renderCallbacks(rs []callbackRequest) []byte {
	var b bytes.Buffer
	for _, r := range rs {
		keys := make([]string, 0, len(r.Query))
		for k := range r.Query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		q := url.Values{}
		for _, k := range keys {
			q.Set(k, r.Query[k])
		}
		b.WriteString("POST /cb?" + q.Encode() + "\n")
		b.Write(r.Body)
		b.WriteString("\n\n")
	}
	return b.Bytes()
}

// callbacksOf waits until n callbacks of cmd arrived and returns them in arrival order.
func (e *paEnv) callbacksOf(t *testing.T, cmd string, n int) []callbackRequest {
	t.Helper()
	pick := func(g []callbackRequest) []callbackRequest {
		var out []callbackRequest
		for _, r := range g {
			if r.Command == cmd {
				out = append(out, r)
			}
		}
		return out
	}
	got := e.rc.waitFor(t, fmt.Sprintf("%d %s callbacks", n, cmd), 10*time.Second, func(g []callbackRequest) bool { return len(pick(g)) >= n })
	return pick(got)
}

// callbackWith waits for a callback of cmd whose body contains match and returns the first.
func (e *paEnv) callbackWith(t *testing.T, cmd, match string) callbackRequest {
	t.Helper()
	var found callbackRequest
	e.rc.waitFor(t, cmd+" with "+match, 10*time.Second, func(g []callbackRequest) bool {
		for _, r := range g {
			if r.Command == cmd && strings.Contains(string(r.Body), match) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// roomInfo returns get_room_info's reply for a room.
func (e *paEnv) roomInfo(t *testing.T, id string) envelope {
	t.Helper()
	return mustOK(t, e.call(svc+"get_room_info", map[string]string{"RoomId": id}))
}

// rep returns s repeated to n bytes.
func rep(s string, n int) string { return strings.Repeat(s, n)[:n] }

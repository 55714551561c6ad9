package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/golden"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// The machinery of the conformance tests of the REST APIs (rooms_test.go, metadata_test.go,
// members_test.go, admins_test.go, sanctions_test.go, messages_test.go, stats_test.go,
// limits_test.go): a server on a manual clock with a callback receiver, tables of requests
// that run in order, a snapshot that proves a rejected request changes nothing, and golden
// files in testdata/<concept>. Two starters switch callbacks on: startWithRoomCallbacks for
// the room APIs, startWithMemberCallbacks for what happens inside a room.

// svc is the path prefix of the room APIs.
const svc = "live_engine_http_srv/"

// startUnix is where the manual clocks start: 2026-01-01T00:00:00Z. UserSigs are signed
// with the real clock; a signature from the "future" verifies, as only expiry is checked.
const startUnix int64 = 1767225600

// manualClock is a manual clock: it stands still until Advance. A standing clock makes
// CreateTime and EventTime reproducible and puts every call in one rate-limit window.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// confEnv is a running server for one conformance test.
type confEnv struct {
	*testServer
	rc        *testkit.Receiver
	clk       *manualClock
	goldenDir string // the folder of the test's golden files below testdata
}

// startConformance starts roomd on a manual clock at start with a receiver for the
// callbacks cmds; the test's golden files are in testdata/goldenDir. opts run after the
// callback switch.
func startConformance(t *testing.T, goldenDir string, start time.Time, cmds []string, opts ...serverOption) *confEnv {
	t.Helper()
	rc := newReceiver(t)
	clk := &manualClock{t: start}
	opts = append([]serverOption{withCallback(rc.URL()+"/cb", cmds...)}, opts...)
	ts := startServer(t, app.Options{Now: clk.Now}, opts...)
	return &confEnv{testServer: ts, rc: rc, clk: clk, goldenDir: goldenDir}
}

const (
	cmdUpdate    = "Live.CallbackAfterUpdateRoomInfo"
	cmdSetMeta   = "Live.CallbackAfterSetMetadata"
	cmdDelMeta   = "Live.CallbackAfterDelMetadata"
	cmdThreshold = "Live.CallbackAfterCreateRoomReachingThreshold"
)

// clockStart is where startWithRoomCallbacks's manual clock starts: 2026-01-01T00:00:00Z
// exactly.
var clockStart = time.Unix(startUnix, 0)

// startWithRoomCallbacks starts roomd on a manual clock at clockStart with a receiver for
// the callbacks of the room APIs: create, destroy, update, metadata and the room-count
// threshold. The test's golden files are in testdata/goldenDir.
func startWithRoomCallbacks(t *testing.T, goldenDir string, opts ...serverOption) *confEnv {
	t.Helper()
	return startConformance(t, goldenDir, clockStart, []string{cmdCreate, cmdDestroy, cmdUpdate, cmdSetMeta, cmdDelMeta, cmdThreshold}, opts...)
}

const (
	cmdModifyAdmin   = "Live.CallbackAfterModifyAdmin"
	cmdMemberState   = "Live.CallbackAfterMemberStateChanged"
	cmdBeforeSendMsg = "Group.CallbackBeforeSendMsg"
	cmdAfterSendMsg  = "Group.CallbackAfterSendMsg"
)

// startWithMemberCallbacks starts roomd on a manual clock (at 2026-01-01T00:00:00.250Z, so
// that whole-second rounding shows) with a receiver for the After-callbacks of what happens
// inside a room: admin changes, member state changes and sent messages. The test's golden
// files are in testdata/goldenDir; opts run after the callback switch.
func startWithMemberCallbacks(t *testing.T, goldenDir string, opts ...serverOption) *confEnv {
	t.Helper()
	return startConformance(t, goldenDir, time.Unix(startUnix, 250_000_000), []string{cmdModifyAdmin, cmdMemberState, cmdAfterSendMsg}, opts...)
}

// withRoomQuota sets the app's room quota to n.
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

// withBeforeSendMsg switches Group.CallbackBeforeSendMsg on with a timeout and failure policy.
func withBeforeSendMsg(timeout time.Duration, onFailure string) serverOption {
	return func(c *config.Config) {
		cb := c.Apps[0].Callback
		cb.Commands = append(cb.Commands, cmdBeforeSendMsg)
		cb.Timeout = timeout
		cb.BeforeSendMsgOnFailure = onFailure
	}
}

// tx runs fn in a write transaction of the server's store (to set state that the REST API
// cannot, or not quickly).
func (e *confEnv) tx(fn func(ctx context.Context, tx store.Tx) error) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.Srv.Store().Tx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		e.t.Fatal(err)
	}
}

// events returns the stored outbox events of one command, oldest first.
func (e *confEnv) events(cmd string) []store.Event {
	e.t.Helper()
	var out []store.Event
	evs := e.allEvents()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Command == cmd {
			out = append(out, evs[i])
		}
	}
	return out
}

// allEvents returns every stored outbox event of the test app, newest first.
func (e *confEnv) allEvents() []store.Event {
	e.t.Helper()
	evs, err := e.Srv.Store().EventList(context.Background(), store.EventQuery{App: testApp, Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// history returns a room's stored messages, oldest first.
func (e *confEnv) history(room string) []store.Message {
	e.t.Helper()
	ms, err := e.Srv.Store().MessageList(context.Background(), store.MessageListParams{App: testApp, RoomID: room})
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// importN imports accounts prefix0 … prefix(n-1) straight into the store.
func (e *confEnv) importN(prefix string, n int) []string {
	e.t.Helper()
	users := make([]string, n)
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for i := range users {
			users[i] = fmt.Sprintf("%s%d", prefix, i)
			if _, err := tx.AccountUpsert(ctx, store.Account{App: testApp, UserID: users[i], CreatedAt: e.clk.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	return users
}

// join puts users into a room as members (robot marks robots), one millisecond apart, the
// way the client API will.
func (e *confEnv) join(room string, robot bool, users ...string) {
	e.t.Helper()
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for i, u := range users {
			at := e.clk.Now().Add(time.Duration(i) * time.Millisecond)
			if _, err := tx.MemberAdd(ctx, store.Member{App: testApp, RoomID: room, UserID: u, IsRobot: robot, JoinedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
}

// accountsJSON renders users as a JSON array.
func accountsJSON(users []string) string {
	b, _ := json.Marshal(users)
	return string(b)
}

// create creates a room from a RoomInfo object.
func (e *confEnv) create(info map[string]any) {
	e.t.Helper()
	if _, ok := info["RoomType"]; !ok {
		info["RoomType"] = "Live"
	}
	mustOK(e.t, e.call(svc+"create_room", map[string]any{"RoomInfo": info}))
}

// roomInfo returns get_room_info's reply for a room.
func (e *confEnv) roomInfo(t *testing.T, id string) envelope {
	t.Helper()
	return mustOK(t, e.call(svc+"get_room_info", map[string]string{"RoomId": id}))
}

// snapshotAPIs are the read APIs whose replies make up a room's part of a snapshot.
var snapshotAPIs = []string{
	"get_room_info", "get_room_metadata", "get_robot", "get_room_stats",
	"get_member_list", "get_admin_list", "get_muted_member_list", "get_banned_member_list",
}

// snapshot renders the observable state: room count, outbox size, and for each named room
// the replies of the read APIs, its stored members and its message history.
func (e *confEnv) snapshot(rooms ...string) string {
	e.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	n, err := e.Srv.Store().RoomCount(ctx, testApp)
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(&b, "rooms=%d events=%d\n", n, len(e.allEvents()))
	for _, id := range rooms {
		for _, api := range snapshotAPIs {
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
		for _, m := range e.history(id) {
			fmt.Fprintf(&b, "%s msg %d %s %s %q\n", id, m.Seq, m.Sender, m.Body, m.CloudCustomData)
		}
	}
	return b.String()
}

// confCase is one row of a conformance table: a request body and the ErrorCode it must get.
// A failing row must leave the snapshot of the table's rooms unchanged.
type confCase struct {
	name   string
	body   any
	code   int
	golden string // when set, the reply (RequestId normalised) is compared with this golden file
	check  func(t *testing.T, env envelope)
}

// runCases runs the rows in order (state carries over from row to row) against api.
func (e *confEnv) runCases(t *testing.T, api string, watch []string, cases []confCase) {
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
				e.golden(t, c.golden, normalizeReply(env.Raw))
			}
			if c.check != nil {
				c.check(t, env)
			}
		})
	}
}

// golden compares got with testdata/<part>/name.golden (see package golden for -update).
func (e *confEnv) golden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", e.goldenDir, name+".golden"), got)
}

var requestIDRe = regexp.MustCompile(`"RequestId":"Id-[0-9a-f]{32}-O-Seq-[0-9]+"`)

// normalizeReply replaces the random RequestId of a reply by a fixed one.
func normalizeReply(raw []byte) []byte {
	return append(requestIDRe.ReplaceAll(bytes.TrimSpace(raw), []byte(`"RequestId":"Id-00000000000000000000000000000000-O-Seq-0"`)), '\n')
}

var (
	randomRe = regexp.MustCompile(`"Random":[0-9]+`)
	msgIDRe  = regexp.MustCompile(`"MsgId":"([0-9]+)-([0-9]+)-[0-9]+"`)
)

// renderCallbacks renders callback requests as the App backend saw them (path, sorted
// query, body), with the per-message random parts (Random, the random tail of MsgId) fixed.
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
			q.Set(k, r.Query.Get(k))
		}
		body := randomRe.ReplaceAll(r.Body, []byte(`"Random":4026038328`))
		body = msgIDRe.ReplaceAll(body, []byte(`"MsgId":"$1-$2-4026038328"`))
		b.WriteString("POST /cb?" + q.Encode() + "\n")
		b.Write(body)
		b.WriteString("\n\n")
	}
	return b.Bytes()
}

// callbacksOf waits until n callbacks of cmd arrived and returns them in arrival order.
func (e *confEnv) callbacksOf(t *testing.T, cmd string, n int) []callbackRequest {
	t.Helper()
	// At least once: an attempt whose reply came too late on a loaded machine is sent
	// again with the same webhook-id; like a real receiver, count it once.
	pick := func(g []callbackRequest) []callbackRequest {
		var out []callbackRequest
		seen := map[string]bool{}
		for _, r := range g {
			if r.Command == cmd && !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r)
			}
		}
		return out
	}
	got := e.rc.WaitFor(t, fmt.Sprintf("%d %s callbacks", n, cmd), 10*time.Second, func(g []callbackRequest) bool { return len(pick(g)) >= n })
	return pick(got)
}

// callbackWith waits for a callback of cmd whose body contains match and returns the first.
func (e *confEnv) callbackWith(t *testing.T, cmd, match string) callbackRequest {
	t.Helper()
	var found callbackRequest
	e.rc.WaitFor(t, cmd+" with "+match, 10*time.Second, func(g []callbackRequest) bool {
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

// response decodes the Response part of a reply.
func response[T any](t *testing.T, env envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(env.Response, &v); err != nil {
		t.Fatalf("decode %s: %v", env.Response, err)
	}
	return v
}

// rep returns s repeated to n bytes.
func rep(s string, n int) string { return strings.Repeat(s, n)[:n] }

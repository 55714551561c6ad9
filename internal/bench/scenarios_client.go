package bench

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/auth/usersig"
)

func init() {
	Register(Scenario{Name: "client-fanout", Run: runClientFanout, Judge: judgeClientFanout,
		Summary: "10,000 client connections in one room: REST update_room_info to the last onRoomInfoChanged (target <= 200 ms) and server memory per connection"})
	Register(Scenario{Name: "client-owner-change", NeedsL: true, Run: runClientOwnerChange, Judge: judgeClientOwnerChange,
		Summary: "owners hand their rooms over with changeUserRole through the client API; counts callbacks delivered and verified (target: roomd cpu/op <= 2.5 L)"})
}

// Targets of issue 8.
const (
	targetBytesPerConn = 32 << 10
	targetFanout       = 200 * time.Millisecond
)

// benchPlatform is the platform the bench's client connections declare.
const benchPlatform = "Web"

// wsEndpoint is the client API endpoint of node i of the app's server (modulo the nodes).
func (a *benchApp) wsEndpoint(i int) string {
	u := a.urls()
	return "ws" + strings.TrimPrefix(u[i%len(u)], "http") + "/v1/client"
}

// updateRoomInfoBody is the body of update_room_info renaming room id to name.
func updateRoomInfoBody(id, name string) []byte {
	b := []byte(`{"RoomInfo":{"RoomId":`)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"RoomName":`...)
	b = strconv.AppendQuote(b, name)
	return append(b, `}}`...)
}

// newFleet starts the client fleet: a child process, or a goroutine when the runner says
// so (tests, where the executable is not roomd).
func (r *Runner) newFleet(ctx context.Context, cfg fleetConfig) (*fleet, error) {
	if r.fleetInProcess || testing.Testing() { // a test binary is not roomd: no child
		r.fleetInProcess = true
		return startFleetInProcess(ctx, cfg)
	}
	return startFleet(cfg, r.Env.Stderr)
}

// goMem is the Go heap in use plus goroutine stacks, after a full collection.
func goMem() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// runClientFanout connects N clients (users never imported: each becomes an account on its
// first login) to one room through a fleet in a child process, measures the bench process's
// resident set before and after (the process is the server, its store and the REST client:
// the connections' other ends live in the child), then renames the room through the REST
// API round after round and times each rename until the last connection has its
// onRoomInfoChanged.
func runClientFanout(ctx context.Context, r *Runner) (*Result, error) {
	n := r.scale(10_000, 1_000)
	rounds := r.scale(5, 3)
	limit, err := raiseNoFile(65536)
	if err != nil {
		return nil, fmt.Errorf("raise the open-file limit: %w", err)
	}
	if limit < uint64(n)+1024 {
		return nil, fmt.Errorf("the open-file limit is %d, too low for %d connections (raise ulimit -n)", limit, n)
	}
	a, err := r.startApp(ctx, "client-fanout", 1, false)
	if err != nil {
		return nil, err
	}
	defer a.close()
	room := a.rooms[0]

	inProc := a.inProcess()
	var go0 int64
	if inProc {
		go0 = goMem() // a full collection and FreeOSMemory first
	}
	rss0 := a.serverRSS()
	t0 := time.Now()
	f, err := r.newFleet(ctx, fleetConfig{Bases: a.urls(), App: benchAppID, Key: a.key, Prefix: "fan-",
		N: n, Room: room, Conc: min(r.Opts.Concurrency, 16), Platform: benchPlatform})
	if err != nil {
		return nil, err
	}
	defer f.close()
	got, err := f.ready()
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, fmt.Errorf("client fleet: %d of %d connections ready", got, n)
	}
	connectTime := time.Since(t0)
	var go1 int64
	if inProc {
		go1 = goMem()
	}
	rss1 := a.serverRSS()

	var fan, rest histogram
	var fleetCPU time.Duration
	m := a.startMeter()
	start := time.Now()
	tag := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	for k := range rounds {
		marker := fmt.Sprintf("fanout-%s-%d", tag, k)
		if err := f.arm(marker); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := a.client.call(ctx, "live_engine_http_srv/update_room_info", updateRoomInfoBody(room, marker)); err != nil {
			return nil, fmt.Errorf("round %d: %w", k, err)
		}
		rest.Record(time.Since(t))
		last, cpu, err := f.done(marker)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", k, err)
		}
		fan.Record(last.Sub(t))
		fleetCPU += cpu
	}
	dt := time.Since(start)
	u := m.since()

	res := &Result{Ops: int64(rounds), Seconds: dt.Seconds(), Clients: n, RSSAfterGC: rss1}
	res.setCPU(u)
	res.setLatency("REST update_room_info call to the last connection's onRoomInfoChanged", &fan)
	res.BytesPerConn = float64(rss1-rss0) / float64(n)
	res.GoBytesPerConn = float64(go1-go0) / float64(n)
	res.Notes = append(res.Notes, fanoutNotes(n, rounds, connectTime, rss0, rss1, res, &rest, limit, inProc)...)
	if u.hasServer && !r.fleetInProcess {
		res.Notes = append(res.Notes, fmt.Sprintf("CPU per round and connection: roomd %.1f us (all of roomd's CPU over the rounds), the client fleet %.1f us (from arming to the last arrival)",
			float64(u.server.Microseconds())/float64(rounds*n), float64(fleetCPU.Microseconds())/float64(rounds*n)))
	}
	if r.fleetInProcess {
		res.Notes = append(res.Notes, "the client fleet ran in this process (a test binary): the memory per connection includes the client ends")
	}
	return res, nil
}

// fanoutNotes explains the client-fanout row.
func fanoutNotes(n, rounds int, connect time.Duration, rss0, rss1 int64, res *Result, rest *histogram, limit uint64, inProc bool) []string {
	mem := fmt.Sprintf("server memory per connection %.1f KiB = (roomd's RSS %s after connecting - %s before, no forced GC: the process collects on its own schedule) / %d; it includes the store's growth (accounts, members)",
		res.BytesPerConn/1024, mib(rss1), mib(rss0), n)
	files := fmt.Sprintf("open-file limit %d in the bench process and in the fleet (the roomd process inherits it)", limit)
	if inProc {
		mem = fmt.Sprintf("server memory per connection %.1f KiB = (RSS %s after connecting - %s before, both after a full GC and FreeOSMemory) / %d; it includes the store's growth (accounts, members); Go heap + stacks alone: %.1f KiB",
			res.BytesPerConn/1024, mib(rss1), mib(rss0), n, res.GoBytesPerConn/1024)
		files = fmt.Sprintf("open-file limit %d in the bench process (the server is in-process) and in the fleet", limit)
	}
	return []string{
		fmt.Sprintf("%d connections (users never imported: each login creates the account) entered one room in %s (16 at a time); the client ends are in a child process unless noted",
			n, connect.Round(time.Millisecond)),
		mem,
		fmt.Sprintf("%d rounds: fan-out p50 %s, max %s; the update_room_info call itself p50 %s",
			rounds, fmtMs(res.P50Ms), fmtMs(res.MaxMs), fmtMs(ms(rest.Quantile(0.5)))),
		files,
	}
}

// judgeClientFanout judges the fan-out time and, when it was measured after a full GC
// (in-process; GoBytesPerConn is then set), the memory per connection.
func judgeClientFanout(r *Runner, res *Result) {
	if res.GoBytesPerConn == 0 {
		res.judge(fmt.Sprintf("fan-out max <= %s (is %s); %.1f KiB per connection, not judged (RSS of a separate process, no forced GC)",
			targetFanout, fmtMs(res.MaxMs), res.BytesPerConn/1024), res.MaxMs > 0 && res.MaxMs <= ms(targetFanout))
		return
	}
	res.judge(fmt.Sprintf("<= %d KiB per connection (is %.1f), fan-out max <= %s (is %s)",
		targetBytesPerConn>>10, res.BytesPerConn/1024, targetFanout, fmtMs(res.MaxMs)),
		res.BytesPerConn > 0 && res.BytesPerConn <= targetBytesPerConn && res.MaxMs <= ms(targetFanout))
}

// clientPair is one worker's two connections, one per owner, in the worker's rooms.
type clientPair [2]*client.Conn

// runClientOwnerChange is owner-change through the client API: each worker holds a
// connection of each of the two owners, both in the worker's rooms, and the current owner
// of a room hands it to the other with changeUserRole(roomOwner). The receiver checks that
// each callback names the handing owner as Operator_Account and the declared platform as
// OptPlatform.
func runClientOwnerChange(ctx context.Context, r *Runner) (*Result, error) {
	nRooms := r.scale(1000, 100)
	a, err := r.startApp(ctx, "client-owner-change", nRooms, true)
	if err != nil {
		return nil, err
	}
	defer a.close()
	a.rc.expectClient(benchPlatform)
	conc := min(r.Opts.Concurrency, nRooms)
	pairs, pushes, err := a.dialPairs(ctx, conc)
	defer func() {
		for _, p := range pairs {
			for _, c := range p {
				if c != nil {
					c.Close()
				}
			}
		}
	}()
	if err != nil {
		return nil, err
	}

	tr := newOwnerTracker(nRooms, false)
	var h histogram
	turn := make([]int, conc)
	b0, c0, _ := a.groupStats()
	m := a.startMeter()
	start := time.Now()
	calls, loadTime, err := closedLoop(ctx, conc, r.timed(), &h, func(ctx context.Context, w int) error {
		i := w + conc*turn[w]
		if i >= nRooms {
			turn[w], i = 0, w
		}
		turn[w]++
		return tr.changeViaClient(ctx, a, pairs[w], i)
	})
	if err != nil {
		return nil, err
	}
	loadEnd := time.Now()
	wctx, cancel := context.WithTimeout(ctx, r.drainTimeout())
	defer cancel()
	end, werr := a.rc.waitFor(wctx, tr.n.Load())
	v := a.rc.verify(tr.byRoom(a))
	total := end.Sub(start)
	res := &Result{Ops: v.Verified, Seconds: total.Seconds(), OpsPerSec: float64(v.Verified) / total.Seconds(), Callbacks: &v}
	res.setCPU(m.since())
	res.setLatency("changeUserRole round trip", &h)
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d rooms, %d workers with a connection of each owner (platform %s): %.0f changeUserRole/s acknowledged for %s; the queue drained %s after the load stopped (counted in the rate); %d onUserRoleChanged pushes received",
			nRooms, conc, benchPlatform, float64(calls)/loadTime.Seconds(), loadTime.Round(time.Millisecond), end.Sub(loadEnd).Round(time.Millisecond), pushes.Load()))
	return a.finish(res, b0, c0, &v, werr)
}

// dialPairs opens, for each of conc workers, one connection per owner and enters both into
// the worker's rooms (w, w+conc, …). It counts the onUserRoleChanged pushes the connections
// receive in the returned counter.
func (a *benchApp) dialPairs(ctx context.Context, conc int) ([]clientPair, *atomic.Int64, error) {
	pushes := new(atomic.Int64)
	pairs := make([]clientPair, conc)
	sigs := make([]string, len(benchOwners))
	for k, u := range benchOwners {
		var err error
		if sigs[k], err = usersig.Sign(benchAppID, a.key, u, 86400, time.Now()); err != nil {
			return pairs, pushes, err
		}
	}
	for w := range pairs {
		for k, u := range benchOwners {
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			c, err := client.Dial(dctx, a.wsEndpoint(w), client.Options{SDKAppID: benchAppID, UserID: u, UserSig: sigs[k], Platform: benchPlatform})
			cancel()
			if err != nil {
				return pairs, pushes, fmt.Errorf("connect %s: %w", u, err)
			}
			pairs[w][k] = c
			go func() { // keep the notification buffer from overflowing
				for note := range c.Notifications() {
					if note.Method == "onUserRoleChanged" {
						pushes.Add(1)
					}
				}
			}()
		}
		for i := w; i < len(a.rooms); i += conc {
			for _, c := range pairs[w] {
				if err := c.Call(ctx, "enterRoom", map[string]string{"roomId": a.rooms[i]}, nil); err != nil {
					return pairs, pushes, fmt.Errorf("enterRoom %s: %w", a.rooms[i], err)
				}
			}
		}
	}
	return pairs, pushes, nil
}

// changeViaClient moves room i to its other owner: the current owner's connection calls
// changeUserRole. The caller must be room i's only driver.
func (t *ownerTracker) changeViaClient(ctx context.Context, a *benchApp, p clientPair, i int) error {
	cur := t.cur[i]
	next := (cur + 1) % uint8(len(benchOwners))
	params := map[string]string{"roomId": a.rooms[i], "userId": benchOwners[next], "role": "roomOwner"}
	if err := p[cur].Call(ctx, "changeUserRole", params, nil); err != nil {
		return fmt.Errorf("changeUserRole of %s to %s: %w", a.rooms[i], benchOwners[next], err)
	}
	t.cur[i] = next
	t.acked[i] = append(t.acked[i], next)
	t.n.Add(1)
	return nil
}

// judgeClientOwnerChange judges roomd's CPU time per change and sets the throughput next
// to the REST figure.
func judgeClientOwnerChange(r *Runner, res *Result) {
	judgeCPU(targetClientOwnerChangeL)(r, res)
	rest := r.results["owner-change"]
	switch {
	case rest != nil && rest.RatioToL > 0 && res.RatioToL > 0:
		res.Notes = append(res.Notes, fmt.Sprintf("%.2f x L through the client, %.2f x L through REST (owner-change): client/REST %.2f",
			res.RatioToL, rest.RatioToL, res.RatioToL/rest.RatioToL))
	default:
		res.Notes = append(res.Notes, fmt.Sprintf("%.2f x L; run with owner-change for the REST figure", res.RatioToL))
	}
}

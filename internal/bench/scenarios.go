package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/config"
)

func init() {
	Register(Scenario{Name: "loopback", Summary: "L: small JSON POSTs/s, Go client to a trivial Go server on 127.0.0.1", Run: runLoopback})
	Register(Scenario{Name: "owner-change", NeedsL: true, Run: runOwnerChange, Judge: judgeCPU(targetOwnerChangeL),
		Summary: "concurrent change_room_owner over 1,000 rooms; counts callbacks delivered and verified (target: roomd cpu/op <= 2.5 L)"})
	Register(Scenario{Name: "create-room", NeedsL: true, Run: runCreateRoom, Judge: judgeCPU(targetCreateRoomL),
		Summary: "concurrent create_room with Live.CallbackAfterCreateRoom on; counts callbacks delivered and verified (target: roomd cpu/op <= 2.5 L)"})
	Register(Scenario{Name: "latency", Run: runLatency, Judge: judgeLatency,
		Summary: "1,000 owner changes/s, paced (open loop): REST reply to callback arrival (target p99 <= 2 ms)"})
	Register(Scenario{Name: "drain", NeedsL: true, Run: runDrain, Judge: judgeCPU(targetDrainL),
		Summary: "100,000 callbacks queued over 10,000 rooms while the receiver is down, then up: roomd's CPU per drained callback (target <= 1.2 L)"})
	Register(Scenario{Name: "idle-rooms", Run: runIdleRooms, Judge: judgeIdleRooms,
		Summary: "100,000 rooms created (no callback); roomd's resident memory (target <= 256 MiB)"})
}

// Targets. The CPU targets (issue 13) are roomd's own CPU time per operation in units of
// L's CPU time per exchange; the latency target is issue 13's, the memory target issue 3's.
const (
	targetOwnerChangeL       = 2.5
	targetClientOwnerChangeL = 2.5
	targetCreateRoomL        = 2.5
	targetDrainL             = 1.2
	targetP99                = 2 * time.Millisecond
	targetIdleRSS            = 256 << 20
)

// judgeCPU returns a judge of roomd's CPU time per operation against limit (in L).
func judgeCPU(limit float64) func(r *Runner, res *Result) {
	return func(r *Runner, res *Result) {
		if res.RoomdCPUPerOpL <= 0 {
			res.Target = fmt.Sprintf("roomd cpu/op <= %.1f L (not measured)", limit)
			return
		}
		res.judge(fmt.Sprintf("roomd cpu/op <= %.1f L (is %.2f L)", limit, res.RoomdCPUPerOpL), res.RoomdCPUPerOpL <= limit)
	}
}

// loopbackReply is what the trivial server answers: the size of roomd's OK envelope.
var loopbackReply = []byte(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","RequestId":"Id-0123456789abcdef0123456789abcdef-O-Seq-1"}`)

// runLoopback measures L: the REST client of the other scenarios, same concurrency, same
// request (URL with a UserSig, change_room_owner body), against a net/http server that
// reads the body and answers a fixed envelope.
func runLoopback(ctx context.Context, r *Runner) (*Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(loopbackReply)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	hc := newHTTPClient(r.Opts.Concurrency)
	defer hc.CloseIdleConnections()
	// A real UserSig, so the request line is exactly as long as a REST call's.
	sig, err := usersig.Sign(benchAppID, "loopback-key", benchAdmin, 86400, time.Now())
	if err != nil {
		return nil, err
	}
	c := newRESTClient(hc, []string{"http://" + ln.Addr().String()}, benchAppID, benchAdmin, sig)
	body := changeOwnerRequest(nil, roomName(1), benchOwners[1])
	var h histogram
	ops, elapsed, err := closedLoop(ctx, r.Opts.Concurrency, r.timed(), &h, func(ctx context.Context, _ int) error {
		return c.call(ctx, "live_engine_http_srv/change_room_owner", body)
	})
	res := &Result{Ops: ops, Seconds: elapsed.Seconds(), OpsPerSec: float64(ops) / elapsed.Seconds(), RatioToL: 1, RatioToLByCPU: 1}
	res.setLatency("request round trip", &h)
	res.Target = "(is L)"
	return res, err
}

// runOwnerChange drives change_room_owner with Concurrency callers over the rooms, each
// room owned by one caller, for the timed duration; then it waits for the outbox to drain
// and verifies the callbacks. The rate counts verified callbacks over load plus drain.
func runOwnerChange(ctx context.Context, r *Runner) (*Result, error) {
	nRooms := r.scale(1000, 100)
	a, err := r.startApp(ctx, "owner-change", nRooms, true)
	if err != nil {
		return nil, err
	}
	defer a.close()
	conc := min(r.Opts.Concurrency, nRooms)
	tr := newOwnerTracker(nRooms, false)
	var h histogram
	bodies := make([][]byte, conc)
	turn := make([]int, conc)
	b0, c0, _ := a.groupStats()
	m := a.startMeter()
	start := time.Now()
	calls, loadTime, err := closedLoop(ctx, conc, r.timed(), &h, func(ctx context.Context, w int) error {
		// Worker w owns rooms w, w+conc, w+2*conc, … and changes them in turn.
		i := w + conc*turn[w]
		if i >= nRooms {
			turn[w], i = 0, w
		}
		turn[w]++
		var err error
		bodies[w], err = tr.change(ctx, a, i, bodies[w])
		return err
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
	res.setLatency("change_room_owner round trip", &h)
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d rooms, %d callers: %.0f change_room_owner/s acknowledged for %s; the queue drained %s after the load stopped (counted in the rate)",
			nRooms, conc, float64(calls)/loadTime.Seconds(), loadTime.Round(time.Millisecond), end.Sub(loadEnd).Round(time.Millisecond)))
	return a.finish(res, b0, c0, &v, werr)
}

// runLatency paces change_room_owner at a steady 1,000/s (open loop: calls start on
// schedule whether or not earlier ones have finished; a room is changed by one call at a
// time) and measures, per change, the time from the REST reply to the callback's arrival.
func runLatency(ctx context.Context, r *Runner) (*Result, error) {
	const rate = 1000
	nRooms := r.scale(1000, 100)
	a, err := r.startApp(ctx, "latency", nRooms, true)
	if err != nil {
		return nil, err
	}
	defer a.close()
	tr := newOwnerTracker(nRooms, true)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
		rest     histogram
	)
	interval := time.Second / rate
	d := r.timed()
	m := a.startMeter()
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		errMu.Lock()
		stop := firstErr != nil
		errMu.Unlock()
		if stop {
			break
		}
		wg.Add(1)
		go func(room int) {
			defer wg.Done()
			tr.mu[room].Lock()
			defer tr.mu[room].Unlock()
			t0 := time.Now()
			_, err := tr.change(ctx, a, room, nil)
			rest.Record(time.Since(t0))
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
			}
		}(i % nRooms)
	}
	wg.Wait()
	loadTime := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	wctx, cancel := context.WithTimeout(ctx, r.drainTimeout())
	defer cancel()
	_, werr := a.rc.waitFor(wctx, tr.n.Load())
	u := m.since()
	v := a.rc.verify(tr.byRoom(a))
	n := tr.n.Load()
	res := &Result{Ops: n, Seconds: loadTime.Seconds(), OpsPerSec: float64(n) / loadTime.Seconds(), Callbacks: &v}
	res.setCPU(u)
	if werr != nil {
		return res, werr
	}
	if !v.OK() {
		return res, fmt.Errorf("callbacks did not verify: %d problems, e.g. %v", v.Problems, v.Examples)
	}
	// The k-th acknowledged change of a room pairs with the k-th callback of that room:
	// verify has just shown the two sequences are the same.
	var h histogram
	early := 0
	for i, id := range a.rooms {
		room := a.rc.rooms[id]
		for k, ack := range tr.ackAt[i] {
			lat := time.Duration(room.arrived[k] - ack)
			if lat < 0 {
				early++ // the callback beat the REST reply to the client
				lat = 0
			}
			h.Record(lat)
		}
	}
	res.setLatency("REST reply to callback arrival", &h)
	res.Notes = append(res.Notes, fmt.Sprintf("%d rooms at %d changes/s; change_room_owner round trip p50 %.2f ms, p99 %.2f ms; %d of %d callbacks arrived before their REST reply (counted as 0)",
		nRooms, rate, ms(rest.Quantile(0.5)), ms(rest.Quantile(0.99)), early, n))
	return res, nil
}

func judgeLatency(r *Runner, res *Result) {
	res.judge(fmt.Sprintf("p99 <= %s at 1,000/s (is %s)", targetP99, fmtMs(res.P99Ms)), res.P99Ms <= ms(targetP99))
}

// runDrain queues callbacks while the receiver answers 503, then brings it back and
// measures the delivery rate until every callback has arrived, in order.
func runDrain(ctx context.Context, r *Runner) (*Result, error) {
	nRooms := r.scale(10_000, 100)
	perRoom := 10
	a, err := r.startApp(ctx, "drain", nRooms, true)
	if err != nil {
		return nil, err
	}
	defer a.close()
	a.rc.down.Store(true)
	tr := newOwnerTracker(nRooms, false)
	conc := min(r.Opts.Concurrency, nRooms)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	qstart := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			// Round by round over the worker's rooms, so that the rooms' queues grow together.
			for range perRoom {
				for i := w; i < nRooms; i += conc {
					var err error
					if body, err = tr.change(ctx, a, i, body); err != nil {
						errMu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						errMu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	queued := tr.n.Load()
	qtime := time.Since(qstart)
	rejected := a.rc.rejected.Load()

	b0, c0, _ := a.groupStats()
	m := a.startMeter()
	up := time.Now()
	a.rc.down.Store(false)
	wctx, cancel := context.WithTimeout(ctx, r.drainTimeout())
	defer cancel()
	end, werr := a.rc.waitFor(wctx, queued)
	u := m.since()
	v := a.rc.verify(tr.byRoom(a))
	dt := end.Sub(up)
	res := &Result{Ops: v.Verified, Seconds: dt.Seconds(), OpsPerSec: float64(v.Verified) / dt.Seconds(), Callbacks: &v}
	res.setCPU(u)
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d callbacks queued over %d rooms in %s (%.0f change_room_owner/s) while the receiver answered 503 (%d attempts refused)",
			queued, nRooms, qtime.Round(time.Millisecond), float64(queued)/qtime.Seconds(), rejected),
		fmt.Sprintf("retry backoff of the bench app: %s doubling to %s, so the first retries after the receiver is back wait up to %s (counted in the rate)",
			benchInitialBackoff, benchMaxBackoff, benchMaxBackoff))
	return a.finish(res, b0, c0, &v, werr)
}

// runIdleRooms creates rooms through the REST API and reads the resident set after a full
// garbage collection, with the server (and its idle rooms) still up.
func runIdleRooms(ctx context.Context, r *Runner) (*Result, error) {
	nRooms := r.scale(100_000, 1_000)
	a, err := r.startApp(ctx, "idle-rooms", 0, false)
	if err != nil {
		return nil, err
	}
	defer a.close()
	before := a.serverRSS()
	rooms := make([]string, nRooms)
	for i := range rooms {
		rooms[i] = roomName(i)
	}
	var h histogram
	m := a.startMeter()
	start := time.Now()
	if err := a.client.createRooms(ctx, r.Opts.Concurrency, rooms, benchOwners[0], &h); err != nil {
		return nil, err
	}
	dt := time.Since(start)
	u := m.since()
	rooms = nil
	after := a.serverRSS()
	res := &Result{Ops: int64(nRooms), Seconds: dt.Seconds(), OpsPerSec: float64(nRooms) / dt.Seconds(), RSSAfterGC: after}
	res.setCPU(u)
	res.setLatency("create_room round trip", &h)
	if a.inProcess() {
		res.Notes = append(res.Notes, fmt.Sprintf("%d rooms (no callback): RSS after GC %s (%s before creating them, server up); whole bench process, load generator included",
			nRooms, mib(after), mib(before)))
	} else {
		res.Notes = append(res.Notes, fmt.Sprintf("%d rooms (no callback): roomd's RSS %s (%s before creating them), not after a forced GC: the process collects on its own schedule",
			nRooms, mib(after), mib(before)))
	}
	return res, nil
}

func judgeIdleRooms(r *Runner, res *Result) {
	res.judge(fmt.Sprintf("RSS <= %s (is %s)", mib(targetIdleRSS), mib(res.RSSAfterGC)), res.RSSAfterGC > 0 && res.RSSAfterGC <= targetIdleRSS)
}

// runCreateRoom creates rooms through the REST API with Concurrency callers for the timed
// duration, with Live.CallbackAfterCreateRoom switched on, then waits for the callbacks and
// verifies them: one per room, with its owner. The rate and the CPU time per operation count
// verified callbacks over the load plus the time the queue takes to drain after it.
func runCreateRoom(ctx context.Context, r *Runner) (*Result, error) {
	a, err := r.startAppWith(ctx, "create-room", 0, false, func(app *config.App) {
		app.Callback.Commands = []string{createRoomCommand}
	})
	if err != nil {
		return nil, err
	}
	defer a.close()
	a.rc.expectCreate()
	var (
		h      histogram
		next   atomic.Int64
		mu     sync.Mutex
		ids    []string
		bodies = make([][]byte, r.Opts.Concurrency)
	)
	m := a.startMeter()
	start := time.Now()
	calls, loadTime, err := closedLoop(ctx, r.Opts.Concurrency, r.timed(), &h, func(ctx context.Context, w int) error {
		id := fmt.Sprintf("cr-%08d", next.Add(1))
		bodies[w] = createRoomBody(bodies[w][:0], id, benchOwners[0])
		if err := a.client.call(ctx, "live_engine_http_srv/create_room", bodies[w]); err != nil {
			return fmt.Errorf("create room %s: %w", id, err)
		}
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	loadEnd := time.Now()
	wctx, cancel := context.WithTimeout(ctx, r.drainTimeout())
	defer cancel()
	end, werr := a.rc.waitFor(wctx, int64(len(ids)))
	u := m.since()
	acked := make(map[string][]uint8, len(ids))
	for _, id := range ids {
		acked[id] = []uint8{0}
	}
	v := a.rc.verify(acked)
	total := end.Sub(start)
	res := &Result{Ops: v.Verified, Seconds: total.Seconds(), OpsPerSec: float64(v.Verified) / total.Seconds(), Callbacks: &v}
	res.setCPU(u)
	res.setLatency("create_room round trip", &h)
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d callers: %.0f create_room/s acknowledged for %s; the queue drained %s after the load stopped (counted in the rate)",
			r.Opts.Concurrency, float64(calls)/loadTime.Seconds(), loadTime.Round(time.Millisecond), end.Sub(loadEnd).Round(time.Millisecond)))
	return a.finish(res, 0, 0, &v, werr)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// finish adds the group-commit note to res and turns a load error or callbacks that did not
// verify into the scenario's error: a rate is only reported for verified callbacks.
func (a *benchApp) finish(res *Result, b0, c0 uint64, v *verification, werr error) (*Result, error) {
	if n := a.groupNote(b0, c0, v.Verified); n != "" {
		res.Notes = append(res.Notes, n)
	}
	if werr != nil {
		return res, werr
	}
	if !v.OK() {
		return res, fmt.Errorf("callbacks did not verify: %d problems, e.g. %v", v.Problems, v.Examples)
	}
	return res, nil
}

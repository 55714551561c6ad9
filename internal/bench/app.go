package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store"
)

// The bench app: one SDKAppID, one admin, two imported owners that every change_room_owner
// alternates between (so each call really changes the owner and emits a callback).
const (
	benchAppID = 1400000000
	benchAdmin = "administrator"
)

var benchOwners = []string{"bench-owner-0", "bench-owner-1"}

// Retry schedule of the bench app: short, so that a queue starts draining as soon as the
// receiver is back. The default (1 s doubling to 10 min) would measure the backoff, not
// roomd.
const (
	benchInitialBackoff = 50 * time.Millisecond
	benchMaxBackoff     = 500 * time.Millisecond
	benchMaxAttempts    = 1000
)

// benchApp is a running roomd with its receiver, client and rooms.
type benchApp struct {
	srv    Server
	rc     *receiver
	hc     *http.Client
	client *restClient
	rooms  []string
	epoch  time.Time
	key    string // the app's secret key, to sign users' UserSigs
	dir    string // the data directory
	r      *Runner
	drop   func() // drops the scenario's PostgreSQL database, after the server stops
}

func roomName(i int) string { return fmt.Sprintf("bench-%06d", i) }

// startApp starts a roomd for one scenario on a fresh data directory with the callback
// Live.CallbackAfterChangeOwner pointed at a new receiver, imports the owners and creates
// nRooms rooms owned by benchOwners[0]. The receiver tracks the rooms when track is set.
func (r *Runner) startApp(ctx context.Context, name string, nRooms int, track bool) (*benchApp, error) {
	return r.startAppWith(ctx, name, nRooms, track, nil)
}

// startAppWith is startApp with tweak applied to the app's configuration before it starts.
func (r *Runner) startAppWith(ctx context.Context, name string, nRooms int, track bool, tweak func(*config.App)) (*benchApp, error) {
	dir, err := r.newDataDir(name)
	if err != nil {
		return nil, err
	}
	rooms := make([]string, nRooms)
	for i := range rooms {
		rooms[i] = roomName(i)
	}
	a := &benchApp{rooms: rooms, epoch: time.Now(), dir: dir, r: r}
	var tracked []string
	if track {
		tracked = rooms
	}
	if a.rc, err = newReceiver(benchAppID, benchAdmin, benchOwners, tracked, a.epoch); err != nil {
		return nil, err
	}
	keyBytes := make([]byte, 32)
	rand.Read(keyBytes)
	key := hex.EncodeToString(keyBytes)
	a.key = key

	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Store.Driver = r.Opts.Store
	cfg.Store.DSN = r.Opts.DSN
	cfg.Store.Durability = r.Opts.Durability
	off, on := false, true
	app := config.App{
		SDKAppID: benchAppID, SecretKey: key, Admins: []string{benchAdmin},
		RateLimit: config.RateLimit{Enabled: &off},
		Callback: &config.Callback{
			URL:      a.rc.URL,
			Commands: []string{changeOwnerCommand},
			Retry: config.Retry{Enabled: &on, MaxAttempts: benchMaxAttempts,
				InitialBackoff: benchInitialBackoff, MaxBackoff: benchMaxBackoff},
		},
	}
	app.ApplyDefaults()
	if tweak != nil {
		tweak(&app)
	}
	cfg.Apps = []config.App{app}
	if err := cfg.Validate(); err != nil {
		a.rc.Close()
		return nil, err
	}
	if a.srv, a.drop, err = r.startServer(ctx, cfg, name, dir); err != nil {
		a.rc.Close()
		return nil, err
	}
	sig, err := usersig.Sign(benchAppID, key, benchAdmin, 86400, time.Now())
	if err != nil {
		a.close()
		return nil, err
	}
	a.hc = newHTTPClient(r.Opts.Concurrency)
	a.client = newRESTClient(a.hc, a.urls(), benchAppID, benchAdmin, sig)
	if err := a.client.importAccounts(ctx, benchOwners); err != nil {
		a.close()
		return nil, fmt.Errorf("set up: %w", err)
	}
	if err := a.client.createRooms(ctx, r.Opts.Concurrency, rooms, benchOwners[0], nil); err != nil {
		a.close()
		return nil, fmt.Errorf("set up: %w", err)
	}
	return a, nil
}

// groupStats returns the store's group-commit counters (database transactions, Tx calls),
// summed over the nodes, when the server exposes them (in-process, or in /metrics); ok is
// false otherwise.
func (a *benchApp) groupStats() (batches, calls uint64, ok bool) {
	st, ok := a.srv.(interface{ Store() store.Store })
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, u := range a.urls() {
			m, err := a.scrape(ctx, u)
			if err != nil {
				return 0, 0, false
			}
			b, ok1 := m["roomd_store_transactions_total"]
			c, ok2 := m["roomd_store_tx_calls_total"]
			if !ok1 || !ok2 {
				return 0, 0, false
			}
			batches += uint64(b)
			calls += uint64(c)
		}
		return batches, calls, true
	}
	gs, ok := st.Store().(interface{ GroupStats() (uint64, uint64) })
	if !ok {
		return 0, 0, false
	}
	batches, calls = gs.GroupStats()
	return batches, calls, true
}

// groupNote describes the group commits since (b0, c0) per operation, for the notes.
func (a *benchApp) groupNote(b0, c0 uint64, ops int64) string {
	b1, c1, ok := a.groupStats()
	if !ok || b1 <= b0 || ops <= 0 {
		return ""
	}
	return fmt.Sprintf("store: %d commits carrying %d transaction calls (%.1f per commit, %.2f commits per operation)",
		b1-b0, c1-c0, float64(c1-c0)/float64(b1-b0), float64(b1-b0)/float64(ops))
}

func (a *benchApp) close() {
	// The server bounds its own graceful stop by its shutdown_timeout (10 s); a separate
	// process gets that and some more before it is killed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Client connections first: the server's graceful shutdown waits up to 5 s for a
	// connection that was opened but never carried a request.
	if a.hc != nil {
		a.hc.CloseIdleConnections()
	}
	if a.srv != nil {
		if sm, ok := a.srv.(serverMeter); ok {
			a.r.serverPeak = max(a.r.serverPeak, sm.PeakRSS())
		}
		if err := a.srv.Close(ctx); err != nil {
			fmt.Fprintf(a.r.Env.Stderr, "roomd bench: %v\n", err)
		}
	}
	if a.drop != nil {
		a.drop()
	}
	a.rc.Close()
}

// inProcess reports whether the app's server runs in the bench process.
func (a *benchApp) inProcess() bool {
	_, ok := a.srv.(serverMeter)
	return !ok
}

// serverRSS is the server's resident set: the server processes' VmRSS (summed over the
// nodes), or, in-process, the bench process's after a full GC.
func (a *benchApp) serverRSS() int64 {
	if sm, ok := a.srv.(serverMeter); ok {
		return sm.RSS()
	}
	runtime.GC()
	debug.FreeOSMemory()
	return rss()
}

// eventsStored is the number of events the store holds, in any state: from the store
// in-process, else from the server's /metrics (roomd_callback_events).
func (a *benchApp) eventsStored(ctx context.Context) (int64, error) {
	if st, ok := a.srv.(interface{ Store() store.Store }); ok {
		s, err := st.Store().EventStats(ctx)
		return s.Delivered + s.Dead + s.Pending + s.Retrying, err
	}
	m, err := a.scrape(ctx, a.srv.URL())
	return int64(m["roomd_callback_events"]), err
}

// scrape reads the server's /metrics at base and returns each metric's value, summed over
// its labels.
func (a *benchApp) scrape(ctx context.Context, base string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return parseMetrics(string(body)), nil
}

// parseMetrics reads the Prometheus text format: each sample's value, summed by metric
// name over its labels.
func parseMetrics(text string) map[string]float64 {
	m := make(map[string]float64)
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		m[name] += v
	}
	return m
}

// urls are the base URLs of the app's server: one per node.
func (a *benchApp) urls() []string {
	if m, ok := a.srv.(multiNode); ok {
		return m.URLs()
	}
	return []string{a.srv.URL()}
}

// ownerTracker keeps, for every room, the owners the REST API acknowledged, in order. A
// room is only ever changed by one goroutine at a time (its lock), so that order is the
// order of the changes.
type ownerTracker struct {
	mu    []sync.Mutex
	cur   []uint8
	acked [][]uint8
	// ackAt holds the arrival of each acknowledgement (ns since the app's epoch) when
	// timing is on.
	ackAt [][]int64
	n     atomic.Int64
}

func newOwnerTracker(nRooms int, timing bool) *ownerTracker {
	t := &ownerTracker{mu: make([]sync.Mutex, nRooms), cur: make([]uint8, nRooms), acked: make([][]uint8, nRooms)}
	if timing {
		t.ackAt = make([][]int64, nRooms)
	}
	return t
}

// change moves room i to its other owner through the REST API and records the
// acknowledgement. The caller must own room i (hold t.mu[i] or be its only driver).
func (t *ownerTracker) change(ctx context.Context, a *benchApp, i int, body []byte) ([]byte, error) {
	next := (t.cur[i] + 1) % uint8(len(benchOwners))
	body = changeOwnerRequest(body[:0], a.rooms[i], benchOwners[next])
	if err := a.client.call(ctx, "live_engine_http_srv/change_room_owner", body); err != nil {
		return body, fmt.Errorf("change owner of %s: %w", a.rooms[i], err)
	}
	if t.ackAt != nil {
		t.ackAt[i] = append(t.ackAt[i], time.Since(a.epoch).Nanoseconds())
	}
	t.cur[i] = next
	t.acked[i] = append(t.acked[i], next)
	t.n.Add(1)
	return body, nil
}

// byRoom returns the acknowledged owners keyed by room id, for receiver.verify.
func (t *ownerTracker) byRoom(a *benchApp) map[string][]uint8 {
	m := make(map[string][]uint8, len(a.rooms))
	for i, id := range a.rooms {
		if len(t.acked[i]) > 0 {
			m[id] = t.acked[i]
		}
	}
	return m
}

// closedLoop runs conc workers until d has passed (or the first error): worker w calls
// op(w) in a loop and each call's latency goes into h. It returns the number of calls that
// succeeded and the time it took.
func closedLoop(parent context.Context, conc int, d time.Duration, h *histogram, op func(ctx context.Context, w int) error) (int64, time.Duration, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		wg       sync.WaitGroup
		ops      atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				if err := op(ctx, w); err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err; cancel() })
					}
					return
				}
				h.Record(time.Since(t0))
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr == nil {
		firstErr = parent.Err()
	}
	return ops.Load(), elapsed, firstErr
}

// drainTimeout bounds the wait for callbacks after the load.
func (r *Runner) drainTimeout() time.Duration {
	if r.Opts.Quick {
		return time.Minute
	}
	return 10 * time.Minute
}

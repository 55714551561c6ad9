package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/config"
)

func init() {
	Register(Scenario{Name: "soak", Run: runSoak, Judge: judgeSoak,
		Summary: "500 owner changes/s with callbacks for --soak (60 s), retention 3 s: database file + WAL size over time (target: last <= 1.2 x at half time)"})
}

// The soak scenario's settings.
const (
	// soakFlat is how much the files may grow after the warm-up and still count as flat.
	soakFlat = 1.2
	// dbFileName is the SQLite file of a data directory (app.DBPath; this package does not
	// import app).
	dbFileName = "roomd.db"
)

// fileSizes are the soak scenario's samples of the database files.
type fileSizes struct {
	// Samples is the number of samples, SampleEvery the time between two.
	Samples     int    `json:"samples"`
	SampleEvery string `json:"sample_every"`
	// WarmUp is when the warm-up ended: by then the retention job has pruned for a while.
	WarmUp string `json:"warm_up"`
	// First, AfterWarmUp, Last and Max are the database file plus its WAL, in bytes.
	First       int64 `json:"first_bytes"`
	AfterWarmUp int64 `json:"after_warm_up_bytes"`
	Last        int64 `json:"last_bytes"`
	Max         int64 `json:"max_bytes"`
	// MaxDB and MaxWAL are the largest sizes of each file on its own.
	MaxDB  int64 `json:"max_db_bytes"`
	MaxWAL int64 `json:"max_wal_bytes"`
	// Flat is Last <= 1.2 x AfterWarmUp.
	Flat bool `json:"flat"`
	// EventsLeft is how many events the store still held at the end (delivered and
	// dead), of Created.
	EventsLeft int64 `json:"events_left"`
	Created    int64 `json:"events_created"`
}

// runSoak paces change_room_owner at a steady rate over rooms for --soak with every
// callback delivered, the app's retention set to a few seconds, and samples the size of
// the database file and its WAL. The files must stay flat once the retention job prunes
// as fast as the load adds: last <= 1.2 x the size after the warm-up.
func runSoak(ctx context.Context, r *Runner) (*Result, error) {
	rate := r.scale(500, 200)
	nRooms := r.scale(500, 50)
	d := r.Opts.Soak
	keep := 3 * time.Second
	every := time.Second
	if r.Opts.Quick {
		d, keep, every = min(d, 6*time.Second), time.Second, 250*time.Millisecond
	}
	// The warm-up is the first half of the run: the database file grows until the first
	// events are older than the retention and a pass (every second) has pruned them, and
	// the WAL grows to its bound (about 32 MiB, see package sqlite's checkpointer) and is
	// then reused from its start; the second half must show no growth.
	warmUp := max(d/2, min(3*keep+3*time.Second, d))
	a, err := r.startAppWith(ctx, "soak", nRooms, true, func(app *config.App) {
		app.Callback.Retention = config.Retention{Delivered: keep, Dead: keep}
	})
	if err != nil {
		return nil, err
	}
	defer a.close()
	tr := newOwnerTracker(nRooms, false)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
		h        histogram
		fs       fileSizes
		samples  []int64
	)
	path := filepath.Join(a.dir, dbFileName)
	sample := func() {
		db, wal := fileSize(path), fileSize(path+"-wal")
		total := db + wal
		if len(samples) == 0 {
			fs.First = total
		}
		samples = append(samples, total)
		fs.Max, fs.MaxDB, fs.MaxWAL = max(fs.Max, total), max(fs.MaxDB, db), max(fs.MaxWAL, wal)
		fs.Last = total
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(sampled)
		t := time.NewTicker(every)
		defer t.Stop()
		sample()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case now := <-t.C:
				sample()
				if fs.AfterWarmUp == 0 && now.Sub(start) >= warmUp {
					fs.AfterWarmUp = fs.Last
				}
			}
		}
	}()

	interval := time.Second / time.Duration(rate)
	m := a.startMeter()
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
			h.Record(time.Since(t0))
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
	stopSampling()
	<-sampled
	if firstErr != nil {
		return nil, firstErr
	}
	wctx, cancel := context.WithTimeout(ctx, r.drainTimeout())
	defer cancel()
	_, werr := a.rc.waitFor(wctx, tr.n.Load())
	u := m.since()
	v := a.rc.verify(tr.byRoom(a))
	n := tr.n.Load()
	res := &Result{Ops: v.Verified, Seconds: loadTime.Seconds(), OpsPerSec: float64(v.Verified) / loadTime.Seconds(), Callbacks: &v}
	res.setCPU(u)
	res.setLatency("change_room_owner round trip", &h)

	fs.Samples, fs.SampleEvery, fs.WarmUp = len(samples), every.String(), warmUp.String()
	if fs.AfterWarmUp == 0 {
		fs.AfterWarmUp = fs.Last
	}
	fs.Flat = fs.AfterWarmUp > 0 && float64(fs.Last) <= soakFlat*float64(fs.AfterWarmUp)
	fs.Created = n
	if n, err := a.eventsStored(ctx); err == nil {
		fs.EventsLeft = n
	}
	res.Soak = &fs
	res.Notes = append(res.Notes,
		fmt.Sprintf("%d rooms at %d changes/s for %s, retention %s (delivered and dead): database + WAL first %s, after the %s warm-up %s, last %s, max %s (file alone max %s, WAL max %s); %s",
			nRooms, rate, loadTime.Round(time.Second), keep, kib(fs.First), warmUp, kib(fs.AfterWarmUp), kib(fs.Last), kib(fs.Max), kib(fs.MaxDB), kib(fs.MaxWAL), flatWord(fs.Flat)),
		fmt.Sprintf("%d events created, %d left in the store at the end (the rest pruned); sizes sampled every %s (%d samples): %s",
			fs.Created, fs.EventsLeft, every, fs.Samples, sampleLine(samples)))
	if werr != nil {
		return res, werr
	}
	if !v.OK() {
		return res, fmt.Errorf("callbacks did not verify: %d problems, e.g. %v", v.Problems, v.Examples)
	}
	return res, nil
}

func judgeSoak(r *Runner, res *Result) {
	s := res.Soak
	if s == nil {
		return
	}
	res.judge(fmt.Sprintf("database + WAL last <= %.1f x after warm-up (is %.2f x)", soakFlat, float64(s.Last)/float64(max(s.AfterWarmUp, 1))), s.Flat)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func kib(b int64) string {
	if b >= 10<<20 {
		return mib(b)
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

func flatWord(flat bool) string {
	if flat {
		return "flat"
	}
	return "NOT flat"
}

// sampleLine shows at most 12 samples, evenly spread, in KiB.
func sampleLine(samples []int64) string {
	if len(samples) == 0 {
		return "none"
	}
	step := max(1, (len(samples)+11)/12)
	out := ""
	for i := 0; i < len(samples); i += step {
		if out != "" {
			out += " "
		}
		out += fmt.Sprint(samples[i] >> 10)
	}
	return out + " KiB"
}

// Package retention prunes the delivery log: delivered and dead events, and their
// attempts, are deleted once they have been finished for longer than their app's
// retention, so that the database stops growing under a steady load.
//
// The job runs in the background on its own timer (the injected clock), never on a request.
// Each pass goes over the apps and deletes their expired events in batches of BatchSize
// (one store transaction each, so the single writer is never held for long and other
// writes interleave), then asks a store that implements store.Compacter to give free space
// back. Pending and retrying events are never deleted, whatever their age (the store
// guarantees it: store.EventWriter.EventPrune). A pruned event simply disappears from the
// delivery log (roomd_delivery/*): get_event answers "not found", list_events skips it.
//
// Once per cluster: before every batch the job asks its Lease whether this node may prune.
// Today roomd runs on one node and SingleNode always says yes. A multi-node driver
// replaces it with a lease held in the shared database (a row with an owner and an expiry,
// or a PostgreSQL advisory lock) so that one node prunes while the others skip; pruning
// twice would be harmless (the batches are idempotent deletes), only wasteful.
package retention

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/store"
)

// Defaults of the per-app retention and of the job.
const (
	// DefaultDelivered keeps delivered events (and Before-callback records) a week: long
	// enough to look into last week's deliveries and to resend one.
	DefaultDelivered = 7 * 24 * time.Hour
	// DefaultDead keeps dead events thirty days: the time an operator has to notice them
	// and redrive them.
	DefaultDead = 30 * 24 * time.Hour
	// DefaultBatchSize is how many events one pruning transaction deletes at most.
	DefaultBatchSize = 500
	// MinInterval and MaxInterval bound the time between two passes; the interval is a
	// tenth of the shortest retention within these bounds (a minute with the defaults).
	MinInterval = time.Second
	MaxInterval = time.Minute
	// compactPages is the most free pages one Compact call releases (4 MiB of 4 KiB
	// pages), and compactCalls the most calls per pass.
	compactPages = 1024
	compactCalls = 16
)

// Policy is one app's retention.
type Policy struct {
	App uint64
	// Delivered and Dead are how long a delivered or dead event is kept after it
	// finished; a value <= 0 keeps that state forever.
	Delivered, Dead time.Duration
}

// Lease decides whether this node runs the cluster-wide job now.
type Lease interface {
	// Hold takes or renews the lease for ttl and reports whether this node holds it. An
	// error counts as not holding it.
	Hold(ctx context.Context, ttl time.Duration) (bool, error)
}

// SingleNode is the Lease of a single node: it always holds it.
type SingleNode struct{}

// Hold implements Lease.
func (SingleNode) Hold(context.Context, time.Duration) (bool, error) { return true, nil }

// Options configure a Job.
type Options struct {
	Store    store.Store
	Policies []Policy
	// Clock arms the timer between passes and gives the time cutoffs are computed from;
	// clock.Real{} when nil.
	Clock  clock.Clock
	Logger *slog.Logger
	// Lease is SingleNode{} when nil.
	Lease Lease
	// BatchSize is DefaultBatchSize when <= 0.
	BatchSize int
	// Interval is the time between passes; when 0, a tenth of the shortest retention,
	// within [MinInterval, MaxInterval].
	Interval time.Duration
	// OnPass, when set, is called after every pass with its result (tests, metrics).
	OnPass func(Pass)
}

// Pass is the outcome of one pass.
type Pass struct {
	// Pruned is how many events were deleted, Batches in how many transactions (each
	// prunes one state of one app).
	Pruned, Batches int
	// PrunedDelivered and PrunedDead split Pruned by the state the events were in.
	PrunedDelivered, PrunedDead int
	// Released is how many free pages Compact gave back to the file system.
	Released int
	// Skipped is set when another node held the lease.
	Skipped bool
	Err     error
}

// Job prunes finished events on a timer.
type Job struct {
	o Options

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a job; nothing runs until Start.
func New(o Options) *Job {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Lease == nil {
		o.Lease = SingleNode{}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Interval <= 0 {
		o.Interval = interval(o.Policies)
	}
	return &Job{o: o}
}

// interval is a tenth of the shortest retention, within [MinInterval, MaxInterval].
func interval(ps []Policy) time.Duration {
	d := MaxInterval
	for _, p := range ps {
		for _, r := range []time.Duration{p.Delivered, p.Dead} {
			if r > 0 {
				d = min(d, r/10)
			}
		}
	}
	return max(d, MinInterval)
}

// Interval returns the time between two passes.
func (j *Job) Interval() time.Duration { return j.o.Interval }

// Start runs passes every Interval until Stop. Starting a started job does nothing.
func (j *Job) Start() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel, j.done = cancel, make(chan struct{})
	go j.loop(ctx, j.done)
}

// Stop ends the job and waits for a pass in progress to finish its batch.
func (j *Job) Stop() {
	j.mu.Lock()
	cancel, done := j.cancel, j.done
	j.cancel = nil
	j.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (j *Job) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		fire := make(chan struct{})
		t := j.o.Clock.AfterFunc(j.o.Interval, func() { close(fire) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-fire:
		}
		p := j.RunOnce(ctx)
		switch {
		case p.Err != nil && ctx.Err() == nil:
			j.o.Logger.Error("retention_failed", "err", p.Err, "pruned", p.Pruned)
		case p.Pruned > 0:
			j.o.Logger.Debug("retention_pruned", "events", p.Pruned, "batches", p.Batches, "pages_released", p.Released)
		}
		if j.o.OnPass != nil {
			j.o.OnPass(p)
		}
	}
}

// RunOnce runs one pass now: for every app, batches until its expired events are gone,
// then compaction.
func (j *Job) RunOnce(ctx context.Context) Pass {
	var p Pass
	now := j.o.Clock.Now()
	ttl := 2 * j.o.Interval
	for _, pol := range j.o.Policies {
		// One state at a time, so that the pass can tell how many of each it pruned (the
		// store answers one count per batch).
		for _, st := range []struct {
			keep  time.Duration
			dead  bool
			count *int
		}{{pol.Delivered, false, &p.PrunedDelivered}, {pol.Dead, true, &p.PrunedDead}} {
			if st.keep <= 0 {
				continue
			}
			params := store.EventPruneParams{App: pol.App, Limit: j.o.BatchSize}
			if st.dead {
				params.DeadBefore = now.Add(-st.keep)
			} else {
				params.DeliveredBefore = now.Add(-st.keep)
			}
			for {
				if err := ctx.Err(); err != nil {
					p.Err = err
					return p
				}
				held, err := j.o.Lease.Hold(ctx, ttl)
				if err != nil || !held {
					p.Skipped, p.Err = true, err
					return p
				}
				var n int
				err = j.o.Store.Tx(ctx, func(tx store.Tx) error {
					var err error
					n, err = tx.EventPrune(ctx, params)
					return err
				})
				if err != nil {
					p.Err = err
					return p
				}
				p.Batches++
				p.Pruned += n
				*st.count += n
				if n < params.Limit {
					break
				}
			}
		}
	}
	// Compaction every pass, not only after pruning: a large purge is given back over
	// several passes, compactCalls steps each.
	if c, ok := j.o.Store.(store.Compacter); ok {
		for range compactCalls {
			n, err := c.Compact(ctx, compactPages)
			p.Released += n
			if err != nil {
				p.Err = err
				return p
			}
			if n < compactPages {
				break
			}
		}
	}
	return p
}

package retention

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
)

const app1, app2 uint64 = 1, 2

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// add stores an event of a created at at and moves it to state with one attempt at at.
func add(t *testing.T, st store.Store, a uint64, state store.EventState, at time.Time) int64 {
	t.Helper()
	var id int64
	err := st.Tx(t.Context(), func(tx store.Tx) error {
		e := store.Event{App: a, RoomID: "r", Command: "Live.CallbackAfterChangeOwner", Body: []byte(`{}`),
			CreatedAt: at, NextAttemptAt: at, State: store.EventPending}
		if err := tx.EventInsert(t.Context(), &e); err != nil {
			return err
		}
		id = e.ID
		if state == store.EventPending {
			return nil
		}
		next := store.EventUpdate{State: state}
		switch state {
		case store.EventDelivered:
			next.DeliveredAt = at
		case store.EventRetrying:
			next.NextAttemptAt = at.Add(time.Hour)
		}
		return tx.EventRecordAttempt(t.Context(), store.Attempt{EventID: id, N: 1, StartedAt: at, URL: "http://x"}, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func exists(t *testing.T, st store.Store, id int64) bool {
	t.Helper()
	_, err := st.EventGet(t.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestInterval(t *testing.T) {
	for _, c := range []struct {
		ps   []Policy
		want time.Duration
	}{
		{nil, MaxInterval},
		{[]Policy{{App: 1, Delivered: DefaultDelivered, Dead: DefaultDead}}, MaxInterval},
		{[]Policy{{App: 1, Delivered: DefaultDelivered, Dead: DefaultDead}, {App: 2, Delivered: 5 * time.Minute, Dead: time.Hour}}, 30 * time.Second},
		{[]Policy{{App: 1, Delivered: 3 * time.Second, Dead: 0}}, MinInterval},
	} {
		if got := interval(c.ps); got != c.want {
			t.Errorf("interval(%+v) = %s, want %s", c.ps, got, c.want)
		}
	}
}

// The job, driven by a manual clock: nothing happens until the clock passes an interval;
// then delivered events go after their retention, dead ones after theirs, each app by its
// own policy, pending and retrying ones never; a pass takes as many batches as it needs.
func TestJobPrunesOnTheClock(t *testing.T) {
	st := openStore(t)
	t0 := time.UnixMilli(1_700_000_000_000)
	clk := clock.NewManual(t0)
	delivered := make([]int64, 7)
	for i := range delivered {
		delivered[i] = add(t, st, app1, store.EventDelivered, t0)
	}
	dead := add(t, st, app1, store.EventDead, t0)
	pending := add(t, st, app1, store.EventPending, t0)
	retrying := add(t, st, app1, store.EventRetrying, t0)
	other := add(t, st, app2, store.EventDelivered, t0)

	passes := make(chan Pass, 16)
	j := New(Options{Store: st, Clock: clk, BatchSize: 3, OnPass: func(p Pass) { passes <- p },
		Policies: []Policy{{App: app1, Delivered: time.Hour, Dead: 3 * time.Hour}, {App: app2, Delivered: 0, Dead: time.Hour}}})
	if j.Interval() != MaxInterval {
		t.Fatalf("interval %s, want %s", j.Interval(), MaxInterval)
	}
	j.Start()
	defer j.Stop()
	// step moves the clock by d (at least an interval), which fires exactly one pass: the
	// job arms its next timer only after the pass.
	step := func(d time.Duration) Pass {
		t.Helper()
		waitTimer(t, clk)
		clk.Advance(d)
		select {
		case p := <-passes:
			if p.Err != nil {
				t.Fatalf("pass: %v", p.Err)
			}
			return p
		case <-time.After(10 * time.Second):
			t.Fatal("no pass after the clock moved")
		}
		return Pass{}
	}
	if p := step(j.Interval()); p.Pruned != 0 {
		t.Fatalf("first pass (1 minute in) pruned %d", p.Pruned)
	}
	if p := step(time.Hour); p.Pruned != 7 || p.PrunedDelivered != 7 || p.PrunedDead != 0 || p.Batches != 5 {
		// app1's delivered: batches of 3, 3, 1 (the last one short ends the state); app1's
		// dead and app2's dead: one empty batch each.
		t.Errorf("pass after an hour: %+v, want 7 delivered pruned in 5 batches", p)
	}
	for _, id := range delivered {
		if exists(t, st, id) {
			t.Errorf("delivered event %d kept past its retention", id)
		}
	}
	if !exists(t, st, dead) {
		t.Error("dead event pruned before its (longer) retention")
	}
	if p := step(2 * time.Hour); p.Pruned != 1 || p.PrunedDead != 1 || p.PrunedDelivered != 0 {
		t.Errorf("pass after three hours: %+v, want the dead event", p)
	}
	for what, id := range map[string]int64{"pending": pending, "retrying": retrying, "app2's delivered (kept forever)": other} {
		if !exists(t, st, id) {
			t.Errorf("%s event %d pruned", what, id)
		}
	}
	if exists(t, st, dead) {
		t.Error("dead event kept past its retention")
	}
}

// waitTimer waits until the job has armed its timer on clk.
func waitTimer(t *testing.T, clk *clock.Manual) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for clk.Waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job armed no timer")
		}
		time.Sleep(time.Millisecond)
	}
}

type noLease struct{ asked atomic.Int32 }

func (l *noLease) Hold(context.Context, time.Duration) (bool, error) {
	l.asked.Add(1)
	return false, nil
}

// A node that does not hold the lease prunes nothing.
func TestJobWithoutLeaseSkips(t *testing.T) {
	st := openStore(t)
	t0 := time.UnixMilli(1_700_000_000_000)
	id := add(t, st, app1, store.EventDelivered, t0)
	l := &noLease{}
	j := New(Options{Store: st, Clock: clock.NewManual(t0.Add(48 * time.Hour)), Lease: l,
		Policies: []Policy{{App: app1, Delivered: time.Hour, Dead: time.Hour}}})
	p := j.RunOnce(t.Context())
	if !p.Skipped || p.Pruned != 0 || l.asked.Load() == 0 || !exists(t, st, id) {
		t.Errorf("without the lease: %+v, asked %d, event kept %v", p, l.asked.Load(), exists(t, st, id))
	}
}

package procs

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"testing"
	"time"
)

// Observe follows the rule of the package documentation: a P more after GrowTicks ticks in a
// row at GrowAt of the Ps' capacity, one fewer after ShrinkTicks ticks in a row below
// ShrinkAt of one P fewer's; a tick in the band between resets both streaks; never below one
// P or above the limit.
func TestObserve(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit int
		cores []float64
		want  []int
	}{
		{"grows after two busy ticks", 4, []float64{0.95, 0.95, 1.9, 1.9}, []int{1, 2, 2, 3}},
		{"a busy tick alone does not grow", 2, []float64{0.95, 0.5, 0.95, 0.5}, []int{1, 1, 1, 1}},
		{"a full machine's share stays on one P", 2, []float64{0.85, 0.88, 0.8, 0.89, 0.86}, []int{1, 1, 1, 1, 1}},
		{"never above the limit", 2, []float64{1, 1, 2, 2, 2, 2}, []int{1, 2, 2, 2, 2, 2}},
		{"shrinks after four light ticks", 2, []float64{1, 1, 0.6, 0.6, 0.6, 0.6}, []int{1, 2, 2, 2, 2, 1}},
		{"a tick in the band resets the shrink", 2, []float64{1, 1, 0.6, 0.6, 0.6, 0.8, 0.6, 0.6, 0.6}, []int{1, 2, 2, 2, 2, 2, 2, 2, 2}},
		{"a busy tick resets the shrink", 3, []float64{1, 1, 2, 2, 1.2, 1.2, 1.2, 1.9, 1.2}, []int{1, 2, 2, 3, 3, 3, 3, 3, 3}},
		{"one step per streak", 4, []float64{1, 1, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0}, []int{1, 2, 2, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 2}},
		{"never below one P", 2, []float64{0, 0, 0, 0, 0}, []int{1, 1, 1, 1, 1}},
		{"a limit of one", 1, []float64{5, 5, 5}, []int{1, 1, 1}},
	} {
		ctl := NewController(c.limit)
		var got []int
		for _, u := range c.cores {
			got = append(got, ctl.Observe(u))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: cores %v gave Ps %v, want %v", c.name, c.cores, got, c.want)
		}
	}
}

// run sets GOMAXPROCS as the controller decides from the CPU time it reads at each tick.
func TestRunSetsGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	var used time.Duration
	cpu := make(chan time.Duration, 1)
	cpu <- 0
	read := func() (time.Duration, bool) {
		if d, ok := <-cpu; ok {
			used = d
		}
		return used, true
	}
	set := make(chan int, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, NewController(3), ticks, read, func(n int) int { prev := runtime.GOMAXPROCS(n); set <- n; return prev }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	next := func() int {
		select {
		case n := <-set:
			return n
		case <-time.After(10 * time.Second):
			t.Fatal("GOMAXPROCS was not set")
			return 0
		}
	}
	if n := next(); n != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Fatalf("started at %d Ps (GOMAXPROCS %d), want 1", n, runtime.GOMAXPROCS(0))
	}
	now := time.Now()
	total := time.Duration(0)
	tick := func(cores float64) {
		total += time.Duration(cores * float64(Tick))
		cpu <- total
		now = now.Add(Tick)
		ticks <- now
	}
	for range GrowTicks {
		tick(1)
	}
	if n := next(); n != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Fatalf("busy: %d Ps (GOMAXPROCS %d), want 2", n, runtime.GOMAXPROCS(0))
	}
	for range ShrinkTicks {
		tick(0.1)
	}
	if n := next(); n != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Fatalf("idle: %d Ps (GOMAXPROCS %d), want 1", n, runtime.GOMAXPROCS(0))
	}
	cancel()
	<-done
	select {
	case n := <-set:
		t.Errorf("set %d Ps after the last change", n)
	default:
	}
}

// An operator's GOMAXPROCS wins: the controller does not start.
func TestStartLeavesAChosenGOMAXPROCS(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	env := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	if Start(context.Background(), env, slog.New(slog.NewTextHandler(io.Discard, nil))) {
		t.Error("started with GOMAXPROCS set in the environment")
	}
	if runtime.GOMAXPROCS(0) != before {
		t.Errorf("GOMAXPROCS %d, was %d", runtime.GOMAXPROCS(0), before)
	}
}

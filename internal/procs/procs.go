package procs

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"time"
)

// The controller's rule (see the package documentation).
const (
	Tick        = 500 * time.Millisecond
	GrowAt      = 0.9
	GrowTicks   = 2
	ShrinkAt    = 0.7
	ShrinkTicks = 4
)

// Controller decides the number of Ps from the CPU roomd used, tick by tick. The zero value
// is not usable; see NewController.
type Controller struct {
	max, procs int
	// above and below count the ticks in a row whose usage called for one P more, or one
	// fewer.
	above, below int
}

// NewController returns a controller that starts at one P and never goes above limit.
func NewController(limit int) *Controller {
	return &Controller{max: max(limit, 1), procs: 1}
}

// Procs is the number of Ps the controller runs with.
func (c *Controller) Procs() int { return c.procs }

// Observe takes the CPU roomd used over the last tick, in cores (CPU time over the tick's
// wall time), and returns the number of Ps to run with from now on.
func (c *Controller) Observe(cores float64) int {
	switch {
	case c.procs < c.max && cores >= GrowAt*float64(c.procs):
		c.below = 0
		if c.above++; c.above >= GrowTicks {
			c.procs, c.above = c.procs+1, 0
		}
	case c.procs > 1 && cores < ShrinkAt*float64(c.procs-1):
		c.above = 0
		if c.below++; c.below >= ShrinkTicks {
			c.procs, c.below = c.procs-1, 0
		}
	default:
		c.above, c.below = 0, 0
	}
	return c.procs
}

// Start runs the controller until ctx ends, setting GOMAXPROCS as it decides, and returns
// at once. It does nothing when getenv("GOMAXPROCS") is set, when GOMAXPROCS is one, or
// where the process's CPU time cannot be read; it reports whether it runs. Changes are
// logged at debug level.
func Start(ctx context.Context, getenv func(string) string, log *slog.Logger) bool {
	if getenv("GOMAXPROCS") != "" {
		return false
	}
	limit := runtime.GOMAXPROCS(0)
	if _, ok := ProcessCPU(); !ok || limit <= 1 {
		return false
	}
	t := time.NewTicker(Tick)
	go func() {
		defer t.Stop()
		run(ctx, NewController(limit), t.C, ProcessCPU, runtime.GOMAXPROCS, log)
	}()
	return true
}

// run is Start's loop, with the tick, the CPU reading and the setting of GOMAXPROCS given
// (tests give their own). It sets the controller's first count before the first tick.
func run(ctx context.Context, c *Controller, tick <-chan time.Time, cpu func() (time.Duration, bool),
	set func(int) int, log *slog.Logger) {
	set(c.Procs())
	last, _ := cpu()
	at := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick:
			used, ok := cpu()
			wall := now.Sub(at)
			if !ok || wall <= 0 {
				continue
			}
			cores := float64(used-last) / float64(wall)
			last, at = used, now
			before := c.Procs()
			if p := c.Observe(cores); p != before {
				set(p)
				log.Debug("GOMAXPROCS changed", "from", before, "to", p, "cpu_cores", strconv.FormatFloat(cores, 'f', 2, 64))
			}
		}
	}
}

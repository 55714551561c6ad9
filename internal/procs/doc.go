// Package procs sizes GOMAXPROCS, the number of Ps (OS threads running Go code at once), to
// the CPU roomd actually uses, from one P up to the runtime's default (the machine's CPUs or
// its cgroup's limit).
//
// Go's scheduler is work-conserving: whenever a goroutine becomes runnable while a P is idle,
// it wakes a thread for that P, which looks for work, often finds none, and sleeps again.
// roomd hands work between goroutines several times per request (connection, store writer,
// hub, dispatcher), so with idle Ps much of that waking is wasted: on the 2-core machine of
// docs/bench.md, running the same load on one P instead of two took 15–20 % less CPU per
// owner change, at the same or a higher rate, and about 25 % less at 1,000 changes/s
// (golang/go#54622 describes the cost). A P more is worth having only when roomd keeps the
// ones it has busy.
//
// # The controller
//
// Every Tick the controller reads the process's CPU time (user and system, every thread)
// and computes the cores it used over the tick, u. With p Ps (GOMAXPROCS):
//
//	      u ≥ GrowAt × p for GrowTicks ticks in a row, p < max   ──▶ p+1
//	p ◀── u < ShrinkAt × (p−1) for ShrinkTicks ticks in a row, p > 1   ──▶ p−1
//	      anything else                                          ──▶ p, streaks reset
//
// It starts at one P. With GrowAt 0.9, a P more is added when the Ps roomd has are nearly
// always running, which they are only when the machine gives their threads the CPU they ask
// for: a process that shares a full machine with others gets less than its Ps' worth and stays
// where it is, since a P more would only wake threads the machine cannot run. A P is given
// back when the load would fit in one P fewer with ShrinkAt's headroom, after ShrinkTicks
// (two seconds), so that a pause between bursts does not shrink it. The two thresholds leave
// a band in which nothing changes, so the count does not flap at one load.
//
// # Off
//
// The controller does nothing when GOMAXPROCS is set in the environment (the operator
// chose a count; Go applies it), when the runtime's default is one P, or where the process's
// CPU time cannot be read (platforms without getrusage).
package procs

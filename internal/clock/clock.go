// Package clock is the time source of the components that wait: the current time and
// timers that fire on the same clock. Real is the system clock; Manual stands still until
// a test moves it, and its timers fire only then, so a test that stops time cannot make a
// component spin on a timer that keeps coming due; Func reads the time from a function
// (a stubbed Now) and waits in real time.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and fires timers on that time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f once d has passed on this clock, unless the returned Timer is
	// stopped first. Like time.AfterFunc, f may run on a goroutine of the clock's choosing;
	// it must not assume the caller's locks.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call of AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not started yet, and reports whether it did.
	Stop() bool
}

// Real is the system clock: time.Now and time.AfterFunc.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Func is a clock whose time is read from the function and whose timers wait in real time:
// the adapter for code that was given only a Now func (a stubbed time for what is stored,
// real time for waiting).
type Func func() time.Time

// Now returns f().
func (f Func) Now() time.Time { return f() }

// AfterFunc is time.AfterFunc.
func (Func) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Manual is a clock for tests: it stands still until Advance or Set moves it, and its
// timers fire only then. Its zero value starts at the zero time; use NewManual to start
// elsewhere. It is safe for concurrent use.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

// NewManual returns a manual clock that reads start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// AfterFunc arms a timer that calls f once the clock has been moved d past now. A timer
// with d <= 0 is due at once: f runs on a goroutine of its own, as with time.AfterFunc.
func (m *Manual) AfterFunc(d time.Duration, f func()) Timer {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{m: m, at: m.now.Add(d), f: f}
	if d <= 0 {
		go f()
		return t
	}
	m.timers = append(m.timers, t)
	return t
}

// Advance moves the clock forward by d and fires the timers that came due, in the order
// of their deadlines, on the caller's goroutine; Advance returns once they have returned.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	to := m.now.Add(d)
	m.mu.Unlock()
	m.Set(to)
}

// Set moves the clock to t (never backwards: an earlier t leaves it where it is) and
// fires the timers that came due, as Advance does.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	if t.After(m.now) {
		m.now = t
	}
	var due, rest []*manualTimer
	for _, tm := range m.timers {
		if tm.at.After(m.now) {
			rest = append(rest, tm)
		} else {
			due = append(due, tm)
		}
	}
	m.timers = rest
	m.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, tm := range due {
		tm.f()
	}
}

// Waiting returns how many timers are armed and not yet due: a test can wait for a
// component to arm its timer before it moves the clock.
func (m *Manual) Waiting() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.timers)
}

type manualTimer struct {
	m  *Manual
	at time.Time
	f  func()
}

// Stop disarms the timer; it reports false when the timer had already fired or was
// stopped.
func (t *manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	for i, tm := range t.m.timers {
		if tm == t {
			t.m.timers = append(t.m.timers[:i], t.m.timers[i+1:]...)
			return true
		}
	}
	return false
}

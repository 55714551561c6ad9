package clock

import (
	"sync/atomic"
	"testing"
	"time"
)

var (
	_ Clock = Real{}
	_ Clock = Func(time.Now)
	_ Clock = (*Manual)(nil)
)

// A manual clock's timers fire when the clock is moved past their deadline, in deadline
// order, and never while it stands still.
func TestManualFiresTimersOnlyWhenMoved(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	m := NewManual(start)
	var order []int
	m.AfterFunc(2*time.Second, func() { order = append(order, 2) })
	m.AfterFunc(time.Second, func() { order = append(order, 1) })
	stopped := m.AfterFunc(1500*time.Millisecond, func() { order = append(order, 99) })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop of an armed timer: want true once, then false")
	}
	if m.Waiting() != 2 {
		t.Fatalf("Waiting = %d, want 2", m.Waiting())
	}
	m.Advance(999 * time.Millisecond)
	if len(order) != 0 {
		t.Fatalf("fired early: %v", order)
	}
	m.Advance(5 * time.Second)
	if len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Errorf("fired %v, want [1 2]", order)
	}
	if got := m.Now(); !got.Equal(start.Add(5999 * time.Millisecond)) {
		t.Errorf("Now = %v", got)
	}
	m.Set(start) // never backwards
	if got := m.Now(); !got.Equal(start.Add(5999 * time.Millisecond)) {
		t.Errorf("Set moved the clock backwards to %v", got)
	}
}

// A timer that is due at once fires without the clock moving, on its own goroutine.
func TestManualDueTimerFiresAtOnce(t *testing.T) {
	m := NewManual(time.Unix(0, 0))
	var fired atomic.Bool
	done := make(chan struct{})
	m.AfterFunc(0, func() { fired.Store(true); close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a timer due at once did not fire")
	}
	if m.Waiting() != 0 {
		t.Errorf("Waiting = %d, want 0", m.Waiting())
	}
}

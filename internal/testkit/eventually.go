package testkit

import (
	"testing"
	"time"
)

// Eventually checks cond every 20 ms until it returns true, and fails t when timeout passes
// first; the failure names what and the last state cond described. It is for state that
// gives no signal when it changes (a store, an HTTP endpoint); a Receiver's callbacks are
// waited for with Receiver.WaitFor instead.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, state)
		}
		<-tick.C
	}
}

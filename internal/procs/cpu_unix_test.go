//go:build unix

package procs

import "testing"

// The CPU time read is the process's, and grows with work done.
func TestProcessCPU(t *testing.T) {
	a, ok := ProcessCPU()
	if !ok {
		t.Fatal("no process CPU time")
	}
	x := 0
	for i := range 50_000_000 {
		x ^= i
	}
	b, _ := ProcessCPU()
	if b <= a {
		t.Errorf("CPU time %v then %v after a busy loop (%d)", a, b, x)
	}
}

//go:build !linux

package faulttest

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death signal; the tests'
// cleanups still kill every process they start.
func dieWithParent(*exec.Cmd) {}

//go:build !linux

package bench

import "os/exec"

// setPdeathsig does nothing outside Linux.
func setPdeathsig(cmd *exec.Cmd) {}

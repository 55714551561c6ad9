package bench

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill the child when the bench process dies, so that no
// server outlives an interrupted run.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

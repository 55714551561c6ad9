package clientws

import (
	"syscall"
	"unsafe"
)

// sysWrite is write(2) on a non-blocking socket, made as a raw system call: the Go
// scheduler is not told that the goroutine enters a system call (entersyscall and
// exitsyscall are skipped), which is right for a call that never blocks. With the
// scheduler told, a publish to 10,000 connections (one write each, ~10 µs of kernel
// time for loopback TCP) kept sysmon polling every 20 µs and handing the writers'
// processors to other threads mid-write: ~12% of roomd's CPU during the fan-out
// (docs/bench.md, "Issue 13, change: raw non-blocking writes").
func sysWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

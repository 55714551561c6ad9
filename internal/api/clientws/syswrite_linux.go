package clientws

import (
	"syscall"
	"unsafe"
)

// sysWrite writes p to the socket fd without ever waiting: send(2) with MSG_DONTWAIT (so it
// cannot block even on a descriptor in blocking mode) and MSG_NOSIGNAL (a broken connection
// returns EPIPE instead of raising SIGPIPE), made as a raw system call.
//
// Raw: the Go scheduler is not told that the goroutine enters a system call
// (entersyscall and exitsyscall are skipped), which is right for a call that cannot block.
// Told, as syscall.Write tells it, a publish to 10,000 connections (one write each, 10–15 µs
// of kernel time for loopback TCP) kept sysmon polling every 20 µs and handing the writers'
// processors to other threads mid-write: ~12% of roomd's CPU during the fan-out. send rather
// than write skips vfs_write's bookkeeping for files (~0.4 µs a call). See docs/bench.md,
// "Issue 13, change: raw non-blocking socket writes".
func sysWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
		syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

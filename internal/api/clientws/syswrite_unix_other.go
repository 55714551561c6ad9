//go:build unix && !linux

package clientws

import "syscall"

// sysWrite is write(2) on a non-blocking socket (see the Linux version, which makes it a
// raw system call).
func sysWrite(fd int, p []byte) (int, error) { return syscall.Write(fd, p) }

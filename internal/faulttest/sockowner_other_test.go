//go:build !linux

package faulttest

// socketOwner cannot tell a socket's process here: the cluster tests then do not check
// which node sent each callback.
func socketOwner(localPort, remotePort int, pids []int) int { return -1 }

//go:build !unix

package dispatcher

import "net"

// peerOpen cannot check a connection without a blocking read here: a connection idle for
// longer than probeIdleAfter is not reused.
func peerOpen(net.Conn) bool { return false }

//go:build !linux

package bench

import "sync"

// goReader reads each of the fleet's connections in a goroutine of its own (fleetpoll_linux.go
// has the lean reader).
type goReader struct {
	onText func([]byte)
	broken func(error)
	mu     sync.Mutex
	conns  []*wsConn
	closed bool
}

// newFleetReader starts the reader; onText gets every text or binary message (the slice
// is valid during the call), broken the first error of any connection.
func newFleetReader(onText func([]byte), broken func(error)) (fleetReader, error) {
	return &goReader{onText: onText, broken: broken}, nil
}

func (r *goReader) add(c *wsConn) error {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	go func() {
		for {
			p, err := c.ReadText()
			if err != nil {
				r.mu.Lock()
				closed := r.closed
				r.mu.Unlock()
				if !closed {
					r.broken(err)
				}
				return
			}
			r.onText(p)
		}
	}()
	return nil
}

func (r *goReader) close() {
	r.mu.Lock()
	r.closed = true
	conns := r.conns
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

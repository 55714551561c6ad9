package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// pollReader reads the fleet's connections the way 10,000 devices would cost nothing to
// read in one process: GOMAXPROCS goroutines, each with its own epoll set and its share of
// the sockets, one read system call per ready socket, no goroutine per connection. A worker
// waits for its epoll set through Go's poller (the set is itself a pollable descriptor), not
// in a blocking epoll_wait, which would hold one of the two Ps until sysmon took it back and
// starve the rest of the process (pongs came late enough for heartbeats to be lost). The
// goroutine per connection of the portable reader (fleetpoll_other.go) cost the fleet
// ~17 µs of CPU per received frame on this machine (a netpoll wake-up, a read, a read that
// finds nothing and parks), on the same two cores roomd needs for its writes; a real
// client has a device of its own. Every byte is still read from its socket and parsed as
// WebSocket frames, pings are answered, and a frame counts as received when its bytes are
// read in the fleet's process.
type pollReader struct {
	onText func([]byte)
	broken func(error)
	ws     []*pollWorker
	next   atomic.Uint32
	stop   atomic.Bool
	wg     sync.WaitGroup
}

type pollWorker struct {
	epfd  int
	ep    *os.File        // epfd, in Go's poller: the worker waits for it without holding a P
	rc    syscall.RawConn // ep's
	mu    sync.Mutex      // guards conns against add
	conns map[int32]*pollConn
	buf   []byte
}

// pollConn is one connection's reading state: the bytes of a frame not yet complete.
type pollConn struct {
	fd      int
	pending []byte
}

// newFleetReader starts the reader; onText gets every text or binary message (the slice
// is valid during the call), broken the first error of any connection.
func newFleetReader(onText func([]byte), broken func(error)) (fleetReader, error) {
	r := &pollReader{onText: onText, broken: broken}
	for range runtime.GOMAXPROCS(0) {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err == nil {
			err = syscall.SetNonblock(fd, true)
		}
		if err != nil {
			r.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		w := &pollWorker{epfd: fd, ep: os.NewFile(uintptr(fd), "epoll"), conns: map[int32]*pollConn{}, buf: make([]byte, 64<<10)}
		if w.rc, err = w.ep.SyscallConn(); err != nil {
			w.ep.Close()
			r.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		r.ws = append(r.ws, w)
		r.wg.Go(func() { r.run(w) })
	}
	return r, nil
}

// add takes c's socket over; c must not be used any more.
func (r *pollReader) add(c *wsConn) error {
	sc, ok := c.c.(syscall.Conn)
	if !ok {
		return errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) }); err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	syscall.CloseOnExec(fd)
	pc := &pollConn{fd: fd}
	if n := c.r.Buffered(); n > 0 { // frames read with the handshake or the enterRoom call
		b, _ := c.r.Peek(n)
		pc.pending = append([]byte(nil), b...)
	}
	c.c.Close() // Go's poller lets go of the socket; the duplicate keeps it open
	w := r.ws[int(r.next.Add(1))%len(r.ws)]
	w.mu.Lock()
	w.conns[int32(fd)] = pc
	w.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return err
	}
	if len(pc.pending) > 0 {
		w.mu.Lock()
		err := r.consume(pc, nil)
		w.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *pollReader) run(w *pollWorker) {
	var events [256]syscall.EpollEvent
	for !r.stop.Load() {
		var n int
		var werr error
		err := w.rc.Read(func(fd uintptr) bool {
			n, werr = syscall.EpollWait(int(fd), events[:], 0)
			if werr == syscall.EINTR {
				n, werr = 0, nil
			}
			return n > 0 || werr != nil // nothing ready: park until the set is readable
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			if !r.stop.Load() {
				r.broken(fmt.Errorf("epoll_wait: %w", err))
			}
			return
		}
		w.mu.Lock()
		for _, ev := range events[:n] {
			pc := w.conns[ev.Fd]
			if pc == nil {
				continue
			}
			// Level-triggered: what one read leaves in the socket wakes the next wait.
			m, err := syscall.Read(pc.fd, w.buf)
			switch {
			case err == syscall.EAGAIN || err == syscall.EINTR:
				continue
			case err != nil:
				r.fail(w, pc, err)
				continue
			case m == 0:
				r.fail(w, pc, errors.New("EOF"))
				continue
			}
			if err := r.consume(pc, w.buf[:m]); err != nil {
				r.fail(w, pc, err)
			}
		}
		w.mu.Unlock()
	}
}

// fail drops a broken connection and reports it (unless the reader is stopping).
func (r *pollReader) fail(w *pollWorker, pc *pollConn, err error) {
	syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, pc.fd, nil)
	delete(w.conns, int32(pc.fd))
	syscall.Close(pc.fd)
	if !r.stop.Load() {
		r.broken(err)
	}
}

// consume parses the frames in pc.pending followed by b, handing messages to onText and
// answering pings, and keeps an incomplete frame for the next read.
func (r *pollReader) consume(pc *pollConn, b []byte) error {
	p := b
	if len(pc.pending) > 0 {
		pc.pending = append(pc.pending, b...)
		p = pc.pending
	}
	for {
		op, payload, size, err := parseFrame(p)
		if err != nil {
			return err
		}
		if size == 0 { // incomplete
			break
		}
		switch op {
		case 0x1, 0x2:
			r.onText(payload)
		case 0x9:
			if err := writeMasked(pc.fd, 0xA, payload); err != nil {
				return err
			}
		case 0x8:
			writeMasked(pc.fd, 0x8, payload[:min(len(payload), 2)])
			return errWSClosed
		}
		p = p[size:]
	}
	switch {
	case len(p) == 0:
		pc.pending = pc.pending[:0]
		if cap(pc.pending) > 4096 {
			pc.pending = nil
		}
	case len(pc.pending) > 0:
		pc.pending = append(pc.pending[:0], p...) // overlapping: copy moves forward safely
	default:
		pc.pending = append([]byte(nil), p...)
	}
	return nil
}

// parseFrame parses the server frame at the start of p: its opcode, payload and total size,
// or size 0 when p does not hold all of it yet.
func parseFrame(p []byte) (op byte, payload []byte, size int, err error) {
	if len(p) < 2 {
		return 0, nil, 0, nil
	}
	if p[0]&0x80 == 0 {
		return 0, nil, 0, errors.New("fragmented message")
	}
	if p[1]&0x80 != 0 {
		return 0, nil, 0, errors.New("masked frame from the server")
	}
	op = p[0] & 0x0f
	n, h := uint64(p[1]&0x7f), 2
	switch n {
	case 126:
		if len(p) < 4 {
			return 0, nil, 0, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(p[2:])), 4
	case 127:
		if len(p) < 10 {
			return 0, nil, 0, nil
		}
		n, h = binary.BigEndian.Uint64(p[2:]), 10
	}
	if n > 1<<20 {
		return 0, nil, 0, fmt.Errorf("frame of %d bytes", n)
	}
	if uint64(len(p)-h) < n {
		return 0, nil, 0, nil
	}
	return op, p[h : h+int(n)], h + int(n), nil
}

// writeMasked writes one small masked control frame (at most 125 bytes of payload).
func writeMasked(fd int, op byte, p []byte) error {
	var b [2 + 4 + 125]byte
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b[0], b[1] = 0x80|op, 0x80|byte(len(p))
	copy(b[2:6], mask[:])
	for i, c := range p {
		b[6+i] = c ^ mask[i&3]
	}
	frame := b[:6+len(p)]
	for len(frame) > 0 {
		n, err := syscall.Write(fd, frame)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("write a control frame: %w", err)
		}
		frame = frame[n:]
	}
	return nil
}

// close stops the workers and closes every socket.
func (r *pollReader) close() {
	r.stop.Store(true)
	for _, w := range r.ws {
		w.ep.Close() // wakes the worker's wait with an error
	}
	r.wg.Wait()
	for _, w := range r.ws {
		for _, pc := range w.conns {
			syscall.Close(pc.fd)
		}
	}
}

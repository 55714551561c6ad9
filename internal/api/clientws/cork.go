package clientws

import (
	"sync"
	"time"
)

// The cork: while the read loop handles a request, the frames queued for its session wait
// for the request's response instead of starting the writer, and the read loop then writes
// them and the response together, itself, in one non-blocking system call. A method's own
// pushes (queued when its change commits, before it returns) and its response so cost one
// write and no writer goroutine. Order is unchanged: frames still go out in the order they
// were queued. A frame never waits longer than corkHold for the response: a method that
// takes longer (one waiting for an App backend's Before-callback, say) releases the frames
// it holds to the writer goroutine, as if there were no cork.

// corkHold is the longest a frame waits for the response of the request being handled.
var corkHold = 5 * time.Millisecond // a variable for the tests

// joinMax is the largest batch the read loop copies into one buffer for its write; a
// larger frame is written on its own, frames beyond the limit go to the writer.
const joinMax = 8 << 10

var joinBufs = sync.Pool{New: func() any { b := make([]byte, 0, joinMax); return &b }}

// cork starts holding the frames queued for s; the read loop calls it before it handles a
// frame, and uncork when the frame's response (if any) is queued.
func (s *Session) cork() {
	s.qmu.Lock()
	s.corked = true
	s.qmu.Unlock()
}

// holdLocked arms the timer that releases held frames after corkHold. s.qmu must be held.
func (s *Session) holdLocked() {
	if s.holding || s.ended {
		return
	}
	s.holding = true
	if s.hold == nil {
		s.hold = time.AfterFunc(corkHold, s.release)
	} else {
		s.hold.Reset(corkHold)
	}
}

// release runs when frames have waited corkHold for a response: it ends the cork and
// starts the writer for them.
func (s *Session) release() {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if !s.holding { // the read loop uncorked meanwhile
		return
	}
	s.holding, s.corked = false, false
	if !s.writing && len(s.queue) > 0 {
		s.writing = s.goLocked(s.drain)
	}
}

// uncork ends the cork and writes what is queued on the read loop's goroutine, without
// blocking: as much as the socket takes at once (all of it, unless the client has fallen
// behind by a socket buffer). What it does not take goes to the writer goroutine, as does
// everything when a writer is already running or the connection is not a plain socket.
func (s *Session) uncork() {
	s.qmu.Lock()
	s.corked = false
	if s.holding {
		s.holding = false
		s.hold.Stop()
	}
	if s.writing || len(s.queue) == 0 || s.ended {
		s.qmu.Unlock()
		return
	}
	s.writing = true // the writer's role: no writer goroutine starts while we write
	s.writeQueuedLocked()
}

// writeQueuedLocked writes what is queued for s without blocking, as uncork describes, for
// a caller that holds s.qmu and has taken the writer's role (s.writing); it unlocks s.qmu.
// Frames left over, and the frames of a session that is not a plain socket or is closing,
// go to the writer goroutine; the role passes to it, or is given up.
func (s *Session) writeQueuedLocked() {
	if len(s.queue) == 0 || s.ended {
		s.writing = false
		s.qmu.Unlock()
		return
	}
	if s.rc == nil || s.reason.Load() != 0 {
		s.writing = s.goLocked(s.drain)
		s.qmu.Unlock()
		return
	}
	frames := s.queue
	s.queue = nil
	s.qmu.Unlock()

	n := s.tryWriteFrames(frames)

	s.qmu.Lock()
	if n >= 0 && len(s.queue) > 0 && n == totalLen(frames) && s.reason.Load() == 0 {
		// Frames queued while we wrote, and the socket took all: write them too, rather
		// than starting the writer goroutine for them.
		s.pending -= len(frames)
		clear(frames)
		s.writeQueuedLocked()
		return
	}
	rest := frames[:0]
	if n < 0 { // closing or failed: the frames are dropped, as writeFrames drops them
		s.pending -= len(frames)
	} else {
		k := 0
		for k < len(frames) && n >= len(frames[k]) {
			n -= len(frames[k])
			k++
		}
		s.pending -= k
		if rest = frames[k:]; len(rest) > 0 {
			rest[0] = rest[0][n:]
		}
	}
	if len(rest) > 0 { // the socket is full: the rest goes first, by the writer
		s.queue = append(append(make([][]byte, 0, len(rest)+len(s.queue)), rest...), s.queue...)
	} else if s.queue == nil && cap(frames) <= 16 {
		clear(frames)
		s.queue = frames[:0] // keep the small array for the next request
	}
	s.writing = len(s.queue) > 0 && s.goLocked(s.drain)
	s.qmu.Unlock()
}

// tryWriteFrames writes frames to the socket without blocking, in one system call, and
// returns how many bytes the socket took, or -1 when the session is closing (nothing is
// written) or the connection failed (it is then dropped, and the read loop ends the
// session). Frames beyond joinMax bytes are left for the caller to queue.
func (s *Session) tryWriteFrames(frames [][]byte) int {
	p := frames[0]
	var buf *[]byte
	if len(frames) > 1 && len(p)+len(frames[1]) <= joinMax {
		buf = joinBufs.Get().(*[]byte)
		b := (*buf)[:0]
		for _, f := range frames {
			if len(b)+len(f) > joinMax {
				break
			}
			b = append(b, f...)
		}
		p = b
	}
	s.wmu.Lock()
	if s.reason.Load() != 0 || s.ctx.Err() != nil {
		s.wmu.Unlock()
		putJoinBuf(buf)
		return -1
	}
	n, err := s.rw.write(p)
	s.wmu.Unlock()
	putJoinBuf(buf)
	if err != nil {
		s.conn.CloseNow()
		return -1
	}
	return n
}

func totalLen(frames [][]byte) int {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	return n
}

func putJoinBuf(b *[]byte) {
	if b != nil {
		joinBufs.Put(b)
	}
}

package clientws

import "runtime"

// The flushers: a frame queued for a session that is idle (no writer, not corked) is not
// written by a writer goroutine of its own but by one of the hub's few flushers, which
// write the queued frames of each session they are handed in one non-blocking send, as the
// read loop does for its own session after a request (uncork). A change's pushes to the
// sessions of its room so cost one goroutine start for all of them, or none while a flusher
// is running (the hooks of a store's commit group push the changes of many rooms in a
// row), instead of one per session and push; and the frames a session is sent meanwhile go
// out in the same send. What a socket does not take at once goes to the session's own
// writer goroutine (drain), which waits for it within WriteTimeout as before; a session is
// handed to a flusher with the writer's role (Session.writing), so its frames keep their
// order, and the send queue's bound (the slow-reader rule) is unchanged.

// flushClaim is how many sessions a flusher takes at a time. While more than flushClaim
// sessions per running flusher wait, another flusher starts, up to GOMAXPROCS.
var flushClaim = 64 // a variable for the tests

// wake hands s, whose queue has a frame and whose writer role the caller has taken
// (s.writing), to a flusher. s.qmu is held (the flushers never hold h.fmu while they take a
// session's qmu).
func (h *Hub) wake(s *Session) {
	h.fmu.Lock()
	h.flushq = append(h.flushq, s)
	start := h.flushers == 0 ||
		len(h.flushq)-h.fhead > flushClaim*h.flushers && h.flushers < runtime.GOMAXPROCS(0)
	if start {
		h.flushers++
	}
	h.fmu.Unlock()
	if start {
		go h.flush()
	}
}

// flush is a flusher: it writes the sessions handed to wake, flushClaim at a time, until
// none waits.
func (h *Hub) flush() {
	var claimed [64]*Session
	batch := claimed[:0]
	for {
		h.fmu.Lock()
		n := min(len(h.flushq)-h.fhead, flushClaim)
		if n == 0 {
			h.flushers--
			if cap(h.flushq) > 1024 {
				h.flushq = nil
			} else {
				clear(h.flushq)
				h.flushq = h.flushq[:0]
			}
			h.fhead = 0
			h.fmu.Unlock()
			return
		}
		batch = append(batch[:0], h.flushq[h.fhead:h.fhead+n]...)
		h.fhead += n
		h.fmu.Unlock()
		for _, s := range batch {
			s.qmu.Lock()
			s.writeQueuedLocked()
		}
		if len(batch) == flushClaim {
			// The sends are system calls the scheduler does not see (sysWrite), as in a
			// large publish (Hub.send): after a full claim the flusher lets other
			// goroutines have the processor.
			runtime.Gosched()
		}
		clear(batch)
	}
}

package clientapi

import (
	"sync"

	"github.com/roomd/roomd/internal/room"
)

// asyncFanout is the number of connections in a room from which its events are pushed by
// the publisher goroutine instead of on the committing goroutine: enqueueing a push costs
// about a microsecond per connection, which a commit of a large room should not wait for
// (nor the commits queued behind it on the store's writer).
var asyncFanout = 256 // a variable for the tests, which set it to 0

// publisher turns room events into pushes in commit order, on the committing goroutine
// while that is cheap, and on its own goroutine otherwise. It keeps two rules of the client
// protocol (docs/client-protocol.md, Ordering):
//
//   - pushes follow commit order: every event goes through one FIFO, and an event is pushed
//     on the committing goroutine only when the FIFO is empty and nothing is being pushed;
//   - a caller sees its change's pushes before its response: a method's response waits
//     (settle) until every event observed before the method returned has been pushed.
//
// Its zero value is ready to use.
type publisher struct {
	mu       sync.Mutex
	cond     sync.Cond // signalled when done advances; L is &mu
	queue    []room.Event
	running  bool   // the goroutine is pushing, or an event is pushed inline
	observed uint64 // events handed to post
	done     uint64 // events pushed
}

// post pushes ev with push, inline when the FIFO is idle and inline says so, on the
// publisher's goroutine otherwise.
func (p *publisher) post(ev room.Event, inline func(room.Event) bool, push func(room.Event)) {
	p.mu.Lock()
	p.observed++
	if !p.running && len(p.queue) == 0 && inline(ev) {
		// Pushed under mu, so that a concurrent post waits behind it and keeps the order.
		push(ev)
		p.done++
		p.mu.Unlock()
		return
	}
	p.queue = append(p.queue, ev)
	if !p.running {
		p.running = true
		go p.run(push)
	}
	p.mu.Unlock()
}

// run pushes the queued events in order until the FIFO is empty.
func (p *publisher) run(push func(room.Event)) {
	var batch []room.Event
	for {
		p.mu.Lock()
		if len(batch) > 0 {
			p.done += uint64(len(batch))
			clear(batch)
			p.broadcast()
		}
		if len(p.queue) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		batch, p.queue = p.queue, batch[:0]
		p.mu.Unlock()
		for _, ev := range batch {
			push(ev)
		}
	}
}

func (p *publisher) broadcast() {
	if p.cond.L != nil {
		p.cond.Broadcast()
	}
}

// settle waits until every event posted before it was called has been pushed. It returns
// at once when nothing is queued, the common case.
func (p *publisher) settle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	target := p.observed
	if p.done >= target {
		return
	}
	if p.cond.L == nil {
		p.cond.L = &p.mu
	}
	for p.done < target {
		p.cond.Wait()
	}
}

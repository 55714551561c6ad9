package appkit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrInFlight is returned by Deduper.Claim when the id is being handled right now (the Live
// backend gave up waiting and sent the event again). Handler answers it with HTTP 503, so the
// event is sent once more later, when the first handling has finished or failed.
var ErrInFlight = errors.New("webhook-id is being handled")

// Deduper is the App backend's memory of the webhook-ids it has handled. roomd sends the same
// webhook-id on every attempt of one event, so an event that was handled but whose reply got
// lost comes again with the same id.
//
// An implementation backed by a shared store (Redis SET NX with an expiry, a database table
// with a unique key) lets several instances of the App backend de-duplicate together.
type Deduper interface {
	// Claim reserves id before the event is handled. It returns true when id is new (the
	// caller handles the event, then calls Finish), false when id was handled already (a
	// duplicate: the caller answers success and does nothing), or ErrInFlight when id is
	// being handled now.
	Claim(ctx context.Context, id string) (bool, error)
	// Finish ends a claim: handled true remembers id as handled (for the implementation's
	// retention); false forgets it, so that the next attempt of the event is handled.
	Finish(ctx context.Context, id string, handled bool) error
}

// DefaultDedupTTL is how long MemoryDeduper remembers a handled id when its TTL is 0: a
// day, longer than roomd's default retry schedule.
const DefaultDedupTTL = 24 * time.Hour

// MemoryDeduper is a Deduper in the process's memory: ids are forgotten TTL after they
// were handled, and on restart. It is safe for concurrent use. The zero value is ready to
// use.
type MemoryDeduper struct {
	// TTL is how long a handled id is remembered; 0 means DefaultDedupTTL. Make it longer
	// than the sender's retry schedule.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	handled map[string]time.Time // id → when it expires
	busy    map[string]struct{}
	sweep   time.Time
}

// NewMemoryDeduper returns a MemoryDeduper that remembers handled ids for ttl.
func NewMemoryDeduper(ttl time.Duration) *MemoryDeduper {
	return &MemoryDeduper{TTL: ttl}
}

func (m *MemoryDeduper) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Claim implements Deduper.
func (m *MemoryDeduper) Claim(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.expire(now)
	if exp, ok := m.handled[id]; ok && now.Before(exp) {
		return false, nil
	}
	if _, ok := m.busy[id]; ok {
		return false, ErrInFlight
	}
	if m.busy == nil {
		m.busy = map[string]struct{}{}
	}
	m.busy[id] = struct{}{}
	return true, nil
}

// Finish implements Deduper.
func (m *MemoryDeduper) Finish(_ context.Context, id string, handled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.busy, id)
	if !handled {
		return nil
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	if m.handled == nil {
		m.handled = map[string]time.Time{}
	}
	m.handled[id] = m.now().Add(ttl)
	return nil
}

// Len returns how many handled ids are remembered, expired ones included until the next
// sweep.
func (m *MemoryDeduper) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.handled)
}

// expire drops expired ids, at most once a minute so that Claim stays cheap.
func (m *MemoryDeduper) expire(now time.Time) {
	if now.Before(m.sweep) {
		return
	}
	m.sweep = now.Add(time.Minute)
	for id, exp := range m.handled {
		if !now.Before(exp) {
			delete(m.handled, id)
		}
	}
}

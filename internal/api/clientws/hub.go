package clientws

import (
	"runtime"
	"sync"
	"sync/atomic"
)

type roomKey struct {
	app  uint64
	room string
}

type userKey struct {
	app  uint64
	user string
}

// Hub knows every open session, by user and by the rooms it is subscribed to, and pushes
// notifications to them. A publish encodes and frames its notification once and hands the
// same bytes to every recipient without blocking: a recipient whose send queue is full is
// closed as a slow reader and never slows the others or the publisher. A publish to a small
// room only hands each idle recipient to a flusher (flush.go); one to a large room
// (directFanout sessions or more) writes to the idle recipients' sockets itself, never
// waiting for one, and returns when every recipient has the frame written or queued. Its
// methods are safe for concurrent use.
type Hub struct {
	mu    sync.RWMutex
	rooms map[roomKey]map[*Session]struct{}
	users map[userKey]map[*Session]struct{}

	// The sessions waiting for a flusher (flush.go), from flushq[fhead], and how many
	// flushers run; guarded by fmu.
	fmu      sync.Mutex
	flushq   []*Session
	fhead    int
	flushers int
}

// add registers a new session under its user.
func (h *Hub) add(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := userKey{s.app, s.userID}
	set := h.users[k]
	if set == nil {
		set = make(map[*Session]struct{}, 1)
		h.users[k] = set
	}
	set[s] = struct{}{}
}

// remove takes a session out of its user and of every room it is subscribed to; it is
// called once the connection has ended.
func (h *Hub) remove(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.removed = true
	for room := range s.rooms {
		h.leave(s, roomKey{s.app, room})
	}
	s.rooms = nil
	k := userKey{s.app, s.userID}
	if set := h.users[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.users, k)
		}
	}
}

func (h *Hub) leave(s *Session, k roomKey) {
	if set := h.rooms[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.rooms, k)
		}
	}
}

// all returns every registered session.
func (h *Hub) all() []*Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*Session
	for _, set := range h.users {
		for s := range set {
			out = append(out, s)
		}
	}
	return out
}

// Subscribe makes s receive the notifications published to roomID of its app. A session
// may be subscribed to several rooms; subscribing twice is harmless. It reports
// ErrSessionClosed, and subscribes nothing, when the connection has already ended.
func (h *Hub) Subscribe(s *Session, roomID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.removed {
		return ErrSessionClosed
	}
	if s.rooms == nil {
		s.rooms = make(map[string]struct{}, 1)
	}
	s.rooms[roomID] = struct{}{}
	k := roomKey{s.app, roomID}
	set := h.rooms[k]
	if set == nil {
		set = make(map[*Session]struct{})
		h.rooms[k] = set
	}
	set[s] = struct{}{}
	return nil
}

// Unsubscribe stops s receiving the notifications of roomID. Unsubscribing a room the
// session is not in is harmless.
func (h *Hub) Unsubscribe(s *Session, roomID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := s.rooms[roomID]; !ok {
		return
	}
	delete(s.rooms, roomID)
	h.leave(s, roomKey{s.app, roomID})
}

// Rooms returns the rooms s is subscribed to, in no particular order.
func (h *Hub) Rooms(s *Session) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	return out
}

// RoomSessions returns the sessions subscribed to roomID of app.
func (h *Hub) RoomSessions(app uint64, roomID string) []*Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return keys(h.rooms[roomKey{app, roomID}])
}

// RoomSize returns how many sessions are subscribed to roomID of app.
func (h *Hub) RoomSize(app uint64, roomID string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms[roomKey{app, roomID}])
}

// UserSessions returns the open sessions of userID in app (one per connection).
func (h *Hub) UserSessions(app uint64, userID string) []*Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return keys(h.users[userKey{app, userID}])
}

func keys(set map[*Session]struct{}) []*Session {
	out := make([]*Session, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

// PublishRoom sends the notification method(params) to every session subscribed to roomID
// of app and returns how many sessions it was enqueued to. The notification is encoded
// once; the only error is its encoding's.
func (h *Hub) PublishRoom(app uint64, roomID, method string, params any) (int, error) {
	return h.PublishRoomExcept(app, roomID, "", method, params)
}

// PublishRoomExcept is PublishRoom leaving out every connection of exceptUserID (none when
// it is empty): the way "remote user" events skip the user they are about.
func (h *Hub) PublishRoomExcept(app uint64, roomID, exceptUserID, method string, params any) (int, error) {
	frame, err := notificationFrame(method, params)
	if err != nil {
		return 0, err
	}
	return h.send(h.rooms, roomKey{app, roomID}, exceptUserID, frame), nil
}

// PublishUser sends the notification method(params) to every connection of userID in app
// and returns how many sessions it was enqueued to.
func (h *Hub) PublishUser(app uint64, userID, method string, params any) (int, error) {
	frame, err := notificationFrame(method, params)
	if err != nil {
		return 0, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for s := range h.users[userKey{app, userID}] {
		if s.enqueue(frame) {
			n++
		}
	}
	return n, nil
}

// directFanout is the number of recipients from which a publish writes to the idle ones
// itself (Session.send), spread over writers (one per directChunk recipients, at most
// GOMAXPROCS), instead of starting a writer goroutine for each.
var directFanout = 256 // a variable for the tests

var directChunk = 1024 // a variable for the tests

// directClaim is how many recipients a writer of a large publish takes at a time. The
// writers share one cursor over the recipients rather than a fixed part each, so that a
// writer that starts late or whose thread the kernel deschedules (the machine is busy, or
// the woken reader takes its CPU) leaves its recipients to the others instead of finishing
// last on its own. A writer yields its processor between claims.
var directClaim = 64 // a variable for the tests

func (h *Hub) send(m map[roomKey]map[*Session]struct{}, k roomKey, except string, frame []byte) int {
	h.mu.RLock()
	set := m[k]
	if len(set) < directFanout {
		defer h.mu.RUnlock()
		n := 0
		for s := range set {
			if except != "" && s.userID == except {
				continue
			}
			if s.enqueue(frame) {
				n++
			}
		}
		return n
	}
	to := make([]*Session, 0, len(set))
	for s := range set {
		if except == "" || s.userID != except {
			to = append(to, s)
		}
	}
	h.mu.RUnlock()
	// The publish returns when every recipient has the frame written or queued, so that the
	// next publish to the room comes after it on every connection.
	writers := min(runtime.GOMAXPROCS(0), (len(to)+directChunk-1)/directChunk)
	var sent, cursor atomic.Int64
	claim := directClaim
	write := func() {
		n := 0
		for {
			end := int(cursor.Add(int64(claim)))
			start := end - claim
			if start >= len(to) {
				break
			}
			for _, s := range to[start:min(end, len(to))] {
				if s.send(frame) {
					n++
				}
			}
			// The writes are system calls the scheduler does not see (sysWrite): between
			// claims (~1 ms of writes) the writer lets other goroutines have the processor.
			runtime.Gosched()
		}
		sent.Add(int64(n))
	}
	var wg sync.WaitGroup
	for range writers - 1 {
		wg.Go(write)
	}
	write() // this goroutine writes too
	wg.Wait()
	return int(sent.Load())
}

// InRoom reports whether s is subscribed to roomID: Rooms without the copy.
func (h *Hub) InRoom(s *Session, roomID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := s.rooms[roomID]
	return ok
}

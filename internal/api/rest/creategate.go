package rest

import (
	"strconv"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/tenant"
)

// createGate enforces create_room's own limit: the same RoomId may be created at most once
// per second per SDKAppID (100012). A creation holds its RoomId from the moment it passes
// the gate; the hold is released at once when the creation fails, and otherwise lasts one
// second from the success. It is off when the app's rate limits are off.
type createGate struct {
	now func() time.Time
	mu  sync.Mutex
	// held maps a RoomId to when its hold ends; zero while the creation is in progress.
	held  map[createKey]time.Time
	sweep time.Time
}

type createKey struct {
	app  uint64
	room string
}

func newCreateGate(now func() time.Time) *createGate {
	return &createGate{now: now, held: map[createKey]time.Time{}}
}

// enter takes the hold of roomID or returns a 100012 error.
func (g *createGate) enter(app *tenant.App, roomID string) error {
	if !app.RateLimitEnabled {
		return nil
	}
	now := g.now()
	k := createKey{app.ID, roomID}
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.sweep) >= time.Second {
		for key, until := range g.held {
			if !until.IsZero() && !now.Before(until) {
				delete(g.held, key)
			}
		}
		g.sweep = now
	}
	if until, ok := g.held[k]; ok && (until.IsZero() || now.Before(until)) {
		return errcode.New(errcode.CreateTooFrequent, "room "+strconv.Quote(roomID)+" was created less than a second ago; the same RoomId may be created at most once per second")
	}
	g.held[k] = time.Time{}
	return nil
}

// leave ends the creation of roomID: a success keeps the hold for one second, a failure
// releases it.
func (g *createGate) leave(app *tenant.App, roomID string, ok bool) {
	if !app.RateLimitEnabled {
		return
	}
	k := createKey{app.ID, roomID}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ok {
		g.held[k] = g.now().Add(time.Second)
	} else {
		delete(g.held, k)
	}
}

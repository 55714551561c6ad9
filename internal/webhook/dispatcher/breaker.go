package dispatcher

import (
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/webhook"
)

// The per-app circuit breaker and delivery rate limit. Everything here runs with d.mu held.
//
// Closed, the breaker counts the app's consecutive failed attempts (any success resets the
// count). When Breaker.Failures of them in a row have failed and they span at least two
// rooms, it opens: the app is paused. One bad event in one room never opens it — bounding
// that is max_room_hold's job — and a paused app's probes could otherwise fall on that
// event again and again.
//
// Open, no attempt is made: rooms whose head comes due go to the app's paused set instead
// of its ready list (backoff timers still run down). Every ProbeInterval (or after the last
// Retry-After, when longer) one probe is made: the paused room whose head has been due the
// longest gets one attempt (probing). A successful probe — or any success, such as an
// attempt that was already in flight when the breaker opened — closes the breaker: the
// paused rooms are ready at once and the rooms waiting out a backoff are woken
// (wakeWaiting). A failed probe re-opens it until the next probe, and its room, due again
// only after its backoff, goes behind the others, so probes rotate over the paused rooms.
//
// While the app is paused its events are neither lost nor dead-lettered: a probe does not
// count against its event's max_attempts, and the time paused does not count against
// max_room_hold (each room's hold start moves forward by the pause when the breaker closes).
// The breaker is in memory: a restart starts closed.

type breakerState int

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerProbing
)

func (s breakerState) String() string {
	switch s {
	case breakerOpen:
		return webhook.BreakerOpen
	case breakerProbing:
		return webhook.BreakerProbing
	}
	return webhook.BreakerClosed
}

// breaker is one app's circuit breaker.
type breaker struct {
	state breakerState
	// failures counts consecutive failed attempts while closed; firstRoom is the room of
	// the first of them and manyRooms tells whether another room failed since.
	failures  int
	firstRoom string
	manyRooms bool
	openedAt  time.Time
	nextProbe time.Time
	timer     clock.Timer
	gen       uint64
	// Counters since start, for the delivery log and metrics.
	opened, probes, probesFailed, holdExpired int64
}

// breakerOn reports whether cfg has a breaker: one is configured and retries are on (with
// retries off, roomd mimics Tencent: one attempt per event, made at once).
func breakerOn(cfg *webhook.Config) bool {
	return cfg != nil && cfg.Retry.Enabled && cfg.Breaker.Failures > 0
}

// pause puts q in its app's paused set.
func (d *Dispatcher) pause(a *appState, q *roomQueue) {
	if a.paused == nil {
		a.paused = map[*roomQueue]struct{}{}
	}
	q.paused = true
	a.paused[q] = struct{}{}
}

// noteOutcome tells a's breaker how q's recorded attempt ended.
func (d *Dispatcher) noteOutcome(a *appState, q *roomQueue, cfg *webhook.Config, ok bool, retryAfter time.Duration) {
	wasProbe := q.probe
	q.probe = false
	b := &a.br
	if ok {
		b.failures, b.manyRooms = 0, false
		if b.state != breakerClosed {
			d.closeBreaker(a)
		}
		return
	}
	if wasProbe {
		b.probesFailed++
		b.state = breakerOpen
		d.armProbe(a, cfg, retryAfter)
		return
	}
	if b.state != breakerClosed || !breakerOn(cfg) {
		return
	}
	if b.failures == 0 {
		b.firstRoom = q.key.room
	} else if q.key.room != b.firstRoom {
		b.manyRooms = true
	}
	b.failures++
	if b.failures >= cfg.Breaker.Failures && b.manyRooms {
		d.openBreaker(a, cfg, retryAfter)
	}
}

// openBreaker pauses a: its ready rooms move to the paused set and the first probe is armed.
func (d *Dispatcher) openBreaker(a *appState, cfg *webhook.Config, retryAfter time.Duration) {
	b := &a.br
	b.state = breakerOpen
	b.openedAt = d.o.Now()
	b.opened++
	for _, r := range a.ready {
		q := r.q
		q.queued = false
		d.pause(a, q)
	}
	a.ready = nil
	d.o.Logger.Warn("callback breaker open: app paused", "app", a.id, "failures", b.failures, "probe_interval", cfg.Breaker.ProbeInterval)
	d.armProbe(a, cfg, retryAfter)
}

// armProbe arms a's next probe after the probe interval, or after retryAfter when longer.
func (d *Dispatcher) armProbe(a *appState, cfg *webhook.Config, retryAfter time.Duration) {
	b := &a.br
	if b.timer != nil {
		b.timer.Stop()
	}
	wait := webhook.DefaultProbeInterval
	if cfg != nil && cfg.Breaker.ProbeInterval > 0 {
		wait = cfg.Breaker.ProbeInterval
	}
	wait = max(wait, min(retryAfter, time.Hour))
	b.gen++
	gen := b.gen
	b.nextProbe = d.o.Now().Add(wait)
	b.timer = d.o.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if b.gen != gen || d.closed {
			return
		}
		b.timer = nil
		d.probe(a)
	})
}

// probe makes the paused room of a whose head has been due the longest ready, as the
// app's one attempt while it is paused.
func (d *Dispatcher) probe(a *appState) {
	b := &a.br
	if b.state != breakerOpen {
		return
	}
	cfg := d.o.Configs.Get(a.id)
	if !breakerOn(cfg) { // switched off meanwhile
		d.closeBreaker(a)
		return
	}
	var pick *roomQueue
	for q := range a.paused {
		if pick == nil || q.dueAt.Before(pick.dueAt) ||
			(q.dueAt.Equal(pick.dueAt) && q.events[0].ID < pick.events[0].ID) {
			pick = q
		}
	}
	if pick == nil { // nothing due yet: look again after another interval
		d.armProbe(a, cfg, 0)
		return
	}
	delete(a.paused, pick)
	pick.paused = false
	pick.probe = true
	b.state = breakerProbing
	b.nextProbe = time.Time{}
	b.probes++
	d.ready(pick)
}

// probeUnrecorded handles a probe whose outcome could not be written: the app stays
// paused and is probed again later.
func (d *Dispatcher) probeUnrecorded(a *appState, q *roomQueue) {
	q.probe = false
	if a.br.state == breakerProbing {
		a.br.state = breakerOpen
		d.armProbe(a, d.o.Configs.Get(a.id), 0)
	}
}

// closeBreaker resumes a: every paused room is ready at once, and each room's hold start
// moves forward by the time the app was paused.
func (d *Dispatcher) closeBreaker(a *appState) {
	b := &a.br
	now := d.o.Now()
	pausedFor := now.Sub(b.openedAt)
	d.o.Logger.Info("callback breaker closed: app resumed", "app", a.id, "paused_for", pausedFor)
	b.state = breakerClosed
	b.failures, b.manyRooms = 0, false
	b.openedAt, b.nextProbe = time.Time{}, time.Time{}
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.gen++
	for k, q := range d.rooms {
		if k.app != a.id || q.holdStart.IsZero() {
			continue
		}
		if q.holdStart.Before(now.Add(-pausedFor)) {
			q.holdStart = q.holdStart.Add(pausedFor)
		} else {
			q.holdStart = now
		}
	}
	rooms := oldestFirst(a.paused)
	clear(a.paused)
	for _, q := range rooms {
		q.paused = false
		d.ready(q)
	}
}

// rateBucket is a token bucket for an app's max_per_second: it holds up to one second's
// worth of attempts (at least one) and refills continuously.
type rateBucket struct {
	tokens   float64
	at       time.Time
	timerSet bool
	timer    clock.Timer
	limited  int64
}

// takeToken reports whether a may start an attempt now under its max_per_second, taking a
// token if so. When not, it arms a timer that wakes the workers once a token is due.
func (d *Dispatcher) takeToken(a *appState) bool {
	cfg := d.o.Configs.Get(a.id)
	if cfg == nil || cfg.MaxPerSecond <= 0 {
		return true
	}
	r := &a.rate
	rate := cfg.MaxPerSecond
	burst := max(1, rate)
	now := d.o.Now()
	if r.at.IsZero() {
		r.tokens = burst
	} else if el := now.Sub(r.at); el > 0 {
		r.tokens = min(burst, r.tokens+el.Seconds()*rate)
	}
	r.at = now
	if r.tokens >= 1 {
		r.tokens--
		return true
	}
	if !r.timerSet {
		r.limited++
		r.timerSet = true
		wait := time.Duration((1 - r.tokens) / rate * float64(time.Second))
		r.timer = d.o.AfterFunc(max(wait, time.Millisecond), func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			r.timerSet = false
			r.timer = nil
			d.cond.Broadcast()
		})
	}
	return false
}

// stopAppTimers stops a's probe and rate timers (shut).
func (d *Dispatcher) stopAppTimers(a *appState) {
	if a.br.timer != nil {
		a.br.timer.Stop()
		a.br.timer = nil
	}
	a.br.gen++
	if a.rate.timer != nil {
		a.rate.timer.Stop()
		a.rate.timer = nil
	}
	a.rate.timerSet = false
}

// AppState returns a snapshot of how app's callbacks are treated: its breaker, its rooms
// and its rate limit (the delivery log's get_app_state).
func (d *Dispatcher) AppState(app uint64) webhook.AppDeliveryState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.appStateLocked(app)
}

// AppStates returns the snapshot of every app the dispatcher has seen (metrics).
func (d *Dispatcher) AppStates() []webhook.AppDeliveryState {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]webhook.AppDeliveryState, 0, len(d.appOrder))
	for _, id := range d.appOrder {
		out = append(out, d.appStateLocked(id))
	}
	return out
}

func (d *Dispatcher) appStateLocked(app uint64) webhook.AppDeliveryState {
	s := webhook.AppDeliveryState{App: app, Breaker: webhook.BreakerClosed}
	a := d.apps[app]
	if a == nil {
		return s
	}
	b := &a.br
	s.Breaker = b.state.String()
	s.ConsecutiveFailures = b.failures
	s.OpenedAt, s.NextProbeAt = b.openedAt, b.nextProbe
	s.Opened, s.Probes, s.ProbesFailed, s.HoldExpired = b.opened, b.probes, b.probesFailed, b.holdExpired
	s.RateLimited = a.rate.limited
	s.PausedRooms, s.WaitingRooms, s.InFlight = len(a.paused), len(a.waiting), a.inFlight
	for k, q := range d.rooms {
		if k.app == app {
			s.Rooms++
			s.Events += len(q.events)
		}
	}
	return s
}

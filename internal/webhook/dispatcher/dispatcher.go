package dispatcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// ErrStopped is the cause with which Stop cancels the dispatcher's work: an attempt cut
// short or a load abandoned with this cause was ended by a shutdown, not by a failure.
// Start after Stop returns it.
var ErrStopped = errors.New("dispatcher stopped")

// Options configure a Dispatcher.
type Options struct {
	Store   store.Store
	Configs *webhook.Configs
	Logger  *slog.Logger
	// Clock tells the time (attempt times, retry deadlines) and runs the retry backoff
	// timers and the loader's waits; clock.Real{} when nil. With a clock.Manual nothing
	// waits out a backoff until the test moves the clock. (Embedded, so that d.o.Now() is
	// the clock's time.)
	clock.Clock
	// Workers bounds the attempts in flight across all apps (default 256).
	Workers int
	// MaxInFlightPerApp bounds one app's requests in flight to its App backend (default
	// 64); a slot is given back when the backend has answered, before the attempt is recorded.
	MaxInFlightPerApp int
	// MaxInMemory bounds the undelivered events held in memory (default 50,000).
	MaxInMemory int
	// Client sends the requests; a keep-alive client sized for Workers when nil.
	Client *http.Client
	// Observer, when set, is told about every recorded attempt (metrics, tests).
	Observer func(Result)
}

// Result is the outcome of one recorded attempt.
type Result struct {
	Event   store.Event
	Attempt store.Attempt
	State   store.EventState
}

type roomKey struct {
	app  uint64
	room string
}

type roomQueue struct {
	key      roomKey
	events   []store.Event
	inFlight bool
	queued   bool      // in its app's ready list
	dueAt    time.Time // when the head may be attempted
	timerSet bool
	// timer is the backoff timer armed for the head while timerSet; Stop stops it.
	timer clock.Timer
	// timerGen tells a stale backoff timer (one brought forward by wakeWaiting, or one that
	// had already fired when it was stopped) from the current one.
	timerGen uint64
	// paused is set while the room is due but held by its app's open breaker (it is then
	// in appState.paused, not in the ready list).
	paused bool
	// probe is set while the room's head is its app's probe (breaker.go).
	probe bool
	// holdStart is when the head's first attempt (in this run) started: the start of the
	// room's hold, which max_room_hold bounds. Zero until then; moved forward by the time
	// the app was paused (breaker.go).
	holdStart time.Time
	// exempt counts the head's attempts that do not count against max_attempts: the
	// probes made while its app was paused. Kept in memory only.
	exempt int
}

type appState struct {
	id       uint64
	ready    readyRooms
	inFlight int
	// waiting holds the rooms whose head waits for a retry backoff.
	waiting map[*roomQueue]struct{}
	// paused holds the rooms that are due but held back by the open breaker.
	paused map[*roomQueue]struct{}
	// br is the app's circuit breaker, rate its delivery rate limit (breaker.go).
	br   breaker
	rate rateBucket
}

// Dispatcher is the delivery loop. Create it with New, feed it with Notify (the outbox's
// after-commit hook), run it with Start and end it with Stop (see doc.go for the states).
type Dispatcher struct {
	o        Options
	instance string
	// lean is the transport of o.Client when NewGuardedClient made it: attempts to plain
	// http:// App backends then take the direct path (direct.go); targets caches their URLs.
	lean    *leanTransport
	targets targets

	// life guards the lifecycle fields below; it is never held together with mu.
	life   sync.Mutex
	state  runState
	cancel context.CancelCauseFunc // of the run context, while running
	done   chan struct{}           // closed when the run has ended
	// idle is closed when the workers have ended (after Drain or Stop), while the run
	// may still be recording.
	idle chan struct{}

	mu       sync.Mutex
	cond     *sync.Cond
	rooms    map[roomKey]*roomQueue
	apps     map[uint64]*appState
	appOrder []uint64
	rr       int
	inMem    int
	inFlight int
	// loadedUpTo is the highest id up to which every undelivered event is in memory: the
	// loader's cursor. It rests on the store's single-writer invariant (see
	// store.Tx.EventInsert): event ids are assigned in commit order, so once an event is
	// visible, every event with a smaller id is committed and visible too, and no event
	// can commit later with an id at or below the cursor. A store that assigns ids before
	// commit in parallel transactions (a PostgreSQL sequence) breaks this, and the loader
	// would skip the late committer's events until the next restart; such a driver must
	// keep the invariant or this cursor must change (storetest's EventOrder case pins it).
	// The PostgreSQL driver keeps it across every node sharing the database, so the
	// cursor holds there too when the loader is woken for other nodes' events (Wake).
	loadedUpTo int64
	// behind is set when committed events were left in the database.
	behind     bool
	droppedMax int64
	// wakes counts the calls of Wake (term.go): a load that began before a wake does not
	// clear behind, since the events the wake announces may have committed after its read.
	wakes uint64
	// handedOver counts the events NotifyAfter queued without the loader (term.go).
	handedOver uint64
	// finished, while a Rescan runs (term.go), collects the ids of the events that left
	// memory delivered or dead, so that the rescan does not queue them again.
	finished map[int64]struct{}
	// closed is set by Stop (and when the run context ends): no worker takes another room,
	// no timer is armed, Notify and resends are ignored.
	closed   bool
	loadWake chan struct{}
	// records feeds the recorder (record.go) while the dispatcher runs.
	records chan *recordReq
}

// runState is the dispatcher's lifecycle state.
type runState int

const (
	stateNew     runState = iota // created; Notify collects, nothing is sent
	stateRunning                 // started; workers, loader and recorder run
	stateStopped                 // stopped (or never started and stopped); final
)

// New returns a dispatcher; it delivers nothing until Start.
func New(o Options) *Dispatcher {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = webhook.DefaultWorkers
	}
	if o.MaxInFlightPerApp <= 0 || o.MaxInFlightPerApp > o.Workers {
		o.MaxInFlightPerApp = min(webhook.DefaultMaxInFlightPerApp, o.Workers)
	}
	if o.MaxInMemory <= 0 {
		o.MaxInMemory = 50_000
	}
	if o.Client == nil {
		o.Client = NewClient(o.Workers)
	}
	d := &Dispatcher{
		o:        o,
		instance: o.Store.Instance(),
		rooms:    map[roomKey]*roomQueue{},
		apps:     map[uint64]*appState{},
		behind:   true, // start-up: everything undelivered is still in the database
		loadWake: make(chan struct{}, 1),
	}
	if t, ok := o.Client.Transport.(*leanTransport); ok && o.Client.Jar == nil && o.Client.Timeout == 0 {
		d.lean = t
	}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// EventID returns the webhook-id of an event: stable across attempts and restarts.
func (d *Dispatcher) EventID(id int64) string {
	var buf [64]byte
	b := append(buf[:0], "msg_"...)
	b = append(b, d.instance...)
	b = append(b, '_')
	return string(strconv.AppendInt(b, id, 10)) // (one allocation, made for every attempt)
}

// Notify hands a committed event to the dispatcher. It never blocks: beyond MaxInMemory the
// event is left in the database and loaded later.
func (d *Dispatcher) Notify(e store.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.behind || d.inMem >= d.o.MaxInMemory {
		d.behind = true
		d.droppedMax = max(d.droppedMax, e.ID)
		// Tell the loader, rather than leave the event to its next poll: its read may have
		// ended just before this commit (at start-up, say), and on a clock that stands
		// still it would not poll again.
		d.wakeLoaderIfDue()
		return
	}
	d.addAbove(e)
}

// addAbove adds e and moves the loader's cursor to it when e is above the cursor, and
// reports whether it did. An event at or below the cursor is one the loader has read
// already: for a hook (Notify, NotifyAfter), its read ran between the event's commit and
// the hook (the store runs the hooks after the COMMIT, and a reader sees the commit at
// once), found it undelivered, and caught up. Adding it again would put it twice in its
// room's queue and send it twice. Hooks run in commit order and ids are assigned in commit
// order, so an id at or below the cursor is always one that the loader has read. d.mu is
// held.
func (d *Dispatcher) addAbove(e store.Event) bool {
	if e.ID <= d.loadedUpTo {
		return false
	}
	d.add(e)
	d.loadedUpTo = e.ID
	return true
}

// add puts e at the tail of its room's queue. d.mu is held.
func (d *Dispatcher) add(e store.Event) {
	k := roomKey{e.App, e.RoomID}
	q := d.rooms[k]
	if q == nil {
		q = &roomQueue{key: k}
		d.rooms[k] = q
	}
	q.events = append(q.events, e)
	d.inMem++
	if len(q.events) == 1 {
		q.dueAt = e.NextAttemptAt
		d.schedule(q)
	}
}

// schedule makes q ready now or arms a timer for its head. d.mu is held.
func (d *Dispatcher) schedule(q *roomQueue) {
	if q.inFlight || q.queued || len(q.events) == 0 || q.timerSet || d.closed {
		return
	}
	a := d.apps[q.key.app]
	if a == nil {
		a = &appState{id: q.key.app}
		d.apps[q.key.app] = a
		d.appOrder = append(d.appOrder, q.key.app)
	}
	wait := q.dueAt.Sub(d.o.Now())
	if wait > 0 {
		q.timerSet = true
		q.timerGen++
		gen := q.timerGen
		if a.waiting == nil {
			a.waiting = map[*roomQueue]struct{}{}
		}
		a.waiting[q] = struct{}{}
		q.timer = d.o.AfterFunc(wait, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if q.timerGen != gen || !q.timerSet || d.closed {
				return // brought forward by wakeWaiting, or stopped
			}
			q.timerSet = false
			q.timer = nil
			delete(a.waiting, q)
			// The timer firing is what makes the head due: the clock is not read again, so
			// a clock whose Now stands still (a stubbed Now with real timers) cannot make the
			// room re-arm its timer over and over.
			d.ready(q)
		})
		return
	}
	d.ready(q)
}

// ready puts q in its app's ready list for the workers, or, while the app's breaker is
// open, in its paused set. d.mu is held.
func (d *Dispatcher) ready(q *roomQueue) {
	if q.inFlight || q.queued || q.paused || len(q.events) == 0 || d.closed {
		return
	}
	a := d.apps[q.key.app]
	if a.br.state != breakerClosed && !q.probe {
		d.pause(a, q)
		return
	}
	a.ready.push(q)
	q.queued = true
	d.cond.Signal()
}

// wakeWaiting makes every room of app that waits for a retry backoff ready now: an attempt
// to the app's backend has just succeeded, so it is back, and its other rooms need not sit
// out backoffs of up to MaxBackoff. The per-app in-flight limit still bounds the burst.
// d.mu is held.
func (d *Dispatcher) wakeWaiting(app uint64) {
	a := d.apps[app]
	if a == nil || len(a.waiting) == 0 {
		return
	}
	now := d.o.Now()
	rooms := oldestFirst(a.waiting)
	clear(a.waiting)
	for _, q := range rooms {
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
		q.timerSet = false
		q.timerGen++
		q.dueAt = now
		d.schedule(q)
	}
}

// readyRooms is an app's ready list: a heap of rooms ordered by their head event's id, so
// that the oldest callback that may be attempted is attempted first. Over a backlog of many
// rooms that is also the order in which the events were stored: consecutive attempts
// record consecutive events, whose rows and index entries share database pages (a fraction
// of the page writes of a first-in, first-out list, where the rooms drift apart; see
// docs/bench.md). A room's head does not change while it is in the list, so each entry
// keeps its head's id: the heap's comparisons read the list alone, not each room and its
// queue (in the drain of a backlog over 10,000 rooms those reads were most of the time
// spent choosing the next room).
type readyRooms []readyRoom

// readyRoom is one entry of a ready list.
type readyRoom struct {
	id int64 // headID(q) when q was added
	q  *roomQueue
}

// push adds q to the heap.
func (h *readyRooms) push(q *roomQueue) {
	*h = append(*h, readyRoom{id: headID(q), q: q})
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].id <= s[i].id {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// pop removes and returns the room with the oldest head.
func (h *readyRooms) pop() *roomQueue {
	s := *h
	q := s[0].q
	n := len(s) - 1
	s[0] = s[n]
	s[n] = readyRoom{}
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].id < s[l].id {
			m = r
		}
		if s[i].id <= s[m].id {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return q
}

// oldestFirst returns the rooms of set ordered by their head event's id, oldest first:
// rooms woken together (a backend back after a breaker or its backoffs) are handled in the
// order their callbacks were made.
func oldestFirst(set map[*roomQueue]struct{}) []*roomQueue {
	rooms := make([]*roomQueue, 0, len(set))
	for q := range set {
		rooms = append(rooms, q)
	}
	slices.SortFunc(rooms, func(a, b *roomQueue) int { return cmp.Compare(headID(a), headID(b)) })
	return rooms
}

// headID is the id of q's head event; a room without one sorts last.
func headID(q *roomQueue) int64 {
	if len(q.events) == 0 {
		return math.MaxInt64
	}
	return q.events[0].ID
}

// next blocks until a room's head event may be attempted and returns that room, marked in
// flight; nil once the dispatcher is closed.
func (d *Dispatcher) next() *roomQueue {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.closed {
			return nil
		}
		if d.inFlight < d.o.Workers {
			for i := 0; i < len(d.appOrder); i++ {
				d.rr = (d.rr + 1) % len(d.appOrder)
				a := d.apps[d.appOrder[d.rr]]
				if len(a.ready) == 0 || a.inFlight >= d.o.MaxInFlightPerApp || !d.takeToken(a) {
					continue
				}
				q := a.ready.pop()
				if len(a.ready) == 0 {
					a.ready = nil
				}
				q.queued = false
				q.inFlight = true
				a.inFlight++
				d.inFlight++
				return q
			}
		}
		d.cond.Wait()
	}
}

// Start starts delivering in the background and returns at once: the loader reads the
// undelivered events of earlier runs, and the workers and the recorder start. ctx bounds
// the dispatcher's life: when it ends, the dispatcher stops as Stop would, with ctx's
// cause (context.Cause) instead of ErrStopped; Stop must still be called to wait for the
// end. Start on a running dispatcher does nothing; after Stop it returns ErrStopped.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	switch d.state {
	case stateRunning:
		return nil
	case stateStopped:
		return ErrStopped
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	d.state, d.cancel, d.done, d.idle = stateRunning, cancel, make(chan struct{}), make(chan struct{})
	d.records = make(chan *recordReq, maxRecordGroup)
	go d.run(runCtx, d.done, d.idle)
	return nil
}

// Stop stops delivering and waits until the dispatcher's goroutines have ended, or until
// ctx is done (then it returns ctx's error, and they end in the background). It cancels
// the attempts in flight with the cause ErrStopped; an attempt cut short is not recorded,
// so the next start sends it again with the same webhook-id. The backoff timers are
// stopped. Events stay in the database; Notify and Resend after Stop only store them.
// Stop is idempotent: a later call waits for the same end, bounded by its own ctx. Stop
// before Start just marks the dispatcher stopped.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.life.Lock()
	d.state = stateStopped
	cancel, done := d.cancel, d.done
	d.life.Unlock()
	if cancel == nil { // never started
		d.shut()
		return nil
	}
	cancel(ErrStopped) // a no-op after the first time, or after Start's context ended
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop dispatcher: %w", context.Cause(ctx))
	}
}

// shut marks the dispatcher closed, wakes the idle workers so that they exit, and stops
// the backoff timers.
func (d *Dispatcher) shut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.cond.Broadcast()
	for _, q := range d.rooms {
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
		if q.timerSet {
			q.timerSet = false
			q.timerGen++
		}
	}
	for _, a := range d.apps {
		clear(a.waiting)
		d.stopAppTimers(a)
	}
}

// run is the dispatcher's life between Start and the end of ctx (Stop, or the end of
// Start's context); it closes done when every goroutine it started has ended.
func (d *Dispatcher) run(ctx context.Context, done, idle chan struct{}) {
	defer close(done)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.recordLoop(d.records)
	}()
	var wg, workers sync.WaitGroup
	wg.Go(func() { d.loadLoop(ctx) })
	ws := make([]worker, d.o.Workers)
	// One hook on the run context for every worker's exchange in progress (connGuard).
	stopGuards := context.AfterFunc(ctx, func() {
		for i := range ws {
			ws[i].guard.end()
		}
	})
	defer stopGuards()
	for i := range ws {
		w := &ws[i]
		w.rec.done = make(chan error, 1)
		workers.Go(func() {
			for {
				q := d.next()
				if q == nil {
					return
				}
				d.deliverHead(ctx, w, q)
			}
		})
	}
	// (After the workers have been added, so that the wait cannot end before they start.)
	wg.Go(func() {
		workers.Wait()
		close(idle)
	})
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, ErrStopped) {
		// Not a Stop: the context given to Start ended. That stops delivery just the
		// same, but it is worth a line in the log, since nobody asked for it.
		d.o.Logger.Warn("dispatcher context ended; delivery stops", "cause", cause)
	}
	d.shut()
	workers.Wait()
	wg.Wait()
	close(d.records) // no worker records any more
	<-recorded
}

// loadPage is the most events one read of the loader asks for. A refill of MaxInMemory/2
// events is read in pages of this size: one read of 25,000 events built its result in a
// slice grown (and copied) over and over to 5 MiB, which cost several microseconds per
// event in the drain of a backlog; pages of a thousand keep every read small.
const loadPage = 1000

// loadLoop refills memory from the database while the dispatcher is behind: once the
// events in memory are down to MaxInMemory/2, it reads MaxInMemory/2 more, page by page. It
// pages by id with the cursor loadedUpTo, which is safe only because event ids are
// assigned in commit order (the single-writer invariant; see the loadedUpTo field).
func (d *Dispatcher) loadLoop(ctx context.Context) {
	left := 0 // events still to read in the current refill
	for {
		d.mu.Lock()
		if left == 0 && d.behind && d.inMem <= d.o.MaxInMemory/2 {
			left = d.o.MaxInMemory / 2
		}
		if !d.behind {
			left = 0
		}
		need := left > 0
		after, wakes := d.loadedUpTo, d.wakes
		d.mu.Unlock()
		if need {
			limit := min(left, loadPage)
			evs, err := d.o.Store.EventListUndelivered(ctx, store.EventListParams{AfterID: after, Limit: limit})
			if err != nil {
				if ctx.Err() != nil {
					return // stopped while loading: not a failure
				}
				d.o.Logger.Error("load undelivered events", "err", err)
				if !d.wait(ctx, nil, time.Second) {
					return
				}
				continue
			}
			left -= len(evs)
			if len(evs) < limit {
				left = 0 // the end of the backlog, as of this read
			}
			d.mu.Lock()
			for _, e := range evs {
				d.addAbove(e)
			}
			if len(evs) < limit && d.droppedMax <= d.loadedUpTo && d.wakes == wakes {
				d.behind = false
			}
			d.mu.Unlock()
			if len(evs) > 0 {
				continue
			}
		}
		if !d.wait(ctx, d.loadWake, 200*time.Millisecond) {
			return
		}
	}
}

// wakeLoaderIfDue wakes the loader when it would read now (loadLoop): events were left in
// the database and the ones in memory are down to MaxInMemory/2. d.mu is held.
func (d *Dispatcher) wakeLoaderIfDue() {
	if d.behind && d.inMem <= d.o.MaxInMemory/2 {
		d.wakeLoader()
	}
}

// wakeLoader wakes the loader if it waits; it never blocks.
func (d *Dispatcher) wakeLoader() {
	select {
	case d.loadWake <- struct{}{}:
	default:
	}
}

// wait returns after dur on the dispatcher's clock or when wake yields, true; or when ctx
// ends, false. On a manual clock that stands still only wake and ctx end it, so a test
// that stops time makes the loader wait instead of polling.
func (d *Dispatcher) wait(ctx context.Context, wake <-chan struct{}, dur time.Duration) bool {
	fired := make(chan struct{})
	t := d.o.AfterFunc(dur, func() { close(fired) })
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-fired:
	}
	return true
}

// worker is what one delivery worker keeps from one attempt to the next.
type worker struct {
	// guard arms the run context's end for the worker's exchange in progress (lean.go).
	guard connGuard
	// rec is the worker's record request (record.go), reused: a worker waits for its
	// record before it makes another attempt.
	rec recordReq
	// reply is the last reply body recorded (of at most maxRecordedResponse bytes): an App
	// backend mostly answers every callback alike, and the record then shares the string.
	// replyJSON is set when reply, as a whole body, was found to be a JSON object
	// (attemptDirect).
	reply     string
	replyJSON bool
}

// deliverHead makes one attempt of q's head event on worker w, records it, and moves
// the queue on.
func (d *Dispatcher) deliverHead(ctx context.Context, w *worker, q *roomQueue) {
	d.mu.Lock()
	ev := q.events[0]
	if q.holdStart.IsZero() {
		q.holdStart = d.o.Now()
	}
	if q.probe {
		q.exempt++ // a probe does not count against max_attempts
	}
	h := head{exempt: q.exempt, holdStart: q.holdStart, probe: q.probe}
	d.mu.Unlock()

	cfg := d.o.Configs.Get(ev.App)
	att, reply := d.attempt(ctx, w, cfg, ev)
	next, holdExpired := d.nextState(cfg, att, reply, h)
	// The App backend has answered: give the app's in-flight slot to another room now,
	// while this attempt is being recorded. The room itself stays in flight until the
	// record is written, so its next event still waits for it. (Held until the end, the
	// slot made a delivery cost an HTTP round trip plus a group commit, and with the
	// default 64 slots deliveries fell behind the REST calls that caused them.)
	// Only a room of this app can have waited for the slot, so a worker is woken only when
	// the app has one ready (a wake-up that finds nothing to do costs a goroutine switch,
	// and often a thread's, on every callback).
	d.mu.Lock()
	a := d.apps[ev.App]
	a.inFlight--
	if len(a.ready) > 0 {
		d.cond.Signal()
	}
	d.mu.Unlock()
	var err error
	if ctx.Err() != nil {
		// Stopping: the attempt was cut short by us, not by the App backend. Leave the event
		// as it is stored; the next start sends it again.
		err = context.Cause(ctx)
	} else {
		// Grouped with other workers' records (record.go).
		err = d.record(&w.rec, att, next)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	q.inFlight = false
	// (No worker is woken for the slot this frees: the worker making this attempt calls
	// next again as soon as it returns, and takes whatever the slot allows.)
	d.inFlight--
	if err != nil {
		// The outcome is not recorded: keep the event at the head and try again later.
		if ctx.Err() == nil {
			d.o.Logger.Error("record delivery attempt", "event_id", ev.ID, "err", err)
		}
		// The attempt keeps its number: the next try overwrites its unrecorded slot.
		if q.probe {
			q.exempt--
			d.probeUnrecorded(d.apps[ev.App], q)
		}
		q.dueAt = d.o.Now().Add(time.Second)
		d.schedule(q)
		return
	}
	if d.o.Observer != nil {
		d.o.Observer(Result{Event: ev, Attempt: att, State: next.State})
	}
	if holdExpired {
		d.apps[ev.App].br.holdExpired++
	}
	// The breaker hears of every recorded outcome; a success closes it and resumes the
	// app's paused rooms.
	d.noteOutcome(d.apps[ev.App], q, cfg, att.Error == "", reply.retryAfter)
	if next.State == store.EventDelivered {
		d.wakeWaiting(ev.App)
	}
	switch next.State {
	case store.EventDelivered, store.EventDead:
		if next.State == store.EventDead {
			d.o.Logger.Warn("callback dead", "event_id", ev.ID, "app", ev.App, "room_id", ev.RoomID, "command", ev.Command, "attempts", att.N, "err", att.Error)
		}
		if d.finished != nil {
			d.finished[ev.ID] = struct{}{}
		}
		q.events[0] = store.Event{}
		q.events = q.events[1:]
		q.holdStart, q.exempt = time.Time{}, 0 // a new head starts its own hold and budget
		d.inMem--
		if len(q.events) == 0 {
			delete(d.rooms, q.key)
			d.wakeLoaderIfDue()
			return
		}
		q.dueAt = q.events[0].NextAttemptAt
	default:
		q.events[0].Attempts = att.N
		q.events[0].State = next.State
		q.dueAt = next.NextAttemptAt
	}
	d.schedule(q)
}

// reply is what the App backend answered, as far as it matters for the retry decision.
type reply struct {
	retryAfter time.Duration
}

const maxRecordedResponse = 1024

// attempt sends one request for ev on worker w and returns its record.
func (d *Dispatcher) attempt(ctx context.Context, w *worker, cfg *webhook.Config, ev store.Event) (store.Attempt, reply) {
	return d.attemptOn(ctx, w, cfg, ev, d.EventID(ev.ID))
}

// attemptAs is attempt with the webhook-id given, outside the workers.
func (d *Dispatcher) attemptAs(ctx context.Context, cfg *webhook.Config, ev store.Event, webhookID string) (store.Attempt, reply) {
	return d.attemptOn(ctx, nil, cfg, ev, webhookID)
}

// attemptOn is attemptAs on worker w (nil: not a worker; ctx's end is then armed per
// attempt).
func (d *Dispatcher) attemptOn(ctx context.Context, w *worker, cfg *webhook.Config, ev store.Event, webhookID string) (store.Attempt, reply) {
	start := d.o.Now()
	att := store.Attempt{EventID: ev.ID, N: ev.Attempts + 1, StartedAt: start}
	var rep reply
	if cfg == nil || cfg.URL == "" {
		att.Error = "no callback URL configured"
		return att, rep
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = webhook.DefaultTimeout
	}
	dl := webhook.Delivery{
		ID: webhookID, App: ev.App, Command: webhook.Command(ev.Command), Body: ev.Body,
		ClientIP: ev.ClientIP, Platform: ev.Platform,
	}
	if d.lean != nil {
		if rep, ok := d.attemptDirect(ctx, w, cfg, dl, &att, timeout); ok {
			return att, rep
		}
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := webhook.NewRequest(actx, cfg, dl, start)
	if err != nil {
		att.Error = "build request: " + err.Error()
		return att, rep
	}
	att.URL = cfg.URL
	att.RequestURL, att.RequestHeaders = webhook.RecordRequest(req)
	resp, err := d.o.Client.Do(req)
	if err != nil {
		att.Duration = d.o.Now().Sub(start)
		att.Error = webhook.TransportError(err)
		if errors.Is(err, context.DeadlineExceeded) {
			att.Error = fmt.Sprintf("timeout after %s", timeout)
		}
		return att, rep
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	att.Duration = d.o.Now().Sub(start)
	att.StatusCode = resp.StatusCode
	att.Response = string(body[:min(len(body), maxRecordedResponse)])
	if err != nil {
		att.Error = "read reply: " + err.Error()
		return att, rep
	}
	if resp.StatusCode != http.StatusOK {
		att.Error = fmt.Sprintf("HTTP status %d", resp.StatusCode)
		if msg := webhook.RedirectError(resp); msg != "" {
			att.Error = msg
		}
		rep.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), d.o.Now())
		return att, rep
	}
	if !isJSONObject(body) {
		att.Error = "reply is not a JSON object"
		return att, rep
	}
	return att, rep
}

// head is what nextState needs to know of the attempted event's place in its room.
type head struct {
	// exempt is how many of the event's attempts (this one included) do not count against
	// max_attempts: the probes made while its app was paused.
	exempt int
	// holdStart is when the room's hold began (the head's first attempt); zero: no bound.
	holdStart time.Time
	// probe is set when this attempt is the app's probe: a failed probe never makes its
	// event dead (the app is paused, not the event at fault) and waits for the next probe.
	probe bool
}

// nextState decides where the event goes after att. holdExpired reports that it is dead
// because the app's max_room_hold was reached.
func (d *Dispatcher) nextState(cfg *webhook.Config, att store.Attempt, rep reply, h head) (next store.EventUpdate, holdExpired bool) {
	now := d.o.Now()
	if att.Error == "" {
		return store.EventUpdate{State: store.EventDelivered, DeliveredAt: now}, false
	}
	policy := webhook.DefaultRetryPolicy
	maxHold := webhook.DefaultMaxRoomHold
	if cfg != nil {
		policy, maxHold = cfg.Retry, cfg.MaxRoomHold
	}
	counted := max(att.N-h.exempt, 1)
	if !policy.Enabled || (!h.probe && counted >= policy.MaxAttempts) {
		return store.EventUpdate{State: store.EventDead, LastError: att.Error}, false
	}
	delay := Backoff(policy, counted, rand.Float64())
	if rep.retryAfter > delay {
		delay = min(rep.retryAfter, time.Hour)
	}
	if !h.probe && maxHold > 0 && !h.holdStart.IsZero() {
		// A retry that would come after the bound is not made: the room never waits past
		// max_room_hold (plus the last attempt's timeout) for one event.
		if held := now.Add(delay).Sub(h.holdStart); held > maxHold {
			return store.EventUpdate{State: store.EventDead, LastError: fmt.Sprintf(
				"max_room_hold %s reached after %d attempts (the next retry would have held the room %s): %s",
				maxHold, att.N, held.Round(time.Second), att.Error)}, true
		}
	}
	return store.EventUpdate{State: store.EventRetrying, NextAttemptAt: now.Add(delay), LastError: att.Error}, false
}

// Backoff returns the delay before the attempt after attempt n (1-based): InitialBackoff
// doubled n-1 times, capped at MaxBackoff, scaled into [d/2, d] by jitter in [0, 1).
func Backoff(p webhook.RetryPolicy, n int, jitter float64) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	if d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d/2 + time.Duration(float64(d/2)*jitter)
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// Stats is a snapshot of the dispatcher's memory.
type Stats struct {
	InMemory, InFlight, Rooms int
	Behind                    bool
	// HandedOver counts the events of a shared store that were queued as they committed,
	// without the loader (NotifyAfter).
	HandedOver uint64
}

// Stats returns a snapshot for metrics.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Stats{InMemory: d.inMem, InFlight: d.inFlight, Rooms: len(d.rooms), Behind: d.behind, HandedOver: d.handedOver}
}

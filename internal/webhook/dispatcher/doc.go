// Package dispatcher delivers the outbox's After-callbacks to App backends: at least once,
// in commit order per room, many rooms in parallel.
//
// # Lifecycle
//
// A Dispatcher has three states:
//
//	new ──Start──▶ running ──Stop (or the end of Start's context)──▶ stopped
//	 │                                                                  ▲
//	 └────────────────────────────Stop──────────────────────────────────┘
//
// New returns it new: Notify already accepts events (they stay in the database, as at a
// restart) but nothing is sent. Start(ctx) starts the loader, which first reads the
// undelivered events of earlier runs, the workers and the recorder, and returns at once;
// Start on a running dispatcher does nothing. Stop(ctx) cancels the run context with the
// cause ErrStopped, so that an attempt cut short by a shutdown is told apart from a
// failure (it is neither recorded nor logged as an error; the next start sends it again
// with the same webhook-id), stops the backoff timers, and waits (up to ctx) until the
// workers, the loader and the recorder have ended. When the context given to Start ends
// instead, the dispatcher stops the same way and logs the context's cause, since nobody
// asked for it; Stop is still what waits for the end. Stop is idempotent, Stop before
// Start just marks the dispatcher stopped, and a stopped dispatcher does not start again
// (Start returns ErrStopped): make a new one.
//
// A graceful stop calls Drain(ctx) before Stop: Drain marks the dispatcher closed (no
// worker takes another room, no backoff timer fires, Notify leaves events in the database)
// and waits until the attempts in flight have finished and been recorded, up to ctx; Stop
// then cuts short whatever is still in flight and ends the loader and the recorder. The
// events not attempted stay pending and are sent after the next start.
//
// # Terms: one dispatcher per term of delivery
//
// The Holder (holder.go) is what the rest of roomd uses: the outbox's Notify, the delivery
// APIs, metrics and the console. It runs one dispatcher per term of delivery:
//
//	idle ──Begin──▶ leading ──End──▶ idle       any ──Stop──▶ stopped (final)
//
// Begin makes a fresh Dispatcher and starts it (new → running above); End stops it (running →
// stopped: attempts in flight are cut short and left as stored, and the next term, on this
// node or another, sends them again with the same webhook-id, which is the database's
// instance id and the event id, so the same on every node). A node alone on its store runs
// one term from Start to Close. On a store shared by several nodes (package cluster), a term
// is one leadership of the "delivery" lease: only the leader delivers, and between terms the
// Holder answers the delivery log from the database, ignores Notify (events stay in the
// database; the leader learns of them through the store's notifications) and requeues
// resends in the database only.
//
// On a shared store the leader's Notify goes through NotifyAfter: it queues the event only
// when the loader's cursor has reached the event's After, the event that committed last
// before it (so every event committed before it has been read); else it calls Wake, which
// makes the loader read every undelivered event above its cursor. Other nodes' events are
// found the same way (the cluster runtime calls Wake on every "events" notification but
// this node's own, whose hooks told of them). The cursor stays valid because the store
// assigns event ids in commit order cluster-wide. A
// resend made through another node's API requeues an event below the cursor; the leader's
// Rescan, every RescanInterval, queues the undelivered events below the cursor that are not
// in memory (term.go).
//
// # Time
//
// The dispatcher reads the time and arms its timers (retry backoffs, the loader's waits)
// through Options.Clock. The timer's firing is what makes a waiting room due; the clock is
// not read again to check, so a clock whose Now stands still cannot make a room re-arm its
// timer in a loop. With a clock.Manual, nothing that waits moves until the test moves the
// clock.
//
// # States
//
// An event is pending when stored. The dispatcher holds undelivered events in memory, one
// FIFO queue per (app, room). A room whose head event is due and not in flight is ready; a
// worker takes the ready room whose head is oldest (lowest event id), marks the head
// sending (in memory only) and makes one attempt:
//
//	pending ──attempt──▶ delivered                      (HTTP 200 and a JSON object body)
//	   │
//	   └──failed──▶ retrying ──attempt──▶ … ──▶ dead    (attempt budget spent, max_room_hold
//	                                                      reached, or retries off)
//
// The attempt and the event's new state are written in one store transaction (grouped with
// other workers' results by the recorder, record.go, into one call of
// store.Tx.EventRecordAttempts) before the room's next event may be sent, so a room never
// has two events in flight and its callbacks reach the App backend in commit order. A dead event no longer blocks its room.
//
// "sending" is never written to the database: an attempt whose outcome was not recorded
// before a crash finds its event still pending or retrying at start-up, and it is sent
// again with the same webhook-id, which lets the receiver de-duplicate.
//
// A successful delivery to an app ends the backoff of every other room of that app that is
// waiting to retry: the App backend is evidently back, so its callbacks need not sit out
// delays of up to MaxBackoff. The per-app in-flight limit still bounds the burst.
//
// # Room hold bound
//
// Per-room order means a failing head holds back its room. Config.MaxRoomHold bounds that:
// the hold starts at the head's first attempt (in this run), and a retry that would come
// later than MaxRoomHold after it — a long backoff or a long Retry-After — is not made: the
// event is dead at once with a LastError that names the bound and the last failure, and
// the room's next event goes. The worst wait for one head is therefore MaxRoomHold plus
// one timeout. Time during which the app was paused by its breaker is added to the bound.
//
// # A paused app: the circuit breaker
//
// Each app has a breaker (breaker.go), used while retries are on:
//
//	closed ──Failures consecutive failed attempts, over ≥ 2 rooms──▶ open
//	open ──every ProbeInterval (at least the last Retry-After)──▶ probing (one attempt)
//	probing ──failed──▶ open        probing ──delivered──▶ closed
//	open or probing ──any delivery (an attempt in flight when it opened)──▶ closed
//
// While open, rooms whose head comes due are put in the app's paused set instead of its
// ready list; nothing is sent but the probe, which is the head of the paused room due the
// longest (a failed probe's room is due again only after its backoff, so probes rotate).
// Nothing is dropped: events keep being stored and queued; a probe is not counted against
// its event's max_attempts (the count is kept in memory: after a restart every recorded
// attempt counts), and no event is dead-lettered by the hold bound while paused. On
// closing, every paused room is ready at once and the rooms waiting out a backoff are woken
// as after any success. One bad event in one room never opens the breaker: that is the hold
// bound's case. The breaker is in memory; a restart begins closed.
//
// # Rate limit
//
// Config.MaxPerSecond, when set, bounds the app's attempts by a token bucket holding one
// second's worth (at least one attempt); a worker skips an app without a token, and a
// timer on the dispatcher's clock wakes the workers when the next one is due.
//
// # Memory bound
//
// At most MaxInMemory events are held. Beyond that, newly committed events are left in the
// database (the dispatcher remembers that it is behind) and loaded in id order once the
// queues drain below half, MaxInMemory/2 events in reads of loadPage; start-up loads the
// same way. An event left in the database while fewer than MaxInMemory/2 are held wakes
// the loader at once (an event committed during the start-up read is one). The loader and
// Notify each add only events above the loader's cursor: the store runs an event's hook
// (Notify) after the COMMIT, so a loader read in between can catch up with the event
// before its hook arrives, and the hook must not queue it a second time.
//
// # Failure handling
//
// A failed attempt is retried after an exponential backoff with jitter (InitialBackoff
// doubling up to MaxBackoff, each delay drawn from [d/2, d]), or after the receiver's
// Retry-After when that is longer. If the result cannot be written (disk full, say), the
// event stays at the head of its room and is attempted again later. Each app has its own
// in-flight limit, so one App backend that hangs cannot starve the others.
package dispatcher

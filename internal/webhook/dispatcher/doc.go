// Package dispatcher delivers the outbox's After-callbacks to App backends: at least once,
// in commit order per room, many rooms in parallel.
//
// # States
//
// An event is pending when stored. The dispatcher holds undelivered events in memory, one
// FIFO queue per (app, room). A room whose head event is due and not in flight is ready; a
// worker takes it, marks the head sending (in memory only) and makes one attempt:
//
//	pending ──attempt──▶ delivered                      (HTTP 200 and a JSON object body)
//	   │
//	   └──failed──▶ retrying ──attempt──▶ … ──▶ dead    (attempt budget spent, or retries off)
//
// The attempt and the event's new state are written in one store transaction (grouped with
// other workers' results by the store's group commit) before the room's next event may be
// sent, so a room never has two events in flight and its callbacks reach the App backend
// in commit order. A dead event no longer blocks its room.
//
// "sending" is never written to the database: an attempt whose outcome was not recorded
// before a crash finds its event still pending or retrying at start-up, and it is sent
// again with the same webhook-id, which lets the receiver de-duplicate.
//
// A successful delivery to an app ends the backoff of every other room of that app that is
// waiting to retry: the App backend is evidently back, so its callbacks need not sit out
// delays of up to MaxBackoff. The per-app in-flight limit still bounds the burst.
//
// # Memory bound
//
// At most MaxInMemory events are held. Beyond that, newly committed events are left in the
// database (the dispatcher remembers that it is behind) and loaded in id order once the
// queues drain below half; start-up loads the same way.
//
// # Failure handling
//
// A failed attempt is retried after an exponential backoff with jitter (InitialBackoff
// doubling up to MaxBackoff, each delay drawn from [d/2, d]), or after the receiver's
// Retry-After when that is longer. If the result cannot be written (disk full, say), the
// event stays at the head of its room and is attempted again later. Each app has its own
// in-flight limit, so one App backend that hangs cannot starve the others.
package dispatcher

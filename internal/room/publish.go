package room

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// SetObserver makes fn receive every room event after the transaction that caused it
// commits, in commit order, on the committing goroutine (fn must not block). It is called
// once, before the service serves; nil means no observer. Events of a transaction that
// rolls back are never observed.
func (s *Service) SetObserver(fn func(Event)) { s.observer = fn }

// head returns the head of an event the actor causes in the room now.
func (s *Service) head(a Actor, roomID string) EventHead { return newHead(a, roomID, s.now()) }

func newHead(a Actor, roomID string, t time.Time) EventHead {
	return EventHead{App: a.App, RoomID: roomID, Operator: a.Operator, Platform: a.Platform, ClientIP: a.ClientIP, Time: t}
}

// publish is how every change reaches both consumers of room events: when ev causes an
// After-callback (callbacks.go), it is written to tx's outbox, with the actor's app,
// client IP and platform and ev's room as ordering key; on a node of a cluster, ev is written
// for the other nodes' clients in tx too (cluster.go); and once tx commits, ev goes to the
// observer. Nothing else in the package writes to the outbox.
func (s *Service) publish(ctx context.Context, tx store.Tx, a Actor, ev Event) error {
	if err := s.broadcast(ctx, tx, ev); err != nil {
		return err
	}
	if cmd, body, ok := callback(ev); ok {
		_, err := s.outbox.Enqueue(ctx, tx, webhook.Emit{
			App: a.App, RoomID: ev.Head().RoomID, Command: cmd, Body: body, ClientIP: a.ClientIP, Platform: a.Platform,
		})
		if err != nil {
			return err
		}
	}
	tx.AfterCommit(func() { s.observe(ev) })
	return nil
}

// observe hands a committed event to the observer, if one is set.
func (s *Service) observe(ev Event) {
	if s.observer != nil {
		s.observer(ev)
	}
}

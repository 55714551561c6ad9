package webhook

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Platform values of the OptPlatform query parameter: RESTAPI for a call of the server REST
// API, Unknown for an unknown device (https://www.tencentcloud.com/document/product/647/64412).
const (
	PlatformRESTAPI = "RESTAPI"
	PlatformUnknown = "Unknown"
)

// Emit describes an After-callback caused by a state change.
type Emit struct {
	App uint64
	// RoomID is the ordering key: callbacks of one room are delivered in commit order.
	RoomID string
	// Command is the callback's command, the only place it is named: Render copies it into
	// the body's CallbackCommand.
	Command  Command
	Body     any // one of the body structs of this package, CallbackCommand left empty
	ClientIP string
	Platform string
}

// Outbox stores After-callbacks in the same transaction as the state change that caused
// them, so a callback exists if and only if its change committed.
type Outbox struct {
	configs *Configs
	now     func() time.Time
	// notify is told about each stored event after its transaction commits.
	notify func(store.Event)
}

// NewOutbox returns an outbox that consults configs and hands committed events to notify
// (the dispatcher). notify runs on the committing goroutine and must not block.
func NewOutbox(configs *Configs, now func() time.Time, notify func(store.Event)) *Outbox {
	return &Outbox{configs: configs, now: now, notify: notify}
}

// Enqueue renders e and inserts it into tx's outbox when e's app has a callback URL and
// e's command switched on (under its own word or its alias, see Config.Wire); otherwise
// nothing is stored. It reports whether an event was
// stored.
func (o *Outbox) Enqueue(ctx context.Context, tx store.Tx, e Emit) (bool, error) {
	cmd, ok := o.configs.Get(e.App).Wire(e.Command)
	if !ok {
		return false, nil
	}
	body, err := Render(cmd, e.Body)
	if err != nil {
		return false, err
	}
	now := o.now()
	ev := store.Event{
		App:           e.App,
		RoomID:        e.RoomID,
		Command:       string(cmd),
		Body:          body,
		ClientIP:      e.ClientIP,
		Platform:      e.Platform,
		CreatedAt:     now,
		State:         store.EventPending,
		NextAttemptAt: now,
	}
	if err := tx.EventInsert(ctx, &ev); err != nil {
		return false, err
	}
	if o.notify != nil {
		tx.AfterCommit(func() { o.notify(ev) })
	}
	return true, nil
}

package store

import (
	"context"
	"time"
)

// DeliveryWriter holds the delivery-log operations on outbox events.
type DeliveryWriter interface {
	// EventRequeue puts a delivered or dead event back to pending, due at at, for one more
	// round of delivery (a resend); its attempt numbering continues. ErrNotFound when absent,
	// ErrConflict when the event is still pending or retrying.
	EventRequeue(ctx context.Context, id int64, at time.Time) (Event, error)
}

package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

func (t *tx) EventRequeue(ctx context.Context, id int64, at time.Time) (store.Event, error) {
	e, err := t.EventGet(ctx, id)
	if err != nil {
		return store.Event{}, err
	}
	if e.State != store.EventDelivered && e.State != store.EventDead {
		return store.Event{}, fmt.Errorf("%w: event %d is %s", store.ErrConflict, id, e.State)
	}
	if _, err := t.q.exec(ctx, `UPDATE events SET state = 'pending', next_attempt_at = ?, delivered_at = 0 WHERE id = ?`, ms(at), id); err != nil {
		return store.Event{}, fmt.Errorf("requeue event %d: %w", id, err)
	}
	e.State, e.NextAttemptAt, e.DeliveredAt = store.EventPending, at, time.Time{}
	return e, nil
}

package dispatcher

import (
	"context"
	"fmt"
)

// Drain is the first half of a graceful stop: the dispatcher takes no more events (no
// worker starts another attempt, no backoff timer fires, Notify only leaves events in the
// database), and Drain waits until the attempts in flight have finished and their
// outcomes are recorded, or until ctx ends (then it returns ctx's cause and the attempts
// still in flight are left for Stop to cut short). Stop must follow, to end the loader and
// the recorder. Everything not attempted stays pending in the database and is sent after
// the next start. Drain before Start, or after Stop, returns at once.
func (d *Dispatcher) Drain(ctx context.Context) error {
	d.life.Lock()
	idle := d.idle
	d.life.Unlock()
	d.shut()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain dispatcher: %w", context.Cause(ctx))
	}
}

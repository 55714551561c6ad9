package room

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// ThresholdPercent is the alert level of an app's room quota: a creation that brings the
// number of rooms to this share of room_quota or more emits
// Live.CallbackAfterCreateRoomReachingThreshold (spec webhooks.md §4.6).
const ThresholdPercent = 70

// checkQuota returns how many rooms the app has before a creation, and
// ErrRoomQuotaExceeded when a quota is set and already reached: the quota is enforced, a
// creation never takes the app past it. With no quota the count is not needed and 0 is
// returned.
func checkQuota(ctx context.Context, tx store.Tx, app uint64, quota int) (int, error) {
	if quota <= 0 {
		return 0, nil
	}
	n, err := tx.RoomCount(ctx, app)
	if err != nil {
		return 0, err
	}
	if n >= quota {
		return n, fmt.Errorf("%w: the app has %d rooms, its room_quota is %d", ErrRoomQuotaExceeded, n, quota)
	}
	return n, nil
}

// publishThreshold publishes RoomCountThreshold
// (Live.CallbackAfterCreateRoomReachingThreshold) when a quota is set and the creation
// brought the room count to ThresholdPercent of it or more. It fires on every such
// creation, not only on the one crossing the line, so the App backend keeps hearing about it
// while the app stays above the alert level (the spec's wording; decisions.md).
func (s *Service) publishThreshold(ctx context.Context, tx store.Tx, a Actor, h EventHead, count, quota int) error {
	if quota <= 0 || count*100 < quota*ThresholdPercent {
		return nil
	}
	return s.publish(ctx, tx, a, RoomCountThreshold{EventHead: h, Count: count, Quota: quota})
}

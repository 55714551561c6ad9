package room

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// ThresholdPercent is the alert level of an app's room quota: a creation that brings the
// number of rooms to this share of room_quota or more emits
// Live.CallbackAfterCreateRoomReachingThreshold, which Tencent sends after a creation that
// brings the room count to 70 % of the package's quota
// (https://www.tencentcloud.com/document/product/647/70485).
const ThresholdPercent = 70

// checkQuota returns how many rooms the app has before a creation, and
// ErrRoomQuotaExceeded when a quota is set and already reached: the quota is enforced, a
// creation never takes the app past it. inserted is how many rooms of the creation tx
// already holds (Create inserts its room before it checks): they are not counted. With no
// quota the count is not needed and 0 is returned.
func checkQuota(ctx context.Context, tx store.Tx, app uint64, quota, inserted int) (int, error) {
	if quota <= 0 {
		return 0, nil
	}
	n, err := tx.RoomCount(ctx, app)
	if err != nil {
		return 0, err
	}
	n -= inserted
	if n >= quota {
		return n, fmt.Errorf("%w: the app has %d rooms, its room_quota is %d", ErrRoomQuotaExceeded, n, quota)
	}
	return n, nil
}

// publishThreshold publishes RoomCountThreshold
// (Live.CallbackAfterCreateRoomReachingThreshold) when a quota is set and the creation
// brought the room count to ThresholdPercent of it or more. It fires on every such
// creation, not only on the one crossing the line, so the App backend keeps hearing about it
// while the app stays above the alert level: the callback's page speaks of a creation after
// which the count reaches the alert level and does not say "only the first" (docs/decisions.md).
func (s *Service) publishThreshold(ctx context.Context, tx store.Tx, a Actor, h EventHead, count, quota int) error {
	if quota <= 0 || count*100 < quota*ThresholdPercent {
		return nil
	}
	return s.publish(ctx, tx, a, RoomCountThreshold{EventHead: h, Count: count, Quota: quota})
}

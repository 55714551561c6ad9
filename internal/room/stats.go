package room

import (
	"context"

	"github.com/roomd/roomd/internal/store"
)

// Stats is a room's cumulative counters (get_room_stats). TotalViewers is the room's
// ViewCount; TotalMsgCount counts the messages stored in the room.
type Stats = store.RoomStats

// Stats returns a room's cumulative counters.
func (s *Service) Stats(ctx context.Context, app uint64, id string) (Stats, error) {
	if err := ValidateRoomID(id); err != nil {
		return Stats{}, err
	}
	// One read: the counters are found exactly when the room is.
	st, err := s.store.RoomStatsGet(ctx, app, id)
	return st, roomLookupErr(id, err)
}

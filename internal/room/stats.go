package room

import (
	"context"
	"errors"
	"fmt"

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
	st, err := s.store.RoomStatsGet(ctx, app, id)
	if errors.Is(err, store.ErrNotFound) {
		return Stats{}, fmt.Errorf("%w: %s", ErrRoomNotFound, id)
	}
	return st, err
}

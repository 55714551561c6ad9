package store

import "context"

// RoomStatsReader holds the read query of a room's statistics counters.
type RoomStatsReader interface {
	// RoomStatsGet returns a room's cumulative counters; all zero when nothing was counted
	// yet. TotalViewers is the room's ViewCount. ErrNotFound when the room does not exist.
	RoomStatsGet(ctx context.Context, app uint64, roomID string) (RoomStats, error)
}

// RoomStatsWriter holds the write of a room's statistics counters.
type RoomStatsWriter interface {
	// RoomStatsIncr adds delta to one counter of a room. StatViewers adds to the room's
	// ViewCount (which orders get_room_list). Callers outside the room package (messages,
	// gifts, likes) call it in the same transaction as the change they count, e.g.
	// tx.RoomStatsIncr(ctx, app, roomID, store.StatMsgCount, 1) for every stored message.
	// ErrNotFound when the room does not exist.
	RoomStatsIncr(ctx context.Context, app uint64, roomID string, field StatField, delta int64) error
}

// StatField names one counter of RoomStats.
type StatField int

// The counters of RoomStats.
const (
	StatViewers StatField = iota + 1
	StatGiftsSent
	StatGiftCoins
	StatUniqueGiftSenders
	StatLikesReceived
	StatMsgCount
)

// RoomStats is a room's cumulative counters (get_room_stats).
type RoomStats struct {
	TotalViewers           int64
	TotalGiftsSent         int64
	TotalGiftCoins         int64
	TotalUniqueGiftSenders int64
	TotalLikesReceived     int64
	TotalMsgCount          int64
}

package store

import (
	"context"
	"time"
)

// SanctionReader holds the read queries of a room's sanctions: mutes (chat bans) and bans.
// Both carry their expiry; the queries take the caller's clock and never return expired
// ones.
type SanctionReader interface {
	// MuteGet returns the active mute of a user in a room; ErrNotFound when the user is not
	// muted or the mute expired at or before now.
	MuteGet(ctx context.Context, app uint64, roomID, userID string, now time.Time) (Mute, error)
	// MuteList returns a room's mutes still active at now, ordered by user id.
	MuteList(ctx context.Context, app uint64, roomID string, now time.Time) ([]Mute, error)

	// BanActive reports whether userID is banned from the room at now. Every way into a room
	// (add_robot, a member joining) must check it and refuse a banned user.
	BanActive(ctx context.Context, app uint64, roomID, userID string, now time.Time) (bool, error)
	// BanList returns up to p.Limit bans of a room still active at p.Now, skipping p.Offset
	// of them, ordered by ban time, then user id.
	BanList(ctx context.Context, p BanListParams) ([]Ban, error)
}

// SanctionWriter holds the writes of a room's mutes and bans.
type SanctionWriter interface {
	// MutePut mutes a user until m.Until, replacing an earlier mute of the same user.
	MutePut(ctx context.Context, m Mute) error
	// MuteDelete lifts a user's mute; removed is false when there was none.
	MuteDelete(ctx context.Context, app uint64, roomID, userID string) (removed bool, err error)

	// BanPut bans a user until b.Until, replacing an earlier ban of the same user.
	BanPut(ctx context.Context, b Ban) error
	// BanDelete lifts a user's ban; removed is false when there was none.
	BanDelete(ctx context.Context, app uint64, roomID, userID string) (removed bool, err error)
}

// Mute is a user's chat ban in one room (mute_member).
type Mute struct {
	App    uint64
	RoomID string
	UserID string
	// Until is when the mute ends (exclusive).
	Until     time.Time
	CreatedAt time.Time
}

// Ban keeps a user out of one room (ban_member).
type Ban struct {
	App    uint64
	RoomID string
	UserID string
	// Until is when the ban ends (exclusive).
	Until     time.Time
	Reason    string
	CreatedAt time.Time
}

// BanListParams selects a page of a room's active bans.
type BanListParams struct {
	App    uint64
	RoomID string
	Now    time.Time
	Offset int
	Limit  int
}

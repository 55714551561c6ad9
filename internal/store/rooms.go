package store

import (
	"context"
	"time"
)

// RoomReader holds the read queries of rooms.
type RoomReader interface {
	// RoomGet returns one room; ErrNotFound when there is none.
	RoomGet(ctx context.Context, app uint64, roomID string) (Room, error)
	// RoomOwnerInfo returns one room with only App, RoomID, Owner and Info filled, for a
	// change that needs no more of it (change_room_owner); ErrNotFound when there is none.
	RoomOwnerInfo(ctx context.Context, app uint64, roomID string) (Room, error)
	// RoomCount counts the rooms of app.
	RoomCount(ctx context.Context, app uint64) (int, error)
	// RoomList returns up to p.Limit rooms of app ordered by view count descending, then
	// creation time and room id, starting after p.After (the zero value starts at the top).
	RoomList(ctx context.Context, p RoomListParams) ([]Room, error)
}

// RoomWriter holds the writes of rooms.
type RoomWriter interface {
	// RoomInsert adds a room; ErrConflict when the id is taken.
	RoomInsert(ctx context.Context, r Room) error
	// RoomUpdate replaces every column of an existing room; ErrNotFound when there is none.
	RoomUpdate(ctx context.Context, r Room) error
	// RoomSetOwner changes the owner column only; ErrNotFound when there is no such room.
	RoomSetOwner(ctx context.Context, app uint64, roomID, owner string) error
	// RoomAddViews adds n to the room's view count (the entries it has had, TotalViewers);
	// ErrNotFound when there is no such room.
	RoomAddViews(ctx context.Context, app uint64, roomID string, n int64) error
	// RoomDelete removes a room and everything hanging off it; ErrNotFound when absent.
	RoomDelete(ctx context.Context, app uint64, roomID string) error
}

// Room is a live room row. Info holds the room's remaining attributes as JSON owned by the
// room package; the columns are those the store must query by.
type Room struct {
	App           uint64
	RoomID        string
	Owner         string
	CreatedAt     time.Time
	ViewCount     int64
	PublicVisible bool
	Info          []byte
}

// RoomListParams selects a page of rooms.
type RoomListParams struct {
	App        uint64
	OnlyPublic bool
	Limit      int
	// After is the last room of the previous page; zero to start at the top.
	After *Room
	// Ascending reverses the order: view count ascending, then creation time and room id
	// descending.
	Ascending bool
}

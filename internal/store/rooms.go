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
	// RoomOwnerChange reads in one statement what handing a room to user needs
	// (change_room_owner): the room as RoomOwnerInfo returns it, what user is to the app and
	// the room, whether the room has owner timers, and its stored seats. ErrNotFound when
	// there is no such room.
	RoomOwnerChange(ctx context.Context, app uint64, roomID, user string) (OwnerChange, error)
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
	// RoomInsertOwned adds a room as RoomInsert does, in the same statement as the check that
	// its owner is an imported account of its app: ErrNotFound, with nothing written, when
	// r.Owner is not (whether or not the id is taken); ErrConflict when the id is taken and
	// the owner is an account.
	RoomInsertOwned(ctx context.Context, r Room) error
	// RoomUpdate replaces every column of an existing room; ErrNotFound when there is none.
	RoomUpdate(ctx context.Context, r Room) error
	// RoomSetOwner changes the owner column only; ErrNotFound when there is no such room.
	RoomSetOwner(ctx context.Context, app uint64, roomID, owner string) error
	// RoomSetOwnerUnchecked changes the owner column as RoomSetOwner does, for a room the
	// transaction has read: it does not report a missing room (nothing changes then), so a
	// driver need not wait for the statement's result (PostgreSQL's pipelined writer
	// queues it with the call's next statements).
	RoomSetOwnerUnchecked(ctx context.Context, app uint64, roomID, owner string) error
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

// OwnerChange is what RoomOwnerChange reads for handing a room to a user.
type OwnerChange struct {
	// Room has App, RoomID, Owner and Info filled, as RoomOwnerInfo returns it.
	Room Room
	// Account: the user is an imported account of the app (AccountGet would find it).
	Account bool
	// Member: the user is in the room (MemberGet would find it); Robot: as a robot.
	Member, Robot bool
	// Admin: the user is an admin of the room (AdminIs).
	Admin bool
	// OwnerTimers: the room has a TimerOwnerLeave or a TimerOwnerOffline timer.
	OwnerTimers bool
	// SeatRequest: the user has a pending seat application in the room.
	SeatRequest bool
	// Seats are the room's stored seats, by index, as SeatList returns them.
	Seats []Seat
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

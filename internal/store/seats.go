package store

import (
	"context"
	"time"
)

// SeatReader holds the read queries of seats and of pending applications to take one.
// Only seats that differ from an empty, unlocked seat are stored: the domain knows how many
// seats a room has and fills in the rest.
type SeatReader interface {
	// SeatList returns the stored seats of a room (occupied or locked ones), by index.
	SeatList(ctx context.Context, app uint64, roomID string) ([]Seat, error)
	// SeatRequestGet returns one pending application; ErrNotFound when there is none with
	// that id in the room.
	SeatRequestGet(ctx context.Context, app uint64, roomID, requestID string) (SeatRequest, error)
	// SeatRequestList returns the pending applications of a room, oldest first (then by id).
	SeatRequestList(ctx context.Context, app uint64, roomID string) ([]SeatRequest, error)
	// SeatRequestListDue returns up to limit applications, of every room of every app, that
	// expire at or before t, earliest first. Applications without an expiry never appear.
	SeatRequestListDue(ctx context.Context, t time.Time, limit int) ([]SeatRequest, error)
}

// SeatWriter holds the writes of seats and applications.
type SeatWriter interface {
	// SeatPut stores a seat, replacing what was stored at its index. A seat that is empty and
	// unlocked is deleted instead. ErrConflict when the user already sits on another seat of
	// the room (one user, one seat); nothing is written then.
	SeatPut(ctx context.Context, s Seat) error
	// SeatRequestPut stores a new application. ErrConflict when the id is taken or the user
	// already has a pending application in the room; nothing is written then.
	SeatRequestPut(ctx context.Context, r SeatRequest) error
	// SeatRequestDelete removes an application and reports whether there was one.
	SeatRequestDelete(ctx context.Context, app uint64, roomID, requestID string) (bool, error)
}

// Seat is one seat of a room. UserID is empty for an empty seat. Locked forbids taking the
// seat (Tencent's IsTakenDisabled), VideoLocked and AudioLocked forbid publishing video or
// audio from it.
type Seat struct {
	App         uint64
	RoomID      string
	Index       int
	UserID      string
	Locked      bool
	VideoLocked bool
	AudioLocked bool
}

// IsDefault reports whether s is an empty, unlocked seat, which is not stored.
func (s Seat) IsDefault() bool {
	return s.UserID == "" && !s.Locked && !s.VideoLocked && !s.AudioLocked
}

// SeatRequest is a pending application of a user to take a seat in a room whose
// TakeSeatMode is ApplyToTake. Index is the seat asked for, -1 for any free seat. A zero
// ExpiresAt never expires.
type SeatRequest struct {
	App       uint64
	RoomID    string
	ID        string
	UserID    string
	Index     int
	CreatedAt time.Time
	ExpiresAt time.Time
}

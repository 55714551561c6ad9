package store

import (
	"context"
	"time"
)

// PresenceReader holds the read queries of live presence: members whose connections lost
// their heartbeat (they may still recover), and the timers of a room that dissolve it when
// it has been empty, or without its owner, for too long. Online members are room_members
// rows (see MemberReader); a lost member has no such row while it is lost.
type PresenceReader interface {
	// LostMemberGet returns the lost-heartbeat record of one user in a room; ErrNotFound
	// when the user's heartbeat is not lost there.
	LostMemberGet(ctx context.Context, app uint64, roomID, userID string) (LostMember, error)
	// LostMemberListBefore returns up to limit lost members whose heartbeat was lost at or
	// before t, oldest first.
	LostMemberListBefore(ctx context.Context, t time.Time, limit int) ([]LostMember, error)
	// MemberListPeople returns up to limit members that are not robots and whose Node is
	// node, over every room of every app, ordered by app, room and user, starting after the
	// member after (nil: from the start). Start-up uses it to find the members of a previous
	// process ("" on a single node), and a cluster node those of a node it found dead.
	MemberListPeople(ctx context.Context, node string, after *Member, limit int) ([]Member, error)
	// RoomTimerListDue returns up to limit room timers due at or before t, earliest first.
	RoomTimerListDue(ctx context.Context, t time.Time, limit int) ([]RoomTimer, error)
	// RoomTimerGet returns a room's timer of one kind; ErrNotFound when it is not set.
	RoomTimerGet(ctx context.Context, app uint64, roomID string, kind RoomTimerKind) (RoomTimer, error)
}

// PresenceWriter holds the writes of live presence.
type PresenceWriter interface {
	// LostMemberPut records that a user's heartbeat in a room was lost at m.LostAt,
	// replacing an earlier record.
	LostMemberPut(ctx context.Context, m LostMember) error
	// LostMemberDelete forgets a lost-heartbeat record and reports whether there was one.
	LostMemberDelete(ctx context.Context, app uint64, roomID, userID string) (bool, error)
	// RoomTimerPut sets a room timer, replacing the due time of the same kind.
	RoomTimerPut(ctx context.Context, t RoomTimer) error
	// RoomTimerDelete removes a room timer of one kind; absent timers are no error.
	RoomTimerDelete(ctx context.Context, app uint64, roomID string, kind RoomTimerKind) error
}

// LostMember is a room member all of whose connections stopped answering heartbeats. It was
// told Offline (HeartbeatInterrupt); if it comes back before its grace period ends it is
// Online again (HeartbeatRecover), after that it is forgotten silently.
type LostMember struct {
	App    uint64
	RoomID string
	UserID string
	LostAt time.Time
}

// RoomTimerKind names why a room dissolves itself when its timer is due.
type RoomTimerKind string

// The room timers, after Tencent's LifetimeAfterNoUsers, LifetimeAfterOwnerLeave and
// LifetimeAfterOwnerOffline.
const (
	TimerNoUsers      RoomTimerKind = "no_users"
	TimerOwnerLeave   RoomTimerKind = "owner_leave"
	TimerOwnerOffline RoomTimerKind = "owner_offline"
)

// RoomTimer is a due time at which a room is dissolved by the system, unless what set it
// (nobody in the room, the owner gone) has changed by then.
type RoomTimer struct {
	App    uint64
	RoomID string
	Kind   RoomTimerKind
	DueAt  time.Time
}

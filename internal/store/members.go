package store

import (
	"context"
	"time"
)

// MemberReader holds the read queries of room members. Robots (add_robot) are members with
// IsRobot set; the people APIs (get_member_list, admins, bans) build on the same rows.
type MemberReader interface {
	// MemberGet returns one member of a room; ErrNotFound when the user is not in it.
	MemberGet(ctx context.Context, app uint64, roomID, userID string) (Member, error)
	// MemberList returns up to p.Limit members of a room ordered by join time, then user id,
	// starting after p.After (nil starts at the top), filtered by p.Kind.
	MemberList(ctx context.Context, p MemberListParams) ([]Member, error)
	// MemberCount counts the members of a room of the given kind.
	MemberCount(ctx context.Context, app uint64, roomID string, kind MemberKind) (int, error)
	// MemberCounts counts the members of a room (robots included) and, among them, the
	// people, in one pass over the room's rows.
	MemberCounts(ctx context.Context, app uint64, roomID string) (all, people int, err error)
}

// MemberWriter holds the writes of room members.
type MemberWriter interface {
	// MemberAdd puts a user in a room, with m.Node. When the user is already in it, nothing
	// changes (the join time, robot flag and node stay) and created is false.
	MemberAdd(ctx context.Context, m Member) (created bool, err error)
	// MemberRemove takes a user out of a room; ErrNotFound when the user is not in it.
	MemberRemove(ctx context.Context, app uint64, roomID, userID string) error
}

// Member is one user in a room.
type Member struct {
	App      uint64
	RoomID   string
	UserID   string
	IsRobot  bool
	JoinedAt time.Time
	// Node is the node whose client connection made the user a member: "" on a single
	// node and for members added otherwise (robots through REST). When that node dies,
	// the members it made are seen as having lost their heartbeat (MemberListPeople).
	Node string
}

// MemberKind filters members by the robot flag.
type MemberKind int

// The member kinds.
const (
	// MembersAll selects people and robots.
	MembersAll MemberKind = iota
	// MembersPeople selects members that are not robots.
	MembersPeople
	// MembersRobots selects robots only.
	MembersRobots
)

// MemberListParams selects a page of a room's members.
type MemberListParams struct {
	App    uint64
	RoomID string
	Kind   MemberKind
	Limit  int
	// After is the last member of the previous page; nil to start at the top.
	After *Member
}

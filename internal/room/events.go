package room

import (
	"encoding/json"
	"time"
)

// Event is a change to a room. The service publishes every event to its Observer after the
// transaction that made the change commits, in commit order; the callback outbox renders
// the same events (callbacks.go), so a change reaches the App backend and the connected
// clients through one path, whichever door (REST or client) it came through.
type Event interface {
	// Head returns the fields every event has.
	Head() EventHead
}

// EventHead is what every room event carries: the room, who caused the change, from where,
// and when.
type EventHead struct {
	App      uint64
	RoomID   string
	Operator string // the acting user; SystemOperator for automatic changes
	Platform string
	ClientIP string
	Time     time.Time
}

// Head returns h; embedding EventHead makes a type an Event.
func (h EventHead) Head() EventHead { return h }

// SystemOperator is the Operator_Account of changes roomd makes on its own, such as
// dissolving a room nobody is in (Tencent's value).
const SystemOperator = "@TIM#SYSTEM"

// ConnID identifies one client connection; the client API assigns them.
type ConnID uint64

// MembersOnline: users came into the room (Cause Enter) or came back within the grace
// period after losing their heartbeat (Cause HeartbeatRecover).
type MembersOnline struct {
	EventHead
	Users []string
	Cause string // webhook.CauseEnter or webhook.CauseHeartbeatRecover
	Audience
}

// Audience is who is in a room after a presence change: how many members it has, and its
// managers (owner and room admins), who always hear of entries and departures. The client
// API tells every member of a small room, and only the managers of a large one.
type Audience struct {
	MemberCount int
	Managers    []string
}

// MembersOffline: users left the room (Leave), lost their heartbeat (HeartbeatInterrupt) or
// were removed by the owner, an admin or a ban (Kicked).
type MembersOffline struct {
	EventHead
	Users []string
	Cause string // webhook.CauseLeave, CauseHeartbeatInterrupt or CauseKicked
	Audience
}

// UserKicked: a user was put out of the room (kick or ban) and its connections there are
// closed for the room; Reason is shown to the user.
type UserKicked struct {
	EventHead
	UserID string
	Reason string
}

// ConnEntered: a connection joined the room and from now on receives its events.
type ConnEntered struct {
	EventHead
	Conn   ConnID
	UserID string
}

// ConnsLeft: connections stopped receiving the room's events (exit, lost heartbeat, kick).
type ConnsLeft struct {
	EventHead
	Conns []ConnID
}

// RoomCreated: the room was created; Room is the new room.
type RoomCreated struct {
	EventHead
	Room Room
}

// RoomCountThreshold: a creation brought the app's number of rooms (Count) to
// ThresholdPercent of its room quota (Quota) or more. RoomID is the room just created.
type RoomCountThreshold struct {
	EventHead
	Count int
	Quota int
}

// RoomDismissed: the room was dissolved, by a user (BySystem false) or automatically.
// Every connection in it stops receiving its events. Room is the room as it was, Statistic
// what it accumulated over its life.
type RoomDismissed struct {
	EventHead
	BySystem  bool
	Room      Room
	Statistic Statistic
}

// OwnerChanged: the room's owner changed from From to To.
type OwnerChanged struct {
	EventHead
	From, To string
}

// AdminsChanged: Users became room admins (Added) or stopped being admins.
type AdminsChanged struct {
	EventHead
	Users []string
	Added bool
}

// RoomInfoChanged: some of the room's updatable attributes changed; Room is the result.
// MessageDisabledChanged says whether IsMessageDisabled is one of them. Unchanged marks
// REST's explicit write of values the room already had (UpdateParams.CallbackUnchanged):
// it is called back, but nothing changed for the clients.
type RoomInfoChanged struct {
	EventHead
	Room                   Room
	MessageDisabledChanged bool
	Unchanged              bool
}

// MetadataChanged: keys of the room's metadata were set (Set) or deleted (Deleted).
type MetadataChanged struct {
	EventHead
	Set     []Metadata
	Deleted []string
}

// MessageSent: a room message was delivered to the room. Time is the message's time. Body
// is the message as stored (IM's MsgBody, as the Before-callback may have replaced it);
// Text, or BusinessID and Data with Custom set, are what the client API shows of it, and
// Silent is set when it shows nothing (readElems in groupmsg.go). NoCallback leaves
// Group.CallbackAfterSendMsg out (send_group_msg's ForbidCallbackControl).
type MessageSent struct {
	EventHead
	Sender     string
	Seq        int64
	Text       string // for a text message
	BusinessID string // for a custom message
	Data       string // for a custom message
	Custom     bool

	MsgID           string
	Random          uint32
	Body            json.RawMessage
	CloudCustomData string

	Silent     bool
	NoCallback bool
}

// MemberMuted: a user's permission to send messages changed: muted until Until, or
// (Muted false, Until zero) the mute was lifted.
type MemberMuted struct {
	EventHead
	UserID string
	Muted  bool
	Until  time.Time
}

package store

import (
	"context"
	"encoding/json"
	"time"
)

// PeopleReader holds the read queries of a room's admins, mutes, bans and message history
// (the people and message APIs of rest-api.md §3.3, §3.4). Mutes and bans carry their expiry;
// the queries take the caller's clock and never return expired ones.
type PeopleReader interface {
	// AdminList returns a room's admins in the order they were added.
	AdminList(ctx context.Context, app uint64, roomID string) ([]string, error)
	// AdminIs reports whether userID is an admin of the room.
	AdminIs(ctx context.Context, app uint64, roomID, userID string) (bool, error)

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

	// MessageList returns up to p.Limit messages of a room's history with MsgSeq > p.AfterSeq,
	// in MsgSeq order.
	MessageList(ctx context.Context, p MessageListParams) ([]Message, error)
}

// PeopleWriter holds the writes of a room's admins, mutes, bans and message history.
type PeopleWriter interface {
	// AdminAdd makes userID an admin of the room; created is false when it already was one.
	AdminAdd(ctx context.Context, app uint64, roomID, userID string, at time.Time) (created bool, err error)
	// AdminRemove takes the admin role from userID; removed is false when it had none.
	AdminRemove(ctx context.Context, app uint64, roomID, userID string) (removed bool, err error)

	// MutePut mutes a user until m.Until, replacing an earlier mute of the same user.
	MutePut(ctx context.Context, m Mute) error
	// MuteDelete lifts a user's mute; removed is false when there was none.
	MuteDelete(ctx context.Context, app uint64, roomID, userID string) (removed bool, err error)

	// BanPut bans a user until b.Until, replacing an earlier ban of the same user.
	BanPut(ctx context.Context, b Ban) error
	// BanDelete lifts a user's ban; removed is false when there was none.
	BanDelete(ctx context.Context, app uint64, roomID, userID string) (removed bool, err error)

	// MessageNextSeq takes the next message sequence number of a room (1, 2, …). A number is
	// never handed out twice, even when its message is not stored (a message the App backend
	// dropped keeps its number, leaving a gap in the history).
	MessageNextSeq(ctx context.Context, app uint64, roomID string) (int64, error)
	// MessageInsert appends a message, numbered by MessageNextSeq, to a room's history;
	// ErrConflict when the number is taken.
	MessageInsert(ctx context.Context, m Message) error

	// EventInsertRecorded stores an event that was already sent, with its one attempt: a
	// Before-callback, which is sent synchronously and never retried. e.State must be
	// EventDelivered or EventDead, so the dispatcher never picks it up. It sets e.ID and
	// a.EventID.
	EventInsertRecorded(ctx context.Context, e *Event, a *Attempt) error
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

// Message is one message of a room's history (send_text_msg, send_custom_msg).
type Message struct {
	App    uint64
	RoomID string
	Seq    int64
	Sender string
	// Time is the server send time (MsgTime, Unix seconds on the wire).
	Time time.Time
	// Body is the message's MsgBody: a JSON array of IM message elements.
	Body            json.RawMessage
	CloudCustomData string
	Random          uint32
	MsgID           string
}

// MessageListParams selects a page of a room's message history.
type MessageListParams struct {
	App      uint64
	RoomID   string
	AfterSeq int64
	Limit    int
}

package store

import (
	"context"
	"encoding/json"
	"time"
)

// MessageReader holds the read query of a room's message history.
type MessageReader interface {
	// MessageList returns up to p.Limit messages of a room's history with MsgSeq > p.AfterSeq,
	// in MsgSeq order; with p.Newest, the last p.Limit of them (still in MsgSeq order).
	MessageList(ctx context.Context, p MessageListParams) ([]Message, error)
}

// MessageWriter holds the writes of a room's message history.
type MessageWriter interface {
	// MessageNextSeq takes the next message sequence number of a room (1, 2, …). A number is
	// never handed out twice, even when its message is not stored (a message the App backend
	// dropped keeps its number, leaving a gap in the history).
	MessageNextSeq(ctx context.Context, app uint64, roomID string) (int64, error)
	// MessageInsert appends a message, numbered by MessageNextSeq, to a room's history;
	// ErrConflict when the number is taken.
	MessageInsert(ctx context.Context, m Message) error
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
	// Newest picks the last Limit messages instead of the first.
	Newest bool
}

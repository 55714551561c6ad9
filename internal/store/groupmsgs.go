package store

import (
	"context"
	"time"
)

// GroupMessageReader holds the query that recognises a retried IM group message
// (send_group_msg): Tencent treats two messages of a group with the same Random within five
// minutes as one.
type GroupMessageReader interface {
	// MessageFindRandom returns the newest message of a room's history whose Random is
	// random and whose time is at or after since; ErrNotFound when there is none.
	MessageFindRandom(ctx context.Context, app uint64, roomID string, random uint32, since time.Time) (Message, error)
}

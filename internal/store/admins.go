package store

import (
	"context"
	"time"
)

// AdminReader holds the read queries of a room's admins (modify_admin, get_admin_list).
type AdminReader interface {
	// AdminList returns a room's admins in the order they were added.
	AdminList(ctx context.Context, app uint64, roomID string) ([]string, error)
	// AdminIs reports whether userID is an admin of the room.
	AdminIs(ctx context.Context, app uint64, roomID, userID string) (bool, error)
}

// AdminWriter holds the writes of a room's admins.
type AdminWriter interface {
	// AdminAdd makes userID an admin of the room; created is false when it already was one.
	AdminAdd(ctx context.Context, app uint64, roomID, userID string, at time.Time) (created bool, err error)
	// AdminRemove takes the admin role from userID; removed is false when it had none.
	AdminRemove(ctx context.Context, app uint64, roomID, userID string) (removed bool, err error)
}

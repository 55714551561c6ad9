package store

import (
	"context"
	"time"
)

// AccountReader holds the read queries of imported accounts.
type AccountReader interface {
	// AccountGet returns one account of app; ErrNotFound when it was not imported.
	AccountGet(ctx context.Context, app uint64, userID string) (Account, error)
	// AccountCount counts the accounts of app.
	AccountCount(ctx context.Context, app uint64) (int, error)
}

// AccountWriter holds the writes of imported accounts.
type AccountWriter interface {
	// AccountUpsert inserts the account or, if it exists, updates nick and face URL; it
	// reports whether the account was created.
	AccountUpsert(ctx context.Context, a Account) (created bool, err error)
	// AccountDelete deletes the account; ErrNotFound when there is none.
	AccountDelete(ctx context.Context, app uint64, userID string) error
}

// Account is an imported user account of an app.
type Account struct {
	App       uint64
	UserID    string
	Nick      string
	FaceURL   string
	CreatedAt time.Time
}

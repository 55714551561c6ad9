package store

import (
	"context"
	"time"
)

// FollowReader holds the read queries of follow relations (who follows whom).
type FollowReader interface {
	// FollowIs reports whether from follows to.
	FollowIs(ctx context.Context, app uint64, from, to string) (bool, error)
	// FollowCount counts the users a user follows (FollowKindFollowing), its followers
	// (FollowKindFollowers) or the users it follows that follow it back (FollowKindMutual).
	FollowCount(ctx context.Context, app uint64, userID string, kind FollowKind) (int, error)
	// FollowList returns a page of the users of p.Kind of p.UserID, newest relation first
	// (then by user id), after the position p.After when it is set.
	FollowList(ctx context.Context, p FollowListParams) ([]FollowEntry, error)
}

// FollowWriter holds the writes of follow relations.
type FollowWriter interface {
	// FollowInsert makes f.From follow f.To; ErrConflict when it already does.
	FollowInsert(ctx context.Context, f Follow) error
	// FollowDelete ends from's following of to; ErrNotFound when from does not follow to.
	FollowDelete(ctx context.Context, app uint64, from, to string) error
}

// Follow is one follow relation: From follows To since CreatedAt.
type Follow struct {
	App       uint64
	From      string
	To        string
	CreatedAt time.Time
}

// FollowKind selects which relations of a user a list or count covers.
type FollowKind int

// The kinds of follow lists, numbered as follow_get's FollowType.
const (
	FollowKindFollowers FollowKind = 1 // users who follow the user
	FollowKindFollowing FollowKind = 2 // users the user follows
	FollowKindMutual    FollowKind = 3 // users the user follows who follow it back
)

// FollowEntry is one user of a follow list and when the relation began (for mutual
// followers, the later of the two relations).
type FollowEntry struct {
	UserID string
	Since  time.Time
}

// FollowListParams selects a page of a follow list. After, when set, is the last entry of
// the previous page: the page starts right after it in the list's order.
type FollowListParams struct {
	App    uint64
	UserID string
	Kind   FollowKind
	After  *FollowEntry
	Limit  int
}

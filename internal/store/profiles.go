package store

import (
	"context"
	"encoding/json"
)

// ProfileReader holds the read query of the profile fields of an account other than its
// nick and face URL, which the account row itself keeps (AccountGet).
type ProfileReader interface {
	// ProfileTagList returns the stored profile fields of an account, ordered by tag. An
	// account without any, or no account at all, has none.
	ProfileTagList(ctx context.Context, app uint64, userID string) ([]ProfileTag, error)
}

// ProfileWriter holds the writes of account profiles.
type ProfileWriter interface {
	// AccountProfileUpdate sets the nick and/or face URL of an existing account; a nil
	// pointer keeps the stored value. ErrNotFound when the account was not imported.
	AccountProfileUpdate(ctx context.Context, p AccountProfileUpdate) error
	// ProfileTagSet stores profile fields of an account, replacing the values of the same
	// tags. Deleting the account deletes its fields.
	ProfileTagSet(ctx context.Context, app uint64, userID string, tags []ProfileTag) error
}

// AccountProfileUpdate names the profile values of an account to change.
type AccountProfileUpdate struct {
	App     uint64
	UserID  string
	Nick    *string
	FaceURL *string
}

// ProfileTag is one profile field: its Tag (such as "Tag_Profile_IM_SelfSignature") and
// its value as JSON (a string or a number).
type ProfileTag struct {
	Tag   string
	Value json.RawMessage
}

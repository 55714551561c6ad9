package room

import (
	"context"
	"errors"

	"github.com/roomd/roomd/internal/store"
)

// withOwner returns r with OwnerName and OwnerAvatarURL read from its owner's account. An
// owner whose account was deleted since has an empty name and avatar.
func withOwner(ctx context.Context, st store.Reader, r Room) (Room, error) {
	acc, err := st.AccountGet(ctx, r.App, r.Owner)
	switch {
	case err == nil:
		r.OwnerName, r.OwnerAvatarURL = acc.Nick, acc.FaceURL
	case !errors.Is(err, store.ErrNotFound):
		return Room{}, err
	}
	return r, nil
}

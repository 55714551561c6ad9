package room

import (
	"context"
	"sort"

	"github.com/roomd/roomd/internal/store"
)

// PublishForTest lets the external tests publish an event in a transaction of their own.
func (s *Service) PublishForTest(ctx context.Context, tx store.Tx, a Actor, ev Event) error {
	return s.publish(ctx, tx, a, ev)
}

// HeadForTest returns s.head(a, roomID).
func (s *Service) HeadForTest(a Actor, roomID string) EventHead { return s.head(a, roomID) }

// BroadcastKinds returns the kinds of the broadcast events, sorted.
func BroadcastKinds() []string {
	out := make([]string, 0, len(broadcastKinds))
	for k := range broadcastKinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

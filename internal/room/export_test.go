package room

import (
	"context"

	"github.com/roomd/roomd/internal/store"
)

// PublishForTest lets the external tests publish an event in a transaction of their own.
func (s *Service) PublishForTest(ctx context.Context, tx store.Tx, a Actor, ev Event) error {
	return s.publish(ctx, tx, a, ev)
}

// HeadForTest returns s.head(a, roomID).
func (s *Service) HeadForTest(a Actor, roomID string) EventHead { return s.head(a, roomID) }

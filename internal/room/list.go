package room

import (
	"context"

	"github.com/roomd/roomd/internal/store"
)

// MaxListCount is the largest page of get_room_list (spec rest-api.md §3.1).
const MaxListCount = 20

// ListParams selects a page of publicly visible rooms.
type ListParams struct {
	App uint64
	// Count is the page size, 1..MaxListCount.
	Count int
	// Ascending lists by ViewCount ascending instead of descending (the Manager's
	// SortDirection "ascend").
	Ascending bool
	// After is the last room of the previous page; nil for the first page.
	After *store.Room
}

// List returns a page of the app's publicly visible rooms ordered by ViewCount (descending
// unless p.Ascending), then creation time and room id, and whether more rooms follow.
// Rooms with IsPublicVisible false are left out.
func (s *Service) List(ctx context.Context, p ListParams) ([]Room, bool, error) {
	count := p.Count
	if count <= 0 || count > MaxListCount {
		count = MaxListCount
	}
	rows, err := s.store.RoomList(ctx, store.RoomListParams{App: p.App, OnlyPublic: true, Limit: count + 1, After: p.After, Ascending: p.Ascending})
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > count
	if more {
		rows = rows[:count]
	}
	out := make([]Room, 0, len(rows))
	for _, row := range rows {
		r, err := fromRow(row)
		if err != nil {
			return nil, false, err
		}
		if r, err = withCounts(ctx, s.store, r); err != nil {
			return nil, false, err
		}
		out = append(out, r)
	}
	return out, more, nil
}

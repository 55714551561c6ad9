package room

import (
	"context"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// UpdateParams is an update_room_info request: nil fields are absent and stay as they are.
// The updatable set is the fields update_room_info's page lists
// (https://www.tencentcloud.com/document/product/647/63403) plus IsUnlimitedRoomEnabled (sent by
// Tencent's Manager on every update) and BackgroundURL; other RoomInfo fields (RoomType,
// Owner_Account, SeatTemplate, MaxSeatCount, …) are not updatable and are ignored, as
// Tencent ignores unknown fields.
type UpdateParams struct {
	ID                     string
	RoomName               *string
	MaxMemberCount         *int
	IsMessageDisabled      *bool
	CoverURL               *string
	Category               *[]int
	ActivityStatus         *int
	IsPublicVisible        *bool
	TakeSeatMode           *string
	Notice                 *string
	CustomInfo             *string
	IsUnlimitedRoomEnabled *bool
	BackgroundURL          *string
}

// empty reports whether the request names no updatable field.
func (p UpdateParams) empty() bool {
	return p.RoomName == nil && p.MaxMemberCount == nil && p.IsMessageDisabled == nil && p.CoverURL == nil &&
		p.Category == nil && p.ActivityStatus == nil && p.IsPublicVisible == nil && p.TakeSeatMode == nil &&
		p.Notice == nil && p.CustomInfo == nil && p.IsUnlimitedRoomEnabled == nil && p.BackgroundURL == nil
}

// apply copies the present fields onto r.
func (p UpdateParams) apply(r *Room) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.RoomName, p.RoomName)
	set(&r.CoverURL, p.CoverURL)
	set(&r.TakeSeatMode, p.TakeSeatMode)
	set(&r.Notice, p.Notice)
	set(&r.CustomInfo, p.CustomInfo)
	set(&r.BackgroundURL, p.BackgroundURL)
	if p.MaxMemberCount != nil {
		r.MaxMemberCount = *p.MaxMemberCount
	}
	if p.IsMessageDisabled != nil {
		r.IsMessageDisabled = *p.IsMessageDisabled
	}
	if p.Category != nil {
		r.Category = append([]int{}, (*p.Category)...)
	}
	if p.ActivityStatus != nil {
		r.ActivityStatus = *p.ActivityStatus
	}
	if p.IsPublicVisible != nil {
		r.IsPublicVisible = *p.IsPublicVisible
	}
	if p.IsUnlimitedRoomEnabled != nil {
		r.IsUnlimitedRoomEnabled = *p.IsUnlimitedRoomEnabled
	}
	// An empty RoomName takes the create-time default again: the room id.
	if r.RoomName == "" {
		r.RoomName = r.ID
	}
}

// Update changes the fields present in p and publishes RoomInfoChanged
// (Live.CallbackAfterUpdateRoomInfo, with the full updatable set after the update). The
// owner and room admins (and App admins) update a room. Every field is checked with create_room's rules
// before anything is written, so a rejected request changes nothing. A request naming no
// updatable field succeeds, changes nothing and emits no callback.
func (s *Service) Update(ctx context.Context, a Actor, p UpdateParams) error {
	if err := ValidateRoomID(p.ID); err != nil {
		return err
	}
	if p.Category != nil && len(*p.Category) > MaxCategories {
		// Checked early too so that an oversized request fails before the room lookup.
		return errcode.Invalid("Category", "has more than %d entries", MaxCategories)
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, p.ID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleAdmin); err != nil {
			return err
		}
		r, err := fromRow(row)
		if err != nil {
			return err
		}
		p.apply(&r)
		if err := r.Info.validate(); err != nil {
			return err
		}
		if p.empty() {
			return nil
		}
		nrow, err := r.row()
		if err != nil {
			return err
		}
		if err := tx.RoomUpdate(ctx, nrow); err != nil {
			return err
		}
		if r, err = withCounts(ctx, tx, r); err != nil {
			return err
		}
		return s.publish(ctx, tx, a, RoomInfoChanged{EventHead: s.head(a, r.ID), Room: r})
	})
}

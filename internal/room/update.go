package room

import (
	"context"
	"slices"

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
	// CallbackUnchanged is REST update_room_info's rule: a request that names an updatable
	// field is an explicit write and is called back even when it changes nothing
	// (docs/decisions.md). Without it (the client's updates) such a request publishes
	// nothing.
	CallbackUnchanged bool
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

// sameUpdatable reports whether r and o agree on every updatable field.
func (r Room) sameUpdatable(o Room) bool {
	return r.RoomName == o.RoomName && r.MaxMemberCount == o.MaxMemberCount && r.IsMessageDisabled == o.IsMessageDisabled &&
		r.CoverURL == o.CoverURL && slices.Equal(r.Category, o.Category) && r.ActivityStatus == o.ActivityStatus &&
		r.IsPublicVisible == o.IsPublicVisible && r.TakeSeatMode == o.TakeSeatMode && r.Notice == o.Notice &&
		r.CustomInfo == o.CustomInfo && r.IsUnlimitedRoomEnabled == o.IsUnlimitedRoomEnabled && r.BackgroundURL == o.BackgroundURL
}

// Update changes the fields present in p and publishes RoomInfoChanged
// (Live.CallbackAfterUpdateRoomInfo, with the full updatable set after the update). The
// owner and room admins (and App admins) update a room. Every field is checked with create_room's rules
// before anything is written, so a rejected request changes nothing. A request naming no
// updatable field succeeds and publishes nothing. A request naming only values the room
// already has succeeds and writes nothing; it publishes nothing either (no callback, no push,
// as ChangeOwner to the current owner), except with p.CallbackUnchanged, where it publishes
// RoomInfoChanged with Unchanged set: the callback goes, clients are told nothing.
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
		before := r
		p.apply(&r)
		if err := r.Info.validate(); err != nil {
			return err
		}
		unchanged := r.sameUpdatable(before)
		if p.empty() || (unchanged && !p.CallbackUnchanged) {
			return nil
		}
		if !unchanged {
			nrow, err := r.row()
			if err != nil {
				return err
			}
			if err := tx.RoomUpdate(ctx, nrow); err != nil {
				return err
			}
		}
		if r, err = withCounts(ctx, tx, r); err != nil {
			return err
		}
		return s.publish(ctx, tx, a, RoomInfoChanged{EventHead: s.head(a, r.ID), Room: r, Unchanged: unchanged,
			MessageDisabledChanged: r.IsMessageDisabled != before.IsMessageDisabled})
	})
}

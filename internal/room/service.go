package room

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Actor is who causes a change: the operator account and where the request came from.
type Actor struct {
	App      uint64
	Operator string
	ClientIP string
	Platform string
}

// Service implements the room operations.
type Service struct {
	store  store.Store
	outbox *webhook.Outbox
	now    func() time.Time
}

// NewService returns the room service.
func NewService(s store.Store, outbox *webhook.Outbox, now func() time.Time) *Service {
	return &Service{store: s, outbox: outbox, now: now}
}

func (s *Service) emit(ctx context.Context, tx store.Tx, a Actor, roomID string, cmd webhook.Command, body any) error {
	_, err := s.outbox.Enqueue(ctx, tx, webhook.Emit{App: a.App, RoomID: roomID, Command: cmd, Body: body, ClientIP: a.ClientIP, Platform: a.Platform})
	return err
}

func requireAccount(ctx context.Context, tx store.Reader, app uint64, field, userID string) error {
	if userID == "" {
		return errcode.Invalid(field, "is required")
	}
	_, err := tx.AccountGet(ctx, app, userID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s %q", ErrAccountNotImported, field, userID)
	}
	return err
}

// requireRoom returns the room, or ErrRoomNotFound: every operation on an existing room
// checks it here.
func requireRoom(ctx context.Context, r store.Reader, app uint64, id string) (store.Room, error) {
	row, err := r.RoomGet(ctx, app, id)
	return row, roomLookupErr(id, err)
}

// roomLookupErr turns the store's ErrNotFound from a read keyed by room id into
// ErrRoomNotFound; other errors pass unchanged.
func roomLookupErr(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrRoomNotFound, id)
	}
	return err
}

// CreateParams is a create_room request. Nil pointers take the defaults.
type CreateParams struct {
	ID              string
	Owner           string // empty: the operator
	IsPublicVisible *bool
	Info            Info
	// RoomQuota is the app's room_quota; 0 means none. See checkQuota (quota.go).
	RoomQuota int
}

// Create creates a room and emits Live.CallbackAfterCreateRoom.
func (s *Service) Create(ctx context.Context, a Actor, p CreateParams) (Room, error) {
	if err := ValidateRoomID(p.ID); err != nil {
		return Room{}, err
	}
	r := Room{App: a.App, ID: p.ID, Owner: p.Owner, IsPublicVisible: true, Info: p.Info}
	if r.Owner == "" {
		r.Owner = a.Operator
	}
	if p.IsPublicVisible != nil {
		r.IsPublicVisible = *p.IsPublicVisible
	}
	if r.RoomName == "" {
		r.RoomName = r.ID
	}
	if r.TakeSeatMode == "" {
		r.TakeSeatMode = FreeToTake
	}
	if r.SeatTemplate == "" {
		r.SeatTemplate = DefaultSeatTemplate
	}
	if r.MaxSeatCount == 0 {
		r.MaxSeatCount = seatTemplates[r.SeatTemplate]
	}
	if r.Category == nil {
		r.Category = []int{}
	}
	if err := r.Info.validate(); err != nil {
		return Room{}, err
	}
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		// The spec's order: a taken RoomId (100003, or 100010 for the same owner) is reported
		// before an owner that is not an imported account (70107).
		existing, err := tx.RoomGet(ctx, a.App, r.ID)
		if err == nil {
			if existing.Owner == r.Owner {
				return fmt.Errorf("%w: room %s", ErrRoomExistsSameOwner, r.ID)
			}
			return fmt.Errorf("%w: room %s", ErrRoomExists, r.ID)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := requireAccount(ctx, tx, a.App, "Owner_Account", r.Owner); err != nil {
			return err
		}
		rooms, err := checkQuota(ctx, tx, a.App, p.RoomQuota)
		if err != nil {
			return err
		}
		now := s.now()
		r.CreateTime = time.Unix(now.Unix(), 0)
		row, err := r.row()
		if err != nil {
			return err
		}
		if err := tx.RoomInsert(ctx, row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: room %s", ErrRoomExists, r.ID)
			}
			return err
		}
		if err := s.emit(ctx, tx, a, r.ID, webhook.AfterCreateRoom, webhook.CreateRoom{
			CallbackCommand:  webhook.AfterCreateRoom,
			Operator_Account: a.Operator,
			RoomInfo: webhook.CreateRoomInfo{
				RoomId: r.ID, RoomName: r.RoomName, RoomType: r.RoomType, Owner_Account: r.Owner,
				MaxMemberCount: r.MaxMemberCount, IsMessageDisabled: r.IsMessageDisabled, CustomInfo: r.CustomInfo,
				IsSeatEnabled: r.IsSeatEnabled, TakeSeatMode: r.TakeSeatMode, MaxSeatCount: r.MaxSeatCount,
				CreateTime: r.CreateTime.Unix(), IsPublicVisible: r.IsPublicVisible, CoverURL: r.CoverURL, Category: r.Category,
			},
			EventTime: now.UnixMilli(),
		}); err != nil {
			return err
		}
		return s.emitThreshold(ctx, tx, a, r.ID, rooms+1, p.RoomQuota, now)
	})
	if err != nil {
		return Room{}, err
	}
	return r, nil
}

// Get returns a room.
func (s *Service) Get(ctx context.Context, app uint64, id string) (Room, error) {
	if err := ValidateRoomID(id); err != nil {
		return Room{}, err
	}
	row, err := requireRoom(ctx, s.store, app, id)
	if err != nil {
		return Room{}, err
	}
	return fromRow(row)
}

// Statistic is what a room accumulated over its life: the callback's counters plus the
// message count, which destroy_room answers but Live.CallbackAfterDestroyRoom does not carry.
type Statistic struct {
	webhook.Statistic
	TotalMsgCount int64
}

// Destroy dissolves a room and emits Live.CallbackAfterDestroyRoom; it returns the room's
// final statistics.
func (s *Service) Destroy(ctx context.Context, a Actor, id string) (Statistic, error) {
	if err := ValidateRoomID(id); err != nil {
		return Statistic{}, err
	}
	var stat Statistic
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		r, err := fromRow(row)
		if err != nil {
			return err
		}
		counters, err := tx.RoomStatsGet(ctx, a.App, id)
		if err != nil {
			return err
		}
		if err := tx.RoomDelete(ctx, a.App, id); err != nil {
			return err
		}
		stat = Statistic{Statistic: webhook.Statistic{TotalViewers: r.ViewCount, TotalGiftsSent: counters.TotalGiftsSent,
			TotalGiftCoins: counters.TotalGiftCoins, TotalUniqueGiftSenders: counters.TotalUniqueGiftSenders,
			TotalLikesReceived: counters.TotalLikesReceived}, TotalMsgCount: counters.TotalMsgCount}
		return s.emit(ctx, tx, a, id, webhook.AfterDestroyRoom, webhook.DestroyRoom{
			CallbackCommand:  webhook.AfterDestroyRoom,
			Operator_Account: a.Operator,
			RoomId:           id,
			EventType:        webhook.DestroyByUser,
			EventTime:        s.now().UnixMilli(),
			RoomInfo: webhook.DestroyRoomInfo{
				RoomId: r.ID, RoomName: r.RoomName, RoomType: r.RoomType, Owner_Account: r.Owner,
				IsSeatEnabled: r.IsSeatEnabled, TakeSeatMode: r.TakeSeatMode, MaxMemberCount: r.MaxMemberCount,
				MaxSeatCount: r.MaxSeatCount, Category: r.Category, CustomInfo: r.CustomInfo,
				IsMessageDisabled: r.IsMessageDisabled, CoverURL: r.CoverURL, ActivityStatus: r.ActivityStatus,
				IsPublicVisible: r.IsPublicVisible, ViewCount: r.ViewCount, BackgroundURL: r.BackgroundURL,
				IsUnlimitedRoomEnabled: r.IsUnlimitedRoomEnabled, CreateTime: r.CreateTime.Unix(),
			},
			Statistic: stat.Statistic,
		})
	})
	return stat, err
}

// ChangeOwner transfers a room to newOwner, an imported account, and emits
// Live.CallbackAfterChangeOwner. Naming the current owner again succeeds and changes
// nothing, so no callback is sent.
func (s *Service) ChangeOwner(ctx context.Context, a Actor, id, newOwner string) error {
	if err := ValidateRoomID(id); err != nil {
		return err
	}
	if newOwner == "" {
		return errcode.Invalid("NewOwner_Account", "is required")
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		if err := requireAccount(ctx, tx, a.App, "NewOwner_Account", newOwner); err != nil {
			return err
		}
		if row.Owner == newOwner {
			return nil
		}
		if err := tx.RoomSetOwner(ctx, a.App, id, newOwner); err != nil {
			return err
		}
		return s.emit(ctx, tx, a, id, webhook.AfterChangeOwner, webhook.ChangeOwner{
			CallbackCommand:       webhook.AfterChangeOwner,
			RoomId:                id,
			EventTime:             s.now().UnixMilli(),
			Operator_Account:      a.Operator,
			CurrentOwner_Account:  newOwner,
			OriginalOwner_Account: row.Owner,
		})
	})
}

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
// AppAdmin is set for App admins, who may do everything: the REST API sets it on every
// actor it builds (its callers are App admins). Without it the operator is an App user
// (the client API), and each operation checks the user's role in the room (permission.go).
type Actor struct {
	App      uint64
	Operator string
	ClientIP string
	Platform string
	AppAdmin bool
}

// Service implements the room operations.
type Service struct {
	store    store.Store
	outbox   *webhook.Outbox
	now      func() time.Time
	observer func(Event)
	live     *liveRegistry // connections in rooms (live.go)
	liveOpts LiveOptions
	battleID func() string // BattleIds (battles.go)
	node     string        // this node of a cluster, "" on a single node (cluster.go)
}

// NewService returns the room service. Live presence (live.go) has no grace period and no
// dissolution timers until SetLiveOptions is called.
func NewService(s store.Store, outbox *webhook.Outbox, now func() time.Time) *Service {
	return &Service{store: s, outbox: outbox, now: now, live: newLiveRegistry()}
}

func requireAccount(ctx context.Context, tx store.Reader, app uint64, field, userID string) error {
	if userID == "" {
		return errcode.Invalid(field, "is required")
	}
	_, err := tx.AccountGet(ctx, app, userID)
	if errors.Is(err, store.ErrNotFound) {
		return accountNotImported(field, userID)
	}
	return err
}

// accountNotImported is the error of a request naming in field a user that is not an
// imported account.
func accountNotImported(field, userID string) error {
	return fmt.Errorf("%w: %s %q", ErrAccountNotImported, field, userID)
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

// Create creates a room and publishes RoomCreated (Live.CallbackAfterCreateRoom), and
// RoomCountThreshold when the app's room count reaches the quota's alert level. An App user
// creates rooms for itself only.
func (s *Service) Create(ctx context.Context, a Actor, p CreateParams) (Room, error) {
	if err := ValidateRoomID(p.ID); err != nil {
		return Room{}, err
	}
	r := Room{App: a.App, ID: p.ID, Owner: p.Owner, IsPublicVisible: true, Info: p.Info}
	if r.Owner == "" {
		r.Owner = a.Operator
	}
	if !a.AppAdmin && r.Owner != a.Operator {
		return Room{}, fmt.Errorf("%w: %s cannot create a room owned by %s", ErrNoPermission, a.Operator, r.Owner)
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
	namedTemplate := r.SeatTemplate != ""
	if !namedTemplate {
		r.SeatTemplate = DefaultSeatTemplate
	}
	if r.MaxSeatCount == 0 || (namedTemplate && !maxSeatCountCounts(r.SeatTemplate)) {
		// MaxSeatCount is the room's number of seats. Of the named templates only
		// AudioSalon and Karaoke take it from the request; the others have their
		// template's. A request of the generations before SeatTemplate sets it itself.
		r.MaxSeatCount = seatTemplates[r.SeatTemplate]
	}
	if r.MaxSeatCount > MaxSeats {
		return Room{}, errcode.Invalid("MaxSeatCount", "is larger than %d", MaxSeats)
	}
	if r.Category == nil {
		r.Category = []int{}
	}
	if err := r.Info.validate(); err != nil {
		return Room{}, err
	}
	// The call writes only the new room's rows and the outbox, and its first store call is
	// RoomInsertOwned: a store may read that insert's checks ahead.
	// (Only Tx is given the footprint: a context that outlived the call must not carry it.)
	footprint := store.WithFootprint(ctx, store.Footprint{App: a.App, RoomID: r.ID, First: store.ReadRoomInsert, User: r.Owner})
	err := s.store.Tx(footprint, func(tx store.Tx) error {
		// Tencent gives no order between these checks. create_room's page answers a taken
		// RoomId with 100003, or 100010 when it already belongs to the requested owner
		// (https://www.tencentcloud.com/document/product/647/63401); roomd reports that before an
		// owner that is not an imported account (70107), as a business check on the room.
		//
		// The room is inserted first, in the one statement that also checks that the owner
		// is an account (store.RoomInsertOwned), and the other checks follow: a taken
		// RoomId is the insert's conflict, and a failed check rolls the insert back with the
		// transaction, so the answers are those of checking first, without a read of the
		// room. Only when the insert finds no owner account is the room read, to tell a
		// taken RoomId (which is answered first) from a missing account.
		h := s.head(a, r.ID)
		r.CreateTime = time.Unix(h.Time.Unix(), 0)
		row, err := r.row()
		if err != nil {
			return err
		}
		if err := tx.RoomInsertOwned(ctx, row); err != nil {
			if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			existing, rerr := tx.RoomOwnerInfo(ctx, a.App, r.ID)
			switch {
			case rerr == nil && existing.Owner == r.Owner:
				return fmt.Errorf("%w: room %s", ErrRoomExistsSameOwner, r.ID)
			case rerr == nil:
				return fmt.Errorf("%w: room %s", ErrRoomExists, r.ID)
			case !errors.Is(rerr, store.ErrNotFound):
				return rerr
			case errors.Is(err, store.ErrConflict):
				return fmt.Errorf("%w: room %s", ErrRoomExists, r.ID)
			}
			// No such room: the owner is no account.
			if err := requireAccount(ctx, tx, a.App, "Owner_Account", r.Owner); err != nil {
				return err
			}
			return fmt.Errorf("create room %s: the insert found no account %s that the transaction has", r.ID, r.Owner)
		}
		// The count includes the room just inserted; the quota is checked against the
		// rooms there were before it.
		rooms, err := checkQuota(ctx, tx, a.App, p.RoomQuota, 1)
		if err != nil {
			return err
		}
		if err := s.publish(ctx, tx, a, RoomCreated{EventHead: h, Room: r}); err != nil {
			return err
		}
		// Nobody is in a new room: its NoUsers timer runs from its creation.
		if err := s.startNewRoomTimers(ctx, tx, row, h.Time); err != nil {
			return err
		}
		return s.publishThreshold(ctx, tx, a, h, rooms+1, p.RoomQuota)
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
	r, err := fromRow(row)
	if err != nil {
		return Room{}, err
	}
	return withCounts(ctx, s.store, r)
}

// Statistic is what a room accumulated over its life: the callback's counters plus the
// message count, which destroy_room answers but Live.CallbackAfterDestroyRoom does not carry.
type Statistic struct {
	webhook.Statistic
	TotalMsgCount int64
}

// Destroy dissolves a room and publishes RoomDismissed (Live.CallbackAfterDestroyRoom,
// DestroyByUser); it returns the room's final statistics. Only the owner (or an App admin)
// dissolves a room.
func (s *Service) Destroy(ctx context.Context, a Actor, id string) (Statistic, error) {
	if err := ValidateRoomID(id); err != nil {
		return Statistic{}, err
	}
	var stat Statistic
	defer s.live.lock(liveKey{a.App, id})()
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleOwner); err != nil {
			return err
		}
		stat, err = s.destroyLocked(ctx, tx, a, row, false)
		return err
	})
	return stat, err
}

// destroyLocked dissolves the room row read in tx, with no permission check: it deletes the
// room (and everything in it), takes it out of its battles (leaveBattles) and publishes
// RoomDismissed with BySystem, whose callback is
// Live.CallbackAfterDestroyRoom with EventType DestroyBySystem or DestroyByUser. It returns
// the room's final statistics. Destroy and the automatic dissolution share it; the caller
// holds the room's live lock, and once tx commits no connection is in the room any more.
func (s *Service) destroyLocked(ctx context.Context, tx store.Tx, a Actor, row store.Room, bySystem bool) (Statistic, error) {
	r, err := fromRow(row)
	if err != nil {
		return Statistic{}, err
	}
	// Its battles first: their callbacks and pushes come before the room's dismissal.
	if err := s.leaveBattles(ctx, tx, a, row.RoomID); err != nil {
		return Statistic{}, err
	}
	counters, err := tx.RoomStatsGet(ctx, row.App, row.RoomID)
	if err != nil {
		return Statistic{}, err
	}
	if err := tx.RoomDelete(ctx, row.App, row.RoomID); err != nil {
		return Statistic{}, err
	}
	stat := Statistic{Statistic: webhook.Statistic{TotalViewers: r.ViewCount, TotalGiftsSent: counters.TotalGiftsSent,
		TotalGiftCoins: counters.TotalGiftCoins, TotalUniqueGiftSenders: counters.TotalUniqueGiftSenders,
		TotalLikesReceived: counters.TotalLikesReceived}, TotalMsgCount: counters.TotalMsgCount}
	ev := RoomDismissed{EventHead: s.head(a, row.RoomID), BySystem: bySystem, Room: r, Statistic: stat}
	if err := s.publish(ctx, tx, a, ev); err != nil {
		return Statistic{}, err
	}
	k := liveKey{row.App, row.RoomID}
	tx.AfterCommit(func() { s.live.dropRoom(k) })
	return stat, nil
}

// ChangeOwner transfers a room to newOwner, an imported account, and publishes
// OwnerChanged (Live.CallbackAfterChangeOwner). Naming the current owner again succeeds and
// changes nothing, so nothing is published. Only the owner (or an App admin) transfers a
// room; an App user transfers it only to a user who is in the room (not a robot),
// ErrNotMember otherwise.
func (s *Service) ChangeOwner(ctx context.Context, a Actor, id, newOwner string) error {
	if err := ValidateRoomID(id); err != nil {
		return err
	}
	if newOwner == "" {
		return errcode.Invalid("NewOwner_Account", "is required")
	}
	// The change writes only this room's rows and the outbox, and reads RoomOwnerChange
	// first: a store may send that read ahead with its group's first round trip.
	footprint := store.WithFootprint(ctx, store.Footprint{App: a.App, RoomID: id, First: store.ReadOwnerChange, User: newOwner})
	return s.store.Tx(footprint, func(tx store.Tx) error {
		// One statement reads the owner and the seat settings in Info (all of the room this
		// needs), what newOwner is to the app and the room, and the seats; the checks below
		// run on it in the order they always had, and the writes it proves would change
		// nothing are not made.
		oc, err := tx.RoomOwnerChange(ctx, a.App, id, newOwner)
		if err != nil {
			return roomLookupErr(id, err)
		}
		row := oc.Room
		if err := authorize(ctx, tx, a, row, RoleOwner); err != nil {
			return err
		}
		if !oc.Account {
			return accountNotImported("NewOwner_Account", newOwner)
		}
		if row.Owner == newOwner {
			return nil
		}
		if !a.AppAdmin && (!oc.Member || oc.Robot) {
			return fmt.Errorf("%w: %s is not in room %s", ErrNotMember, newOwner, id)
		}
		// The read above found the room in this transaction, so the write need not check
		// that it changed a row (PostgreSQL then queues it instead of a round trip).
		if err := tx.RoomSetOwnerUnchecked(ctx, a.App, id, newOwner); err != nil {
			return err
		}
		// A user has one role: a room admin who becomes the owner is no longer an admin
		// (so it does not keep an admin's powers once it hands the room on). The owner
		// change's callback and push say it all; no admin callback is sent for this.
		if oc.Admin {
			if _, err := tx.AdminRemove(ctx, a.App, id, newOwner); err != nil {
				return err
			}
		}
		// The owner timers were about the previous owner being away.
		if oc.OwnerTimers {
			for _, kind := range []store.RoomTimerKind{store.TimerOwnerLeave, store.TimerOwnerOffline} {
				if err := tx.RoomTimerDelete(ctx, a.App, id, kind); err != nil {
					return err
				}
			}
		}
		if err := s.publish(ctx, tx, a, OwnerChanged{EventHead: s.head(a, id), From: row.Owner, To: newOwner}); err != nil {
			return err
		}
		oldOwner := row.Owner
		oc.Room.Owner = newOwner
		return s.ownerSeatChanged(ctx, tx, a, oldOwner, &oc)
	})
}

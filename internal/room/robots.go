package room

import (
	"context"
	"errors"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// MaxRobots is how many robots a room holds at most: three, as add_robot's page says
// (https://trtc.io/document/69079).
const MaxRobots = 3

// AddRobots puts imported accounts into a room as robots (simulated audience). Adding a
// robot that is already one of the room's robots changes nothing; a banned account is
// refused (ErrBanned). A robot is not a viewer:
// it does not count in ViewCount, and no member-state callback is sent, since robots do not
// enter through the SDK. A room holds at most MaxRobots robots; more is a 100002, and a
// rejected call changes nothing. Only App admins manage robots.
func (s *Service) AddRobots(ctx context.Context, a Actor, id string, robots []string) error {
	if err := ValidateRoomID(id); err != nil {
		return err
	}
	robots, err := accountList("RobotList_Account", robots, 0)
	if err != nil {
		return err
	}
	if len(robots) > MaxRobots {
		return errcode.Invalid("", "a room holds at most %d robots, %d named", MaxRobots, len(robots))
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleAppAdmin); err != nil {
			return err
		}
		now := s.now()
		for _, u := range robots {
			if err := requireAccount(ctx, tx, a.App, "RobotList_Account", u); err != nil {
				return err
			}
			// A banned account may not enter the room, not even as a robot (100006).
			if err := checkNotBanned(ctx, tx, a.App, id, u, now); err != nil {
				return err
			}
			m, err := tx.MemberGet(ctx, a.App, id, u)
			switch {
			case err == nil && m.IsRobot:
				continue
			case err == nil:
				return errcode.Invalid("", "%s is in the room as a member, not a robot", u)
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			if _, err := tx.MemberAdd(ctx, store.Member{App: a.App, RoomID: id, UserID: u, IsRobot: true, JoinedAt: now}); err != nil {
				return err
			}
		}
		n, err := tx.MemberCount(ctx, a.App, id, store.MembersRobots)
		if err != nil {
			return err
		}
		if n > MaxRobots {
			return errcode.Invalid("", "a room holds at most %d robots, it would hold %d", MaxRobots, n)
		}
		return nil
	})
}

// Robots returns the robots of a room in the order they were added.
func (s *Service) Robots(ctx context.Context, app uint64, id string) ([]string, error) {
	if err := ValidateRoomID(id); err != nil {
		return nil, err
	}
	if _, err := requireRoom(ctx, s.store, app, id); err != nil {
		return nil, err
	}
	ms, err := s.store.MemberList(ctx, store.MemberListParams{App: app, RoomID: id, Kind: store.MembersRobots, Limit: MaxRobots * 4})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out, nil
}

// DelRobots takes robots out of a room. Accounts must be imported (70107, as for
// add_robot); accounts that are not robots of the room are ignored, so deleting twice
// succeeds. Only App admins manage robots.
func (s *Service) DelRobots(ctx context.Context, a Actor, id string, robots []string) error {
	if err := ValidateRoomID(id); err != nil {
		return err
	}
	robots, err := accountList("RobotList_Account", robots, 0)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleAppAdmin); err != nil {
			return err
		}
		var gone []string
		for _, u := range robots {
			if err := requireAccount(ctx, tx, a.App, "RobotList_Account", u); err != nil {
				return err
			}
			m, err := tx.MemberGet(ctx, a.App, id, u)
			if errors.Is(err, store.ErrNotFound) || (err == nil && !m.IsRobot) {
				continue
			}
			if err != nil {
				return err
			}
			if err := tx.MemberRemove(ctx, a.App, id, u); err != nil {
				return err
			}
			gone = append(gone, u)
		}
		return s.leaveSeats(ctx, tx, a, row, gone)
	})
}

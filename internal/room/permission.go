package room

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// Role is what a user may do in a room. Roles are ordered: the App admin is above the
// owner, the owner above room admins, room admins above ordinary members.
type Role int

// The roles, lowest first.
const (
	RoleMember   Role = iota + 1 // an ordinary user (TUIRole generalUser)
	RoleAdmin                    // a room admin (TUIRole administrator)
	RoleOwner                    // the room's owner (TUIRole roomOwner)
	RoleAppAdmin                 // an App admin: every REST call, and App admins on the client
)

// String returns TUIRole's name of r, as the client API spells roles.
func (r Role) String() string {
	switch r {
	case RoleOwner:
		return "roomOwner"
	case RoleAdmin:
		return "administrator"
	case RoleAppAdmin:
		return "appAdmin"
	default:
		return "generalUser"
	}
}

// ErrNoPermission: the actor's role in the room does not allow the operation (100006).
var ErrNoPermission = errcode.New(errcode.NoPermission, "no permission")

// roleOf returns the actor's role in the room row.
func roleOf(ctx context.Context, r store.Reader, a Actor, row store.Room) (Role, error) {
	if a.AppAdmin {
		return RoleAppAdmin, nil
	}
	return userRole(ctx, r, row, a.Operator)
}

// userRole returns the role of a user (not an App admin) in the room row.
func userRole(ctx context.Context, r store.Reader, row store.Room, user string) (Role, error) {
	if user == row.Owner {
		return RoleOwner, nil
	}
	admin, err := r.AdminIs(ctx, row.App, row.RoomID, user)
	if err != nil {
		return 0, err
	}
	if admin {
		return RoleAdmin, nil
	}
	return RoleMember, nil
}

// authorize returns ErrNoPermission unless the actor's role in the room is at least need.
func authorize(ctx context.Context, r store.Reader, a Actor, row store.Room, need Role) error {
	role, err := roleOf(ctx, r, a, row)
	if err != nil {
		return err
	}
	if role < need {
		return fmt.Errorf("%w: %s is %s in room %s, this needs %s", ErrNoPermission, a.Operator, role, row.RoomID, need)
	}
	return nil
}

// mayActOn checks that the actor, whose role must be at least need, may act on target: nobody
// acts on the owner (the App admin included: ownership moves with change_room_owner), nobody
// acts on itself this way, and a room admin acts only on ordinary members.
func (s *Service) mayActOn(ctx context.Context, r store.Reader, a Actor, row store.Room, target string, need Role) error {
	role, err := roleOf(ctx, r, a, row)
	if err != nil {
		return err
	}
	if role < need {
		return fmt.Errorf("%w: %s is %s in room %s, this needs %s", ErrNoPermission, a.Operator, role, row.RoomID, need)
	}
	if target == row.Owner {
		return fmt.Errorf("%w: nobody can do this to the room owner %s", ErrNoPermission, target)
	}
	if target == a.Operator {
		return fmt.Errorf("%w: %s cannot do this to itself", ErrNoPermission, target)
	}
	targetRole, err := userRole(ctx, r, row, target)
	if err != nil {
		return err
	}
	if targetRole >= role {
		return fmt.Errorf("%w: %s (%s) cannot act on %s (%s)", ErrNoPermission, a.Operator, role, target, targetRole)
	}
	return nil
}

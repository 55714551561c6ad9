package storetest

import (
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of a room's admins (store/admins.go).

func testAdmins(t *testing.T, h *Harness) {
	s := twoRooms(t, h)

	// Admins: in the order added; adding again and removing a non-admin change nothing.
	var flags []bool
	mustTx(t, s, func(tx store.Tx) error {
		for _, u := range []string{"bob", "alice", "bob"} {
			created, err := tx.AdminAdd(ctx(t), app, "r1", u, at(1))
			if err != nil {
				return err
			}
			flags = append(flags, created)
		}
		for _, u := range []string{"carol", "bob"} {
			removed, err := tx.AdminRemove(ctx(t), app, "r1", u)
			if err != nil {
				return err
			}
			flags = append(flags, removed)
		}
		_, err := tx.AdminAdd(ctx(t), app, "r1", "bob", at(2))
		return err
	})
	if !slices.Equal(flags, []bool{true, true, false, false, true}) {
		t.Errorf("AdminAdd/AdminRemove reported %v, want [true true false false true]", flags)
	}
	admins, err := s.AdminList(ctx(t), app, "r1")
	wantErr(t, "AdminList", err, nil)
	if !slices.Equal(admins, []string{"alice", "bob"}) {
		t.Errorf("AdminList = %v, want [alice bob] (bob added again goes last)", admins)
	}
	if is, err := s.AdminIs(ctx(t), app, "r1", "alice"); err != nil || !is {
		t.Errorf("AdminIs(alice) = %v, %v", is, err)
	}
	for _, c := range []struct {
		a          uint64
		room, user string
	}{{app, "r2", "alice"}, {other, "r1", "alice"}, {app, "r1", "carol"}} {
		if is, err := s.AdminIs(ctx(t), c.a, c.room, c.user); err != nil || is {
			t.Errorf("AdminIs(%d, %s, %s) = %v, %v; want false", c.a, c.room, c.user, is, err)
		}
	}
	if l, err := s.AdminList(ctx(t), app, "r2"); err != nil || l == nil || len(l) != 0 {
		t.Errorf("AdminList of a room without admins = %#v, %v; want an empty non-nil list", l, err)
	}

	// Deleting a room deletes its admins, and only its.
	recreateR1(t, s)
	if l, err := s.AdminList(ctx(t), app, "r1"); err != nil || len(l) != 0 {
		t.Errorf("admins survived the room: %v (%v)", l, err)
	}
	if l, err := s.AdminList(ctx(t), app, "r2"); err != nil || len(l) != 0 {
		t.Errorf("r2 has admins %v (%v)", l, err)
	}
}

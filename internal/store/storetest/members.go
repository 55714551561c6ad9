package storetest

import (
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the room members, robots included (store/members.go).

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}

func testMembers(t *testing.T, h *Harness) {
	s := twoRooms(t, h)
	add := func(room, user string, robot bool, sec int) bool {
		t.Helper()
		var created bool
		mustTx(t, s, func(tx store.Tx) error {
			var err error
			created, err = tx.MemberAdd(ctx(t), store.Member{App: app, RoomID: room, UserID: user, IsRobot: robot, JoinedAt: at(sec)})
			return err
		})
		return created
	}
	if !add("r1", "carol", false, 2) || !add("r1", "bob", true, 1) || !add("r1", "alice", false, 2) || !add("r1", "dave", true, 3) {
		t.Fatal("MemberAdd of new members reported created=false")
	}
	add("r2", "alice", false, 0)
	// Adding again changes nothing: join time and robot flag stay.
	if add("r1", "bob", false, 9) {
		t.Error("MemberAdd of an existing member reported created=true")
	}
	got, err := s.MemberGet(ctx(t), app, "r1", "bob")
	wantErr(t, "MemberGet", err, nil)
	equal(t, "bob after a second add", got, store.Member{App: app, RoomID: "r1", UserID: "bob", IsRobot: true, JoinedAt: at(1)},
		func(m store.Member) store.Member { m.JoinedAt = utc(m.JoinedAt); return m })
	// The node a member was added through is kept, and a second add keeps the first one's.
	mustTx(t, s, func(tx store.Tx) error {
		if _, err := tx.MemberAdd(ctx(t), store.Member{App: app, RoomID: "r2", UserID: "erin", JoinedAt: at(4), Node: "node-a"}); err != nil {
			return err
		}
		_, err := tx.MemberAdd(ctx(t), store.Member{App: app, RoomID: "r2", UserID: "erin", JoinedAt: at(5), Node: "node-b"})
		return err
	})
	got, err = s.MemberGet(ctx(t), app, "r2", "erin")
	wantErr(t, "MemberGet", err, nil)
	equal(t, "erin, added through node-a then node-b", got, store.Member{App: app, RoomID: "r2", UserID: "erin", JoinedAt: at(4), Node: "node-a"},
		func(m store.Member) store.Member { m.JoinedAt = utc(m.JoinedAt); return m })
	if ms, err := s.MemberList(ctx(t), store.MemberListParams{App: app, RoomID: "r2", Kind: store.MembersPeople}); err != nil || len(ms) != 2 || ms[0].Node != "" || ms[1].Node != "node-a" {
		t.Errorf("MemberList(r2) = %+v, %v; want alice (node \"\") then erin (node-a)", ms, err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.MemberRemove(ctx(t), app, "r2", "erin") })
	_, err = s.MemberGet(ctx(t), app, "r1", "nobody")
	wantErr(t, "MemberGet of a non-member", err, store.ErrNotFound)
	_, err = s.MemberGet(ctx(t), other, "r1", "bob")
	wantErr(t, "MemberGet in another app", err, store.ErrNotFound)

	list := func(kind store.MemberKind, limit int, after *store.Member) []string {
		t.Helper()
		ms, err := s.MemberList(ctx(t), store.MemberListParams{App: app, RoomID: "r1", Kind: kind, Limit: limit, After: after})
		if err != nil {
			t.Fatalf("MemberList: %v", err)
		}
		return memberIDs(ms)
	}
	// Join time, then user id.
	for _, c := range []struct {
		kind store.MemberKind
		want []string
	}{
		{store.MembersAll, []string{"bob", "alice", "carol", "dave"}},
		{store.MembersPeople, []string{"alice", "carol"}},
		{store.MembersRobots, []string{"bob", "dave"}},
	} {
		if g := list(c.kind, 0, nil); !slices.Equal(g, c.want) {
			t.Errorf("MemberList(kind %d) = %v, want %v", c.kind, g, c.want)
		}
		n, err := s.MemberCount(ctx(t), app, "r1", c.kind)
		wantErr(t, "MemberCount", err, nil)
		if n != len(c.want) {
			t.Errorf("MemberCount(kind %d) = %d, want %d", c.kind, n, len(c.want))
		}
	}
	if all, people, err := s.MemberCounts(ctx(t), app, "r1"); err != nil || all != 4 || people != 2 {
		t.Errorf("MemberCounts = %d, %d, %v; want 4, 2", all, people, err)
	}
	// Paging with After.
	first, err := s.MemberList(ctx(t), store.MemberListParams{App: app, RoomID: "r1", Limit: 2})
	if err != nil || len(first) != 2 {
		t.Fatalf("MemberList limit 2 = %v, %v", memberIDs(first), err)
	}
	if g := list(store.MembersAll, 2, &first[1]); !slices.Equal(g, []string{"carol", "dave"}) {
		t.Errorf("second page = %v", g)
	}

	mustTx(t, s, func(tx store.Tx) error { return tx.MemberRemove(ctx(t), app, "r1", "alice") })
	err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.MemberRemove(ctx(t), app, "r1", "alice") })
	wantErr(t, "MemberRemove of a non-member", err, store.ErrNotFound)
	if g := list(store.MembersAll, 0, nil); !slices.Equal(g, []string{"bob", "carol", "dave"}) {
		t.Errorf("after remove = %v", g)
	}
	// Deleting a room deletes its members, and only its.
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	if n, err := s.MemberCount(ctx(t), app, "r1", store.MembersAll); err != nil || n != 0 {
		t.Errorf("%d members left in a deleted room (%v)", n, err)
	}
	if all, people, err := s.MemberCounts(ctx(t), app, "r1"); err != nil || all != 0 || people != 0 {
		t.Errorf("MemberCounts of a deleted room = %d, %d, %v", all, people, err)
	}
	if n, err := s.MemberCount(ctx(t), app, "r2", store.MembersAll); err != nil || n != 1 {
		t.Errorf("members of another room: %d (%v), want 1", n, err)
	}
}

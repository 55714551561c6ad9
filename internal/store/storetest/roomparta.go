package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the room members, room statistics and room metadata methods
// (store/members.go, store/roomextra.go), and of RoomList's ascending order.

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}

func testMembers(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))
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
	// Paging with After.
	first, _ := s.MemberList(ctx(t), store.MemberListParams{App: app, RoomID: "r1", Limit: 2})
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
	if n, _ := s.MemberCount(ctx(t), app, "r1", store.MembersAll); n != 0 {
		t.Errorf("%d members left in a deleted room", n)
	}
	if n, _ := s.MemberCount(ctx(t), app, "r2", store.MembersAll); n != 1 {
		t.Errorf("members of another room: %d, want 1", n)
	}
}

func testRoomStats(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 4, true), newRoom(app, "r2", "u", at(0), 0, true))
	got, err := s.RoomStatsGet(ctx(t), app, "r1")
	wantErr(t, "RoomStatsGet", err, nil)
	if got != (store.RoomStats{TotalViewers: 4}) {
		t.Errorf("fresh stats = %+v, want only TotalViewers 4 (the view count)", got)
	}
	_, err = s.RoomStatsGet(ctx(t), app, "nope")
	wantErr(t, "RoomStatsGet of a missing room", err, store.ErrNotFound)

	mustTx(t, s, func(tx store.Tx) error {
		for f, d := range map[store.StatField]int64{store.StatViewers: 2, store.StatGiftsSent: 3, store.StatGiftCoins: 500,
			store.StatUniqueGiftSenders: 1, store.StatLikesReceived: 7, store.StatMsgCount: 11} {
			if err := tx.RoomStatsIncr(ctx(t), app, "r1", f, d); err != nil {
				return err
			}
		}
		return tx.RoomStatsIncr(ctx(t), app, "r1", store.StatMsgCount, 1)
	})
	got, _ = s.RoomStatsGet(ctx(t), app, "r1")
	want := store.RoomStats{TotalViewers: 6, TotalGiftsSent: 3, TotalGiftCoins: 500, TotalUniqueGiftSenders: 1, TotalLikesReceived: 7, TotalMsgCount: 12}
	if got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	// StatViewers is the room's ViewCount, which orders RoomList.
	if rm, _ := s.RoomGet(ctx(t), app, "r1"); rm.ViewCount != 6 {
		t.Errorf("ViewCount = %d, want 6", rm.ViewCount)
	}
	if g, _ := s.RoomStatsGet(ctx(t), app, "r2"); g != (store.RoomStats{}) {
		t.Errorf("another room's stats changed: %+v", g)
	}
	for _, f := range []store.StatField{store.StatViewers, store.StatMsgCount} {
		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomStatsIncr(ctx(t), app, "nope", f, 1) })
		wantErr(t, fmt.Sprintf("RoomStatsIncr(%d) of a missing room", f), err, store.ErrNotFound)
	}
	// Deleted with the room: a new room of the same id starts at zero.
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	insertRooms(t, s, newRoom(app, "r1", "u", at(5), 0, true))
	if g, _ := s.RoomStatsGet(ctx(t), app, "r1"); g != (store.RoomStats{}) {
		t.Errorf("stats of a re-created room = %+v, want zero", g)
	}
}

func testMetadata(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))
	put := func(room string, kv ...string) {
		t.Helper()
		var items []store.Metadata
		for i := 0; i < len(kv); i += 2 {
			items = append(items, store.Metadata{Key: kv[i], Value: kv[i+1]})
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.MetadataPut(ctx(t), app, room, items) })
	}
	get := func(room string, keys ...string) []store.Metadata {
		t.Helper()
		ms, err := s.MetadataList(ctx(t), app, room, keys)
		if err != nil {
			t.Fatalf("MetadataList: %v", err)
		}
		return ms
	}
	if g := get("r1"); g == nil || len(g) != 0 {
		t.Errorf("MetadataList of a room without metadata = %#v, want an empty non-nil slice", g)
	}
	put("r1", "b", "1", "a", "2")
	put("r1", "c", "3", "b", "changed")
	put("r2", "a", "other room")
	want := []store.Metadata{{Key: "b", Value: "changed"}, {Key: "a", Value: "2"}, {Key: "c", Value: "3"}}
	if g := get("r1"); !slices.Equal(g, want) {
		t.Errorf("MetadataList = %v, want %v (first-set order, values updated in place)", g, want)
	}
	if g := get("r1", "c", "zz", "b"); !slices.Equal(g, []store.Metadata{{Key: "b", Value: "changed"}, {Key: "c", Value: "3"}}) {
		t.Errorf("MetadataList(c, zz, b) = %v", g)
	}
	var n int
	mustTx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.MetadataDelete(ctx(t), app, "r1", []string{"a", "zz"})
		return err
	})
	if n != 1 {
		t.Errorf("MetadataDelete reported %d deleted, want 1", n)
	}
	// A key set after a delete goes to the end.
	put("r1", "a", "again")
	if g := get("r1"); !slices.Equal(g, []store.Metadata{{Key: "b", Value: "changed"}, {Key: "c", Value: "3"}, {Key: "a", Value: "again"}}) {
		t.Errorf("after delete and re-set: %v", g)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	if g := get("r1"); len(g) != 0 {
		t.Errorf("metadata of a deleted room: %v", g)
	}
	if g := get("r2"); len(g) != 1 {
		t.Errorf("metadata of another room: %v", g)
	}
}

func testRoomListAscending(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s,
		newRoom(app, "r-a", "u", at(1), 5, true),
		newRoom(app, "r-b", "u", at(3), 9, true),
		newRoom(app, "r-c", "u", at(1), 5, true),
		newRoom(app, "r-d", "u", at(0), 5, true),
		newRoom(app, "r-e", "u", at(2), 0, false),
		newRoom(app, "r-h", "u", at(2), 0, true),
	)
	// The exact reverse of the descending order.
	want := []string{"r-h", "r-c", "r-a", "r-d", "r-b"}
	var got []string
	var after *store.Room
	for range 10 {
		page, err := s.RoomList(ctx(t), store.RoomListParams{App: app, OnlyPublic: true, Limit: 2, After: after, Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			got = append(got, r.RoomID)
		}
		last := page[len(page)-1]
		after = &last
	}
	if !slices.Equal(got, want) {
		t.Errorf("ascending pages = %v, want %v", got, want)
	}
}

package storetest

import (
	"fmt"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of a room's statistics counters (store/stats.go).

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
	got, err = s.RoomStatsGet(ctx(t), app, "r1")
	wantErr(t, "RoomStatsGet", err, nil)
	want := store.RoomStats{TotalViewers: 6, TotalGiftsSent: 3, TotalGiftCoins: 500, TotalUniqueGiftSenders: 1, TotalLikesReceived: 7, TotalMsgCount: 12}
	if got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	// StatViewers is the room's ViewCount, which orders RoomList.
	if rm, err := s.RoomGet(ctx(t), app, "r1"); err != nil || rm.ViewCount != 6 {
		t.Errorf("ViewCount = %d (%v), want 6", rm.ViewCount, err)
	}
	if g, err := s.RoomStatsGet(ctx(t), app, "r2"); err != nil || g != (store.RoomStats{}) {
		t.Errorf("another room's stats changed: %+v (%v)", g, err)
	}
	for _, f := range []store.StatField{store.StatViewers, store.StatMsgCount} {
		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.RoomStatsIncr(ctx(t), app, "nope", f, 1) })
		wantErr(t, fmt.Sprintf("RoomStatsIncr(%d) of a missing room", f), err, store.ErrNotFound)
	}
	// Deleted with the room: a new room of the same id starts at zero.
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	insertRooms(t, s, newRoom(app, "r1", "u", at(5), 0, true))
	if g, err := s.RoomStatsGet(ctx(t), app, "r1"); err != nil || g != (store.RoomStats{}) {
		t.Errorf("stats of a re-created room = %+v (%v), want zero", g, err)
	}
}

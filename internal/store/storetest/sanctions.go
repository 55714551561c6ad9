package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of a room's sanctions: mutes and bans (store/sanctions.go).

func testSanctions(t *testing.T, h *Harness) {
	s := twoRooms(t, h)

	// Mutes end at Until (exclusive); MutePut replaces.
	mustTx(t, s, func(tx store.Tx) error {
		for _, m := range []store.Mute{
			{App: app, RoomID: "r1", UserID: "zed", Until: at(100), CreatedAt: at(0)},
			{App: app, RoomID: "r1", UserID: "amy", Until: at(10), CreatedAt: at(0)},
			{App: app, RoomID: "r1", UserID: "amy", Until: at(50), CreatedAt: at(1)},
			{App: other, RoomID: "r1", UserID: "amy", Until: at(1000), CreatedAt: at(0)},
		} {
			if err := tx.MutePut(ctx(t), m); err != nil {
				return err
			}
		}
		return nil
	})
	mutes := func(now time.Time) []string {
		t.Helper()
		ms, err := s.MuteList(ctx(t), app, "r1", now)
		wantErr(t, "MuteList", err, nil)
		var out []string
		for _, m := range ms {
			out = append(out, m.UserID+"@"+utc(m.Until).Format(time.TimeOnly))
		}
		return out
	}
	t50, t100 := utc(at(50)).Format(time.TimeOnly), utc(at(100)).Format(time.TimeOnly)
	if got := mutes(at(49)); !slices.Equal(got, []string{"amy@" + t50, "zed@" + t100}) {
		t.Errorf("MuteList at 49 s = %v", got)
	}
	if got := mutes(at(50)); !slices.Equal(got, []string{"zed@" + t100}) {
		t.Errorf("MuteList at 50 s = %v (a mute ends at Until)", got)
	}
	_, err := s.MuteGet(ctx(t), app, "r1", "amy", at(50))
	wantErr(t, "MuteGet of an ended mute", err, store.ErrNotFound)
	m, err := s.MuteGet(ctx(t), app, "r1", "amy", at(49).Add(999*time.Millisecond))
	wantErr(t, "MuteGet", err, nil)
	if !m.Until.Equal(at(50)) || !m.CreatedAt.Equal(at(1)) {
		t.Errorf("MuteGet = %+v", m)
	}
	var removed []bool
	mustTx(t, s, func(tx store.Tx) error {
		for _, u := range []string{"zed", "zed"} {
			r, err := tx.MuteDelete(ctx(t), app, "r1", u)
			if err != nil {
				return err
			}
			removed = append(removed, r)
		}
		return nil
	})
	if !slices.Equal(removed, []bool{true, false}) {
		t.Errorf("MuteDelete reported %v", removed)
	}

	// Bans: active until Until; listed by ban time, then user id, with offset and limit.
	mustTx(t, s, func(tx store.Tx) error {
		for _, b := range []store.Ban{
			{App: app, RoomID: "r1", UserID: "b3", Until: at(30), Reason: "x", CreatedAt: at(2)},
			{App: app, RoomID: "r1", UserID: "b2", Until: at(100), CreatedAt: at(1)},
			{App: app, RoomID: "r1", UserID: "b1", Until: at(100), Reason: "why", CreatedAt: at(1)},
			{App: app, RoomID: "r1", UserID: "b0", Until: at(20), CreatedAt: at(3)},
			{App: app, RoomID: "r1", UserID: "b0", Until: at(200), Reason: "again", CreatedAt: at(4)},
			{App: app, RoomID: "r2", UserID: "b9", Until: at(100), CreatedAt: at(0)},
		} {
			if err := tx.BanPut(ctx(t), b); err != nil {
				return err
			}
		}
		return nil
	})
	bans := func(now time.Time, offset, limit int) []string {
		t.Helper()
		bs, err := s.BanList(ctx(t), store.BanListParams{App: app, RoomID: "r1", Now: now, Offset: offset, Limit: limit})
		wantErr(t, "BanList", err, nil)
		var out []string
		for _, b := range bs {
			out = append(out, b.UserID+":"+b.Reason)
		}
		return out
	}
	if got := bans(at(5), 0, 0); !slices.Equal(got, []string{"b1:why", "b2:", "b3:x", "b0:again"}) {
		t.Errorf("BanList = %v", got)
	}
	if got := bans(at(5), 1, 2); !slices.Equal(got, []string{"b2:", "b3:x"}) {
		t.Errorf("BanList offset 1 limit 2 = %v", got)
	}
	if got := bans(at(30), 0, 10); !slices.Equal(got, []string{"b1:why", "b2:", "b0:again"}) {
		t.Errorf("BanList at 30 s = %v (b3's ban ended)", got)
	}
	for _, c := range []struct {
		user string
		now  time.Time
		want bool
	}{{"b3", at(29), true}, {"b3", at(30), false}, {"b0", at(150), true}, {"nobody", at(0), false}, {"b9", at(0), false}} {
		got, err := s.BanActive(ctx(t), app, "r1", c.user, c.now)
		if err != nil || got != c.want {
			t.Errorf("BanActive(%s, %v) = %v, %v; want %v", c.user, c.now, got, err, c.want)
		}
	}
	mustTx(t, s, func(tx store.Tx) error {
		if r, err := tx.BanDelete(ctx(t), app, "r1", "b1"); err != nil || !r {
			return errors.New("BanDelete of a ban did not report it removed")
		}
		if r, err := tx.BanDelete(ctx(t), app, "r1", "b1"); err != nil || r {
			return errors.New("BanDelete of no ban reported it removed")
		}
		return nil
	})

	// Deleting a room deletes its mutes and bans, and only its.
	recreateR1(t, s)
	if got := bans(at(0), 0, 0); len(got) != 0 {
		t.Errorf("bans survived the room: %v", got)
	}
	if got := mutes(at(0)); len(got) != 0 {
		t.Errorf("mutes survived the room: %v", got)
	}
	if got, err := s.BanActive(ctx(t), app, "r2", "b9", at(0)); err != nil || !got {
		t.Errorf("deleting r1 touched r2's ban (BanActive = %v, %v)", got, err)
	}
}

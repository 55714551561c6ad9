package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the admin, mute, ban, message-history and recorded-event methods
// (store/people.go).

func testPeople(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))

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
	if is, _ := s.AdminIs(ctx(t), app, "r1", "alice"); !is {
		t.Error("AdminIs(alice) = false")
	}
	for _, c := range []struct {
		a          uint64
		room, user string
	}{{app, "r2", "alice"}, {other, "r1", "alice"}, {app, "r1", "carol"}} {
		if is, _ := s.AdminIs(ctx(t), c.a, c.room, c.user); is {
			t.Errorf("AdminIs(%d, %s, %s) = true", c.a, c.room, c.user)
		}
	}
	if l, err := s.AdminList(ctx(t), app, "r2"); err != nil || l == nil || len(l) != 0 {
		t.Errorf("AdminList of a room without admins = %#v, %v; want an empty non-nil list", l, err)
	}

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
	_, err = s.MuteGet(ctx(t), app, "r1", "amy", at(50))
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

	// Message numbers per room, never handed out twice; insert, conflict, list.
	var seqs []int64
	mustTx(t, s, func(tx store.Tx) error {
		for _, room := range []string{"r1", "r1", "r2", "r1"} {
			n, err := tx.MessageNextSeq(ctx(t), app, room)
			if err != nil {
				return err
			}
			seqs = append(seqs, n)
		}
		return nil
	})
	if !slices.Equal(seqs, []int64{1, 2, 1, 3}) {
		t.Errorf("MessageNextSeq = %v, want [1 2 1 3]", seqs)
	}
	msg := func(seq int64, text string) store.Message {
		return store.Message{App: app, RoomID: "r1", Seq: seq, Sender: "u", Time: at(int(seq)), Body: []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + text + `"}}]`),
			CloudCustomData: "{}", Random: 4026038328, MsgID: "1-2-3"}
	}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.MessageInsert(ctx(t), msg(3, "c")); err != nil {
			return err
		}
		return tx.MessageInsert(ctx(t), msg(1, "a"))
	})
	err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.MessageInsert(ctx(t), msg(1, "dup")) })
	wantErr(t, "MessageInsert of a taken number", err, store.ErrConflict)
	hist, err := s.MessageList(ctx(t), store.MessageListParams{App: app, RoomID: "r1"})
	wantErr(t, "MessageList", err, nil)
	if len(hist) != 2 || hist[0].Seq != 1 || hist[1].Seq != 3 {
		t.Fatalf("MessageList = %+v", hist)
	}
	equal(t, "stored message", hist[1], msg(3, "c"), func(m store.Message) store.Message { m.Time = utc(m.Time); return m })
	if after, _ := s.MessageList(ctx(t), store.MessageListParams{App: app, RoomID: "r1", AfterSeq: 1, Limit: 1}); len(after) != 1 || after[0].Seq != 3 {
		t.Errorf("MessageList after 1 = %+v", after)
	}

	// Deleting a room deletes its admins, mutes, bans and history; its numbers start again.
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true))
	if l, _ := s.AdminList(ctx(t), app, "r1"); len(l) != 0 {
		t.Errorf("admins survived the room: %v", l)
	}
	if got := bans(at(0), 0, 0); len(got) != 0 {
		t.Errorf("bans survived the room: %v", got)
	}
	if got := mutes(at(0)); len(got) != 0 {
		t.Errorf("mutes survived the room: %v", got)
	}
	if h, _ := s.MessageList(ctx(t), store.MessageListParams{App: app, RoomID: "r1"}); len(h) != 0 {
		t.Errorf("history survived the room: %+v", h)
	}
	mustTx(t, s, func(tx store.Tx) error {
		n, err := tx.MessageNextSeq(ctx(t), app, "r1")
		if err == nil && n != 1 {
			return errors.New("the numbers of a recreated room do not start at 1")
		}
		return err
	})
	if l, _ := s.AdminList(ctx(t), app, "r2"); len(l) != 0 {
		t.Errorf("r2 has admins %v", l)
	}
	if got, _ := s.BanActive(ctx(t), app, "r2", "b9", at(0)); !got {
		t.Error("deleting r1 touched r2's ban")
	}
}

func testEventInsertRecorded(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	ev := store.Event{App: app, RoomID: "r1", Command: "Group.CallbackBeforeSendMsg", Body: []byte(`{}`), ClientIP: "127.0.0.1",
		Platform: "RESTAPI", CreatedAt: at(1), NextAttemptAt: at(1), State: store.EventDead, LastError: "timeout"}
	att := store.Attempt{N: 1, StartedAt: at(1), Duration: 2 * time.Second, URL: "http://x", Error: "timeout"}
	mustTx(t, s, func(tx store.Tx) error { return tx.EventInsertRecorded(ctx(t), &ev, &att) })
	if ev.ID == 0 || att.EventID != ev.ID || ev.Attempts != 1 {
		t.Fatalf("ids not set: event %d attempt of %d, Attempts %d", ev.ID, att.EventID, ev.Attempts)
	}
	got, err := s.EventGet(ctx(t), ev.ID)
	wantErr(t, "EventGet", err, nil)
	equal(t, "recorded event", got, ev, normEvent)
	atts, err := s.AttemptList(ctx(t), ev.ID)
	wantErr(t, "AttemptList", err, nil)
	if len(atts) != 1 {
		t.Fatalf("%d attempts", len(atts))
	}
	equal(t, "recorded attempt", atts[0], att, normAttempt)
	und, err := s.EventListUndelivered(ctx(t), store.EventListParams{Limit: 10})
	wantErr(t, "EventListUndelivered", err, nil)
	if len(und) != 0 {
		t.Errorf("a recorded event is undelivered: %+v", und)
	}
	for _, st := range []store.EventState{store.EventPending, store.EventRetrying} {
		e := ev
		e.State = st
		a := att
		if err := s.Tx(ctx(t), func(tx store.Tx) error { return tx.EventInsertRecorded(ctx(t), &e, &a) }); err == nil {
			t.Errorf("EventInsertRecorded accepted state %s", st)
		}
	}
}

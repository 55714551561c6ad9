package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of the battle and mix stream methods (store/battles.go): a battle and its
// rooms round-trip, updates replace status, times, states and scores, BattleOfRoom finds
// only a battle that has not ended and that the room joined, BattleListOfRoom those it is
// invited to or joined, BattleListDue is earliest
// first across apps, battles survive the deletion of their rooms while a room's mix stream
// configuration goes with it.

func newBattle(a uint64, id, from string, status store.BattleStatus, due time.Time) store.Battle {
	return store.Battle{App: a, ID: id, FromRoomID: from, Operator: "admin", Duration: 60 * time.Second, Timeout: 10 * time.Second,
		NeedResponse: true, ExtensionInfo: "ext", Status: status, CreatedAt: at(0), DueAt: due}
}

func battleRooms(a uint64, id string, states map[string]store.BattleRoomState, order ...string) []store.BattleRoom {
	out := make([]store.BattleRoom, len(order))
	for i, r := range order {
		out[i] = store.BattleRoom{App: a, BattleID: id, RoomID: r, Owner: "owner-" + r, Position: i, State: states[r]}
	}
	return out
}

func testBattles(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	insertRooms(t, s, newRoom(app, "r1", "u", at(0), 0, true), newRoom(app, "r2", "u", at(0), 0, true))
	joined, invited := store.BattleRoomJoined, store.BattleRoomInvited
	b1 := newBattle(app, "b1", "r1", store.BattleRequested, at(10))
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.BattleInsert(ctx(t), b1, battleRooms(app, "b1", map[string]store.BattleRoomState{"r1": joined, "r2": invited, "r3": invited}, "r1", "r3", "r2")); err != nil {
			return err
		}
		if err := tx.BattleInsert(ctx(t), newBattle(other, "b1", "r1", store.BattleRunning, at(5)), nil); err != nil {
			return err
		}
		return tx.BattleInsert(ctx(t), newBattle(app, "b2", "r9", store.BattleEnded, time.Time{}), nil)
	})
	got, err := s.BattleGet(ctx(t), app, "b1")
	wantErr(t, "BattleGet", err, nil)
	equal(t, "BattleGet(b1)", got, b1, normBattle)
	if _, err := s.BattleGet(ctx(t), app, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BattleGet(nope) error = %v, want ErrNotFound", err)
	}
	rooms, err := s.BattleRoomList(ctx(t), app, "b1")
	wantErr(t, "BattleRoomList", err, nil)
	if len(rooms) != 3 || rooms[0].RoomID != "r1" || rooms[1].RoomID != "r3" || rooms[2].RoomID != "r2" ||
		rooms[1].Owner != "owner-r3" || rooms[2].State != invited || rooms[2].Position != 2 {
		t.Errorf("BattleRoomList(b1) = %+v, want r1, r3, r2 in position order", rooms)
	}
	if rooms, _ := s.BattleRoomList(ctx(t), app, "b2"); rooms != nil {
		t.Errorf("BattleRoomList of a battle without rooms = %+v, want nil", rooms)
	}

	// A battle id is unique per app; a room named twice conflicts and writes nothing.
	err = s.Tx(ctx(t), func(tx store.Tx) error {
		return tx.BattleInsert(ctx(t), newBattle(app, "b1", "r2", store.BattleRunning, at(1)), nil)
	})
	wantErr(t, "BattleInsert(b1 again)", err, store.ErrConflict)
	mustTx(t, s, func(tx store.Tx) error {
		err := tx.BattleInsert(ctx(t), newBattle(app, "b3", "r1", store.BattleRunning, at(1)), battleRooms(app, "b3", nil, "r1", "r1"))
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("BattleInsert with a room twice: %v, want ErrConflict", err)
		}
		return nil
	})
	if _, err := s.BattleGet(ctx(t), app, "b3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a conflicting BattleInsert left battle b3 behind: %v", err)
	}

	// BattleOfRoom: only joined rooms of battles that have not ended.
	if b, err := s.BattleOfRoom(ctx(t), app, "r1"); err != nil || b.ID != "b1" {
		t.Errorf("BattleOfRoom(r1) = %+v, %v, want b1", b, err)
	}
	if _, err := s.BattleOfRoom(ctx(t), app, "r2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BattleOfRoom(r2, only invited) error = %v, want ErrNotFound", err)
	}

	// BattleListOfRoom: invited or joined rooms of battles that have not ended, oldest first.
	mustTx(t, s, func(tx store.Tx) error {
		b4 := newBattle(app, "b4", "r2", store.BattleRunning, time.Time{})
		b4.CreatedAt = at(1)
		return tx.BattleInsert(ctx(t), b4, battleRooms(app, "b4", map[string]store.BattleRoomState{"r2": joined, "r1": store.BattleRoomExited}, "r2", "r1"))
	})
	ofRoom := func(room string) (ids []string) {
		t.Helper()
		bs, err := s.BattleListOfRoom(ctx(t), app, room)
		wantErr(t, "BattleListOfRoom("+room+")", err, nil)
		for _, b := range bs {
			ids = append(ids, b.ID)
		}
		return ids
	}
	if got := ofRoom("r2"); len(got) != 2 || got[0] != "b1" || got[1] != "b4" {
		t.Errorf("BattleListOfRoom(r2) = %v, want b1 (invited), b4 (joined)", got)
	}
	if got := ofRoom("r1"); len(got) != 1 || got[0] != "b1" {
		t.Errorf("BattleListOfRoom(r1) = %v, want b1 (b4: exited)", got)
	}
	if got := ofRoom("r9"); len(got) != 0 {
		t.Errorf("BattleListOfRoom(r9) = %v, want none (b2 ended)", got)
	}
	b4 := newBattle(app, "b4", "r2", store.BattleEnded, time.Time{})
	b4.CreatedAt = at(1)
	mustTx(t, s, func(tx store.Tx) error { return tx.BattleUpdate(ctx(t), b4) })

	// Due battles: earliest first over every app, ended ones and those without a timer left out.
	due, err := s.BattleListDue(ctx(t), at(10), 10)
	wantErr(t, "BattleListDue", err, nil)
	if len(due) != 2 || due[0].App != other || due[1].ID != "b1" {
		t.Errorf("BattleListDue(at 10) = %+v, want b1 of the other app, then b1", due)
	}
	if due, _ := s.BattleListDue(ctx(t), at(9), 10); len(due) != 1 {
		t.Errorf("BattleListDue(at 9) = %+v, want one", due)
	}
	if due, _ := s.BattleListDue(ctx(t), at(10), 1); len(due) != 1 {
		t.Errorf("BattleListDue(limit 1) = %d battles", len(due))
	}

	// Updates: the battle runs, r2 joins with a score, then it ends.
	b1.Status, b1.StartedAt, b1.DueAt = store.BattleRunning, at(3), at(63)
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.BattleUpdate(ctx(t), b1); err != nil {
			return err
		}
		return tx.BattleRoomUpdate(ctx(t), store.BattleRoom{App: app, BattleID: "b1", RoomID: "r2", State: joined, Score: 42})
	})
	got, _ = s.BattleGet(ctx(t), app, "b1")
	equal(t, "BattleGet(b1) after update", got, b1, normBattle)
	if b, err := s.BattleOfRoom(ctx(t), app, "r2"); err != nil || b.ID != "b1" {
		t.Errorf("BattleOfRoom(r2 joined) = %+v, %v", b, err)
	}
	rooms, _ = s.BattleRoomList(ctx(t), app, "b1")
	if rooms[2].Score != 42 || rooms[2].State != joined || rooms[2].Owner != "owner-r2" {
		t.Errorf("r2 after update = %+v", rooms[2])
	}
	b1.Status, b1.EndType, b1.EndedAt, b1.DueAt = store.BattleEnded, 1, at(20), time.Time{}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.BattleUpdate(ctx(t), b1); err != nil {
			return err
		}
		if err := tx.BattleUpdate(ctx(t), newBattle(app, "nope", "r1", store.BattleEnded, time.Time{})); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("BattleUpdate(nope) error = %v, want ErrNotFound", err)
		}
		if err := tx.BattleRoomUpdate(ctx(t), store.BattleRoom{App: app, BattleID: "b1", RoomID: "r9"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("BattleRoomUpdate(r9) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	got, _ = s.BattleGet(ctx(t), app, "b1")
	equal(t, "BattleGet(b1) ended", got, b1, normBattle)
	if _, err := s.BattleOfRoom(ctx(t), app, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BattleOfRoom(r1) after the end: %v, want ErrNotFound", err)
	}
	if due, _ := s.BattleListDue(ctx(t), at(100), 10); len(due) != 1 || due[0].App != other {
		t.Errorf("BattleListDue after the end = %+v, want only the other app's", due)
	}

	// Mix stream configurations: put replaces, they go with their room, battles stay.
	if _, err := s.MixStreamGet(ctx(t), app, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MixStreamGet before a put: %v, want ErrNotFound", err)
	}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.MixStreamPut(ctx(t), store.MixStream{App: app, RoomID: "r1", Config: []byte(`{"a":1}`), UpdatedAt: at(1)}); err != nil {
			return err
		}
		return tx.MixStreamPut(ctx(t), store.MixStream{App: app, RoomID: "r1", Config: []byte(`{"a":2}`), UpdatedAt: at(2), Resumes: 3, ResumedAt: at(4)})
	})
	m, err := s.MixStreamGet(ctx(t), app, "r1")
	wantErr(t, "MixStreamGet", err, nil)
	if string(m.Config) != `{"a":2}` || !m.UpdatedAt.Equal(at(2)) || m.Resumes != 3 || !m.ResumedAt.Equal(at(4)) {
		t.Errorf("MixStreamGet = %+v", m)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	if _, err := s.MixStreamGet(ctx(t), app, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MixStreamGet after RoomDelete: %v, want ErrNotFound", err)
	}
	if rooms, _ := s.BattleRoomList(ctx(t), app, "b1"); len(rooms) != 3 {
		t.Errorf("RoomDelete removed rooms of a battle: %+v", rooms)
	}
}

func normBattle(b store.Battle) store.Battle {
	b.CreatedAt, b.StartedAt, b.EndedAt, b.DueAt = utc(b.CreatedAt), utc(b.StartedAt), utc(b.EndedAt), utc(b.DueAt)
	return b
}

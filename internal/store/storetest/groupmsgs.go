package storetest

import (
	"testing"

	"github.com/roomd/roomd/internal/store"
)

func testGroupMessages(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	mustTx(t, s, func(tx store.Tx) error {
		for i, m := range []struct {
			room   string
			random uint32
			sec    int
		}{{"r1", 7, 0}, {"r1", 8, 1}, {"r1", 7, 2}, {"r2", 9, 3}} {
			if err := tx.MessageInsert(ctx(t), store.Message{App: app, RoomID: m.room, Seq: int64(i + 1), Sender: "u", Time: at(m.sec),
				Body: []byte(`[]`), Random: m.random, MsgID: "id"}); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.MessageFindRandom(ctx(t), app, "r1", 7, at(0))
	wantErr(t, "MessageFindRandom", err, nil)
	if got.Seq != 3 || !sameTime(got.Time, at(2)) || got.Random != 7 {
		t.Errorf("found seq %d at %v, want the newest (3)", got.Seq, got.Time)
	}
	for _, c := range []struct {
		room   string
		random uint32
		sec    int
	}{{"r1", 7, 3}, {"r1", 9, 0}, {"r2", 7, 0}} {
		_, err := s.MessageFindRandom(ctx(t), app, c.room, c.random, at(c.sec))
		wantErr(t, "MessageFindRandom of "+c.room, err, store.ErrNotFound)
	}
	_, err = s.MessageFindRandom(ctx(t), other, "r1", 7, at(0))
	wantErr(t, "MessageFindRandom in the other app", err, store.ErrNotFound)
}

package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of a room's message history (store/messages.go).

func testMessages(t *testing.T, h *Harness) {
	s := twoRooms(t, h)

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
	err := s.Tx(ctx(t), func(tx store.Tx) error { return tx.MessageInsert(ctx(t), msg(1, "dup")) })
	wantErr(t, "MessageInsert of a taken number", err, store.ErrConflict)
	hist, err := s.MessageList(ctx(t), store.MessageListParams{App: app, RoomID: "r1"})
	wantErr(t, "MessageList", err, nil)
	if len(hist) != 2 || hist[0].Seq != 1 || hist[1].Seq != 3 {
		t.Fatalf("MessageList = %+v", hist)
	}
	equal(t, "stored message", hist[1], msg(3, "c"), func(m store.Message) store.Message { m.Time = utc(m.Time); return m })
	if after, err := s.MessageList(ctx(t), store.MessageListParams{App: app, RoomID: "r1", AfterSeq: 1, Limit: 1}); err != nil || len(after) != 1 || after[0].Seq != 3 {
		t.Errorf("MessageList after 1 = %+v, %v", after, err)
	}

	// Deleting a room deletes its history; its numbers start again.
	recreateR1(t, s)
	if h, err := s.MessageList(ctx(t), store.MessageListParams{App: app, RoomID: "r1"}); err != nil || len(h) != 0 {
		t.Errorf("history survived the room: %+v (%v)", h, err)
	}
	mustTx(t, s, func(tx store.Tx) error {
		n, err := tx.MessageNextSeq(ctx(t), app, "r1")
		if err == nil && n != 1 {
			return errors.New("the numbers of a recreated room do not start at 1")
		}
		return err
	})
}

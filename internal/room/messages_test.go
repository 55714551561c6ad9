package room_test

import (
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/webhook"
)

func TestSendMessages(t *testing.T) {
	f := setup(t)
	res, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u1", Text: "hello", ExtensionInfo: `{"k":1}`})
	if err != nil {
		t.Fatal(err)
	}
	if res.MsgSeq != 1 || res.MsgTime != f.now.Unix() {
		t.Errorf("result %+v", res)
	}
	evs := f.wantEvents(webhook.AfterSendMsg)
	if len(evs) == 1 {
		var b webhook.AfterSendMsgBody
		f.body(evs[0], &b)
		if b.From_Account != "u1" || b.MsgSeq != 1 || b.CloudCustomData != `{"k":1}` || !strings.Contains(string(b.MsgBody), `"Text":"hello"`) {
			t.Errorf("callback %s", evs[0].Body)
		}
	}
	// A custom message without a sender is the operator's.
	res, err = f.msgs.SendCustom(f.ctx, f.actor, room.CustomMessage{RoomID: testRoom, BusinessID: "gift", Data: "1"})
	if err != nil || res.MsgSeq != 2 {
		t.Fatalf("custom: %+v, %v", res, err)
	}
	f.wantEvents(webhook.AfterSendMsg)
	hist, err := f.msgs.History(f.ctx, testApp, testRoom, 0, 10)
	if err != nil || len(hist) != 2 || hist[1].Sender != testAdmin {
		t.Errorf("history %+v, %v", hist, err)
	}
	if st, err := f.rooms.Stats(f.ctx, testApp, testRoom); err != nil || st.TotalMsgCount != 2 {
		t.Errorf("stats %+v, %v", st, err)
	}

	send := func(sender, text string) error {
		_, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: sender, Text: text})
		return err
	}
	wantErr(t, send("ghost", "hi"), room.ErrAccountNotImported, errcode.AccountNotImported)
	wantInvalid(t, send("", "hi"), "Sender_Account")
	wantInvalid(t, send("u1", ""), "TextContent")
	wantInvalid(t, send("u1", strings.Repeat("x", room.MaxMsgContentBytes+1)), "TextContent")
	_, err = f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: "nope", Sender: "u1", Text: "hi"})
	wantErr(t, err, room.ErrRoomNotFound, errcode.RoomNotFound)
	_, err = f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u1", Text: "hi", ExtensionInfo: "not json"})
	wantInvalid(t, err, "ExtensionInfo")
	_, err = f.msgs.SendCustom(f.ctx, f.actor, room.CustomMessage{RoomID: testRoom, Data: "1"})
	wantInvalid(t, err, "BusinessId")
	f.wantEvents()
}

// TestMessagesDisabled pins who may still send when a room's IsMessageDisabled is on: its
// owner, its admins and App admins; anyone else gets 10017.
func TestMessagesDisabled(t *testing.T) {
	f := setup(t)
	on := true
	if err := f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: testRoom, IsMessageDisabled: &on}); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.ModifyAdmin(f.ctx, f.actor, testRoom, []string{"u2"}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	send := func(sender string) error {
		_, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: sender, Text: "hi"})
		return err
	}
	wantErr(t, send("u1"), room.ErrMessagesDisabled, errcode.SenderMuted)
	f.wantEvents()
	for _, sender := range []string{testOwner, "u2", testAdmin} {
		if err := send(sender); err != nil {
			t.Errorf("%s: %v", sender, err)
		}
	}
	f.wantEvents(webhook.AfterSendMsg, webhook.AfterSendMsg, webhook.AfterSendMsg)
}

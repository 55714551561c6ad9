package room_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// recorder is an observer that keeps the events it receives and what the store held for
// the room when each arrived.
type recorder struct {
	f      *fixture
	events []room.Event
	// owners is the room's owner as the store had it when each event arrived.
	owners []string
}

func observe(f *fixture) *recorder {
	r := &recorder{f: f}
	f.rooms.SetObserver(func(ev room.Event) {
		r.events = append(r.events, ev)
		row, err := f.st.RoomGet(f.ctx, testApp, ev.Head().RoomID)
		if err != nil {
			r.owners = append(r.owners, "")
			return
		}
		r.owners = append(r.owners, row.Owner)
	})
	return r
}

// take returns the events received since the last call.
func (r *recorder) take() []room.Event {
	evs := r.events
	r.events, r.owners = nil, nil
	return evs
}

func typeNames(evs []room.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = reflect.TypeOf(ev).Name()
	}
	return out
}

func TestObserverGetsEventsAfterCommitInOrder(t *testing.T) {
	f := setup(t)
	rec := observe(f)
	f.addMember("u1")
	if err := f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, "u1"); err != nil {
		t.Fatal(err)
	}
	// The observer ran after the commit (it read the new owner) and before the call returned.
	if len(rec.owners) != 1 || rec.owners[0] != "u1" {
		t.Fatalf("observer saw owners %v, want [u1] (after commit)", rec.owners)
	}
	name := "renamed"
	steps := []func() error{
		func() error { return f.rooms.Update(f.ctx, f.actor, room.UpdateParams{ID: testRoom, RoomName: &name}) },
		func() error {
			return f.rooms.SetMetadata(f.ctx, f.actor, testRoom, []room.Metadata{{Key: "k", Value: "v"}})
		},
		func() error { return f.rooms.ModifyAdmin(f.ctx, f.actor, testRoom, []string{"u2"}, webhook.AdminAdd) },
		func() error { return f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u3"}, 60) },
		func() error { return f.rooms.DelMetadata(f.ctx, f.actor, testRoom, []string{"k"}) },
		func() error {
			_, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u2", Text: "hi"})
			return err
		},
		func() error { return f.rooms.Ban(f.ctx, f.actor, testRoom, []string{"u3"}, 60, "spam") },
		func() error { _, err := f.rooms.Destroy(f.ctx, f.actor, testRoom); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got := typeNames(rec.take())
	want := []string{"OwnerChanged", "RoomInfoChanged", "MetadataChanged", "AdminsChanged", "MemberMuted", "MetadataChanged", "MessageSent", "RoomDismissed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", got, want)
	}
	// u3 was not in the room: the ban put nobody out, so no UserKicked / MembersOffline.
	f.wantEvents(webhook.AfterChangeOwner, webhook.AfterUpdateRoomInfo, webhook.AfterSetMetadata, webhook.AfterModifyAdmin,
		webhook.AfterDelMetadata, webhook.AfterSendMsg, webhook.AfterDestroyRoom)
}

func TestObserverEventsCarryTheChange(t *testing.T) {
	f := setup(t)
	rec := observe(f)
	f.addMember("u1")
	f.addMember("u3")
	if err := f.rooms.Ban(f.ctx, f.actor, testRoom, []string{"u3", "u1"}, 60, "spam"); err != nil {
		t.Fatal(err)
	}
	evs := rec.take()
	if got := typeNames(evs); fmt.Sprint(got) != "[UserKicked UserKicked MembersOffline]" {
		t.Fatalf("ban published %v", got)
	}
	if k := evs[0].(room.UserKicked); k.UserID != "u3" || k.Reason != "spam" || k.Operator != testAdmin || k.RoomID != testRoom || !k.Time.Equal(f.now) {
		t.Errorf("kick %+v", k)
	}
	if off := evs[2].(room.MembersOffline); fmt.Sprint(off.Users) != "[u3 u1]" || off.Cause != webhook.CauseKicked {
		t.Errorf("offline %+v", off)
	}
	f.wantEvents(webhook.AfterMemberStateChanged)

	if _, err := f.msgs.SendCustom(f.ctx, f.actor, room.CustomMessage{RoomID: testRoom, Sender: "u2", BusinessID: "gift", Data: "rose"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.msgs.SendText(f.ctx, f.actor, room.TextMessage{RoomID: testRoom, Sender: "u2", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	evs = rec.take()
	if len(evs) != 2 {
		t.Fatalf("messages published %v", typeNames(evs))
	}
	if m := evs[0].(room.MessageSent); !m.Custom || m.BusinessID != "gift" || m.Data != "rose" || m.Sender != "u2" || m.Seq != 1 {
		t.Errorf("custom message event %+v", m)
	}
	if m := evs[1].(room.MessageSent); m.Custom || m.Text != "hello" || m.Seq != 2 || m.MsgID == "" {
		t.Errorf("text message event %+v", m)
	}
	f.wantEvents(webhook.AfterSendMsg, webhook.AfterSendMsg)

	if err := f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u2"}, 60); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.Mute(f.ctx, f.actor, testRoom, []string{"u2", "u3"}, 0); err != nil {
		t.Fatal(err)
	}
	evs = rec.take()
	if len(evs) != 2 || evs[0].(room.MemberMuted) != (room.MemberMuted{EventHead: evs[0].Head(), UserID: "u2", Muted: true, Until: f.now.Add(time.Minute)}) ||
		evs[1].(room.MemberMuted) != (room.MemberMuted{EventHead: evs[1].Head(), UserID: "u2"}) {
		t.Errorf("mute and unmute published %+v", evs)
	}
	f.wantEvents() // no callback exists for mutes

	stat, err := f.rooms.Destroy(f.ctx, f.actor, testRoom)
	if err != nil {
		t.Fatal(err)
	}
	evs = rec.take()
	if d, ok := evs[0].(room.RoomDismissed); len(evs) != 1 || !ok || d.BySystem || d.Room.Owner != testOwner || d.Statistic != stat || d.Statistic.TotalMsgCount != 2 {
		t.Errorf("destroy published %+v", evs)
	}
	var b webhook.DestroyRoom
	f.body(f.wantEvents(webhook.AfterDestroyRoom)[0], &b)
	if b.CallbackCommand != webhook.AfterDestroyRoom || b.EventType != webhook.DestroyByUser {
		t.Errorf("destroy callback %+v", b)
	}
}

func TestObserverNotCalledForFailedTx(t *testing.T) {
	f := setup(t)
	rec := observe(f)
	ev := room.OwnerChanged{EventHead: f.rooms.HeadForTest(f.actor, testRoom), From: testOwner, To: "u1"}
	boom := errors.New("boom")
	err := f.st.Tx(f.ctx, func(tx store.Tx) error {
		if err := f.rooms.PublishForTest(f.ctx, tx, f.actor, ev); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx: %v", err)
	}
	if evs := rec.take(); len(evs) != 0 {
		t.Errorf("observer got %v from a rolled back transaction", typeNames(evs))
	}
	f.wantEvents() // the outbox row rolled back too

	// The same publish in a transaction that commits: one callback and one observed event,
	// whose body carries CallbackCommand once, from the outbox.
	if err := f.st.Tx(f.ctx, func(tx store.Tx) error { return f.rooms.PublishForTest(f.ctx, tx, f.actor, ev) }); err != nil {
		t.Fatal(err)
	}
	if evs := rec.take(); len(evs) != 1 || evs[0] != room.Event(ev) {
		t.Errorf("observer got %v", evs)
	}
	var b webhook.ChangeOwner
	f.body(f.wantEvents(webhook.AfterChangeOwner)[0], &b)
	if b.CallbackCommand != webhook.AfterChangeOwner || b.CurrentOwner_Account != "u1" || b.OriginalOwner_Account != testOwner {
		t.Errorf("callback %+v", b)
	}

	// Refused operations publish nothing.
	wantErr(t, f.rooms.ChangeOwner(f.ctx, f.actor, testRoom, "ghost"), room.ErrAccountNotImported, 70107)
	if evs := rec.take(); len(evs) != 0 {
		t.Errorf("observer got %v from a refused change", typeNames(evs))
	}
}
